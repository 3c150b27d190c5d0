using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using NodeFleet.ColdStart;
using NodeFleet.Core.Workflow;
using NodeFleet.Testbed;

// scripts/coldstart: each step's cold start, per publish variant. A cold start is a fresh process
// that loads the step's published assembly the way the Lambda .NET runtime does, builds its
// handler with the parameterless constructor and runs its first invocation against loopback
// backends; it is timed from process start to the response. Progress goes to stderr; the table
// to stdout; the figures to OUT/results.json and each step's last response to OUT/responses/.
var repeat = int.TryParse(Option("--repeat") ?? "7", CultureInfo.InvariantCulture, out var r) ? r : 0;
var names = (Option("--variants") ?? "before,il,r2r").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
var repository = LocalEnvironment.RepositoryRoot;
var outRoot = Path.GetFullPath(Option("--out") ?? Path.Combine(repository, ".artifacts", "coldstart"));
var publish = !args.Contains("--no-publish");
if (repeat < 1 || names.Length == 0)
{
    Console.Error.WriteLine("usage: scripts/coldstart [--repeat N] [--variants " + string.Join(",", Variant.Known) + "] [--out DIR] [--no-publish]");
    return 2;
}

if (names.FirstOrDefault(n => Variant.Named(n, repository, outRoot) is null) is { } unknown)
{
    Console.Error.WriteLine($"coldstart: unknown variant '{unknown}' (known: {string.Join(", ", Variant.Known)})");
    return 2;
}

var variants = names.Select(n => Variant.Named(n, repository, outRoot)!).ToList();

// The path runs every step; a step added to steps.json but not to the path would go unmeasured.
var steps = Paths.Order;
if (!steps.Order().SequenceEqual(StepCatalog.All.Select(s => s.Name).Order()))
{
    Console.Error.WriteLine($"coldstart: the measured path ({string.Join(", ", steps)}) is not the list of steps in functions/steps.json");
    return 1;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; cancel.Cancel(); });
var runner = Path.Combine(repository, "tests", "NodeFleet.ColdStart.Runner", "bin", Configuration(), "net10.0", "NodeFleet.ColdStart.Runner.dll");
var scratch = Path.Combine(outRoot, "scratch");
Directory.CreateDirectory(scratch);
var responses = Path.Combine(outRoot, "responses");
Directory.CreateDirectory(responses);
var published = new Dictionary<(string Variant, string Step), (bool ReadyToRun, long Bytes)>();
var samples = new Dictionary<(string Variant, string Step), List<Sample>>();

try
{
    foreach (var variant in variants)
    {
        if (publish && variant.Shape == RequestShape.WholeState)
        {
            Progress($"extracting {Variant.BeforeCommit[..7]}'s functions into {variant.SourceRoot}");
            await Publishing.ExtractBeforeAsync(repository, variant.SourceRoot, cancel.Token);
        }

        foreach (var step in steps)
        {
            var directory = variant.PublishDirectory(outRoot, step);
            if (publish)
            {
                Progress($"publishing {step} ({variant.Name})");
                await Publishing.PublishAsync(variant, step, directory, cancel.Token);
            }

            var assembly = Path.Combine(directory, StepCatalog.Get(step).Handler.Split("::")[0] + ".dll");
            if (!File.Exists(assembly))
            {
                throw new InvalidOperationException($"{assembly} is missing: publish {variant.Name} first (run without --no-publish)");
            }

            var readyToRun = Publishing.IsReadyToRun(assembly);
            if (readyToRun != variant.Name.StartsWith("r2r", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{assembly} is {(readyToRun ? "" : "not ")}ReadyToRun, which the {variant.Name} variant must {(readyToRun ? "not " : "")}be");
            }

            published[(variant.Name, step)] = (readyToRun, Publishing.SizeBytes(directory));
        }
    }

    Progress("starting moto_server, Prometheus and the emulated cluster");
    await using var bench = new Bench();
    await bench.StartAsync(variants.Select(v => v.Name));

    // Round 0 warms the file cache and checks each variant's path; it is not recorded. The order
    // of the variants rotates every round, so none always runs first after a reset.
    for (var round = 0; round <= repeat; round++)
    {
        for (var v = 0; v < variants.Count; v++)
        {
            var variant = variants[(v + round) % variants.Count];
            var label = round == 0 ? "warm-up" : $"round {round}/{repeat}";
            for (var attempt = 1; ; attempt++)
            {
                await bench.ResetAsync(cancel.Token);
                var path = new Dictionary<string, Sample>();
                var environment = bench.Environment(variant.Name);
                var executionId = $"arn:aws:states:us-east-1:123456789012:execution:nodefleet-{LocalEnvironment.Cluster}:coldstart-{variant.Name}-{round}-{attempt}-{Guid.NewGuid().ToString("N")[..8]}";
                try
                {
                    await Paths.RunAsync(variant.Shape, executionId, bench, async (step, request) =>
                    {
                        var (response, sample) = await Processes.InvokeAsync(runner, variant.PublishDirectory(outRoot, step), StepCatalog.Get(step).Handler, request, environment, scratch, cancel.Token);
                        path[step] = sample;
                        // The last response of each step stays for inspection: what the invocation really did.
                        await File.WriteAllTextAsync(Path.Combine(responses, $"{variant.Name}-{step}.json"), response, cancel.Token);
                        return response;
                    }, cancel.Token);
                }
                catch (NotLaunchingException e) when (attempt < (round == 0 ? 10 : 3))
                {
                    // Right after the start Prometheus may not have the rates yet: the reset waits, then the path runs again.
                    Progress($"{label} {variant.Name}: {e.Message}; again");
                    await Task.Delay(TimeSpan.FromSeconds(3), cancel.Token);
                    continue;
                }

                Progress($"{label} {variant.Name}: " + string.Join("  ", steps.Select(s => $"{s} {path[s].TotalMs:0}")) + " ms");
                if (round > 0)
                {
                    foreach (var (step, sample) in path)
                    {
                        (samples.TryGetValue((variant.Name, step), out var list) ? list : samples[(variant.Name, step)] = []).Add(sample);
                    }
                }

                break;
            }
        }
    }
}
catch (Exception) when (cancel.IsCancellationRequested)
{
    // Ctrl-C reaches the step being timed too: whatever it ended with, the run was stopped.
    Console.Error.WriteLine("coldstart: stopped; every process it started has been stopped");
    return 130;
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or NotLaunchingException)
{
    Console.Error.WriteLine($"coldstart: {e.Message}");
    return 1;
}

var report = Report.Build(variants, steps, samples, published, repeat);
Console.WriteLine(Report.Table(report));
var file = Path.Combine(outRoot, "results.json");
await File.WriteAllTextAsync(file, Report.Json(report));
Progress($"wrote {file}");
return 0;

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

static void Progress(string line) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

static string Configuration() =>
    AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
