using System.Globalization;
using System.Text.Json;
using NodeFleet.Core.Settings;
using NodeFleet.Simulator;
using NodeFleet.Simulator.Simulation;
using NodeFleet.Simulator.Traces;

// scripts/simulate: see Usage below and the README's "Simulator" section.
const string Usage = """
usage: scripts/simulate [--trace NAME|FILE]... [--settings FILE] [--out DIR] [--seed N] [--interruptions PER_NODE_DAY]
                        [--boot-delay DURATION] [--boot-spread DURATION] [--on-demand-price USD] [--spot-price USD] [--verbose]
                        [--detection fast-path|schedule] [--lease launch|booting] [--schedule-offset DURATION]
                        [--group-wait DURATION] [--group-interval DURATION] [--repeat-interval DURATION] [--delivery-delay DURATION]
                        [--no-before] [--no-scenarios]
  --trace          a built-in trace (ramp, flash-sale, sustained, diurnal-week, flash-sale-two-waves), a scenario
                   (pending-hour-at-max, pending-hour-unplaceable, quiet-hour), a CSV trace file,
                   or a Prometheus query_range JSON export (*.json); repeat for several; default: all built-ins
  --settings       a JSON file of NodeFleet settings: cdk.json (its "nodefleet:*" context) or {"minNodes": "2", ...}
  --out            where results.json and one SVG per trace go (default .artifacts/simulation)
  --seed           random seed for boot delays and interruptions (default 42)
  --interruptions  spot interruptions per spot node per day (default 0)
  --boot-delay     mean time from launch to a Ready node (default 90s); --boot-spread its standard deviation (default 20s)
  --on-demand-price, --spot-price
                   USD per worker-hour (defaults: t3.large in us-east-1, 0.0832 and 0.0301)
  --verbose        print every decision NodeFleet acted on, with its time, reason and trigger (stderr)
  --detection      what starts NodeFleet's executions: fast-path (default: the pending-pods alert through Alertmanager,
                   with the schedule as the backstop) or schedule (the schedule alone)
  --lease          launch (default, as built now: LaunchNodes releases the lease, a scale-up for pending pods preempts a
                   drain) or booting (before: a launch holds the lease until its nodes joined)
  --schedule-offset
                   when the first scheduled tick fires after the trace starts (default: drawn within one tick from the seed)
  --group-wait, --group-interval, --repeat-interval
                   Alertmanager's timings (defaults: fastPathGroupWait 1s, fastPathGroupInterval 15s, fastPathRepeatInterval 5m;
                   cdk.json's values with --settings)
  --delivery-delay from Alertmanager's notification to StartExecution through SNS, SQS and the Pipe (default 1s)
  --no-before      do not also run "nodefleet-before" (the schedule alone, the lease held while nodes boot)
  --no-scenarios   do not run the one-hour scenarios that measure executions per hour
Per trace, the table has NodeFleet as configured ("nodefleet"), NodeFleet before issue 13 ("nodefleet-before"),
the seed, the oracle and the reactive bound; then the goals, each wave's waits (traces with waves), executions per hour by trigger, and the scenarios.
""";

var traces = new List<string>();
string? settingsFile = null;
var outDir = Path.Combine(".artifacts", "simulation");
var options = new SimulationOptions();
var verbose = false;
var before = true;
var scenarios = true;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "--trace": traces.Add(Value()); break;
            case "--settings": settingsFile = Value(); break;
            case "--out": outDir = Value(); break;
            case "--seed": options = options with { RandomSeed = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
            case "--interruptions": options = options with { SpotInterruptionsPerNodeDay = double.Parse(Value(), CultureInfo.InvariantCulture) }; break;
            case "--boot-delay": options = options with { BootDelayMean = Positive(SettingValue.Duration(Value()), "--boot-delay") }; break;
            case "--boot-spread": options = options with { BootDelaySpread = SettingValue.Duration(Value()) }; break;
            case "--on-demand-price": options = options with { OnDemandPricePerHour = Price(Value(), "--on-demand-price") }; break;
            case "--spot-price": options = options with { SpotPricePerHour = Price(Value(), "--spot-price") }; break;
            case "--verbose": verbose = true; break;
            case "--detection": options = options with { Detection = Value() switch { "fast-path" => Detection.FastPathAndSchedule, "schedule" => Detection.ScheduleOnly, var v => throw new ArgumentException($"--detection '{v}' is neither fast-path nor schedule") } }; break;
            case "--lease": options = options with { Lease = Value() switch { "launch" => LeaseModel.ReleasedAtLaunch, "booting" => LeaseModel.HeldWhileBooting, var v => throw new ArgumentException($"--lease '{v}' is neither launch nor booting") } }; break;
            case "--schedule-offset": options = options with { ScheduleOffset = SettingValue.Duration(Value()) }; break;
            case "--group-wait": options = options with { FastPathGroupWait = SettingsCatalog.FastPathGroupWait.Parse(Value()) }; break;
            case "--group-interval": options = options with { FastPathGroupInterval = SettingsCatalog.FastPathGroupInterval.Parse(Value()) }; break;
            case "--repeat-interval": options = options with { FastPathRepeatInterval = SettingsCatalog.FastPathRepeatInterval.Parse(Value()) }; break;
            case "--delivery-delay": options = options with { FastPathDeliveryDelay = SettingValue.Duration(Value()) }; break;
            case "--no-before": before = false; break;
            case "--no-scenarios": scenarios = false; break;
            case "--help" or "-h": Console.WriteLine(Usage); return 0;
            default: throw new ArgumentException($"unknown option '{args[i]}'");
        }
    }

    if (settingsFile is not null)
    {
        options = SettingsFile.Apply(settingsFile, options);
    }

    var loaded = (traces.Count == 0 ? BuiltInTraces.Names : traces).Select(LoadTrace).ToList();
    Directory.CreateDirectory(outDir);
    var results = new List<RunResult>();
    foreach (var trace in loaded)
    {
        Console.Error.WriteLine(Invariant($"[simulate] {trace.Name}: {trace.Duration.TotalHours:0.#} h of load, {trace.Points.Count} points"));
        var runs = new List<RunResult>();
        foreach (var (strategy, strategyOptions) in Strategies(trace.Name, withSeed: true))
        {
            var started = DateTime.UtcNow;
            runs.Add(SimulationRunner.Run(trace, strategy, strategyOptions, done => Console.Error.Write(Invariant($"\r[simulate] {trace.Name} {strategy.Name,-16} {done,4:P0}"))));
            Console.Error.WriteLine(Invariant($"\r[simulate] {trace.Name} {strategy.Name,-16} done in {(DateTime.UtcNow - started).TotalSeconds:0.0} s"));
        }

        runs.Add(SimulationRunner.Oracle(trace, options));
        runs.Add(SimulationRunner.Reactive(trace, options));
        results.AddRange(runs);
        await File.WriteAllTextAsync(Path.Combine(outDir, trace.Name + ".svg"), Report.Svg(trace.Name, runs));
    }

    var scenarioResults = !scenarios ? [] : BuiltInTraces.Scenarios.Select(BuiltInTraces.Get)
        .SelectMany(trace => Strategies(trace.Name, withSeed: false).Select(s => SimulationRunner.Run(trace, s.Strategy, s.Options)))
        .ToList();
    await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), Report.Json(results));
    Console.WriteLine(Report.Table(results));
    Console.WriteLine("NodeFleet against the goals (wait p95 ≤ one boot delay + 30 s, node-hours ≤ +20 % over the oracle, scale actions ≤ 1.5 × the oracle's changes), and its pending pod-minutes against the seed's and the reactive bound's");
    Console.WriteLine(Report.Goals(results));
    if (results.Any(r => r.Waves.Count > 0))
    {
        Console.WriteLine("Waves: each wave's pods that waited, from unschedulable to running");
        Console.WriteLine(Report.Waves(results));
    }

    Console.WriteLine("NodeFleet's executions by trigger, for the whole run (acted: took the lease and launched, drained or replaced)");
    Console.WriteLine(Report.Executions(results));
    if (scenarioResults.Count > 0)
    {
        await File.WriteAllTextAsync(Path.Combine(outDir, "scenarios.json"), Report.Json(scenarioResults));
        Console.WriteLine("Scenarios, one hour each: executions by trigger while pods stay pending, and in a quiet hour");
        Console.WriteLine(Report.Executions(scenarioResults));
    }

    Console.WriteLine($"Wrote {Path.Combine(outDir, "results.json")}{(scenarioResults.Count > 0 ? " and scenarios.json" : "")} and one SVG per trace.");
    return 0;

    // NodeFleet as configured, NodeFleet before issue 13 (unless --no-before), and the seed.
    IEnumerable<(IScalingStrategy Strategy, SimulationOptions Options)> Strategies(string traceName, bool withSeed)
    {
        yield return (new NodeFleetStrategy(options, new Random(options.RandomSeed)) { Log = verbose ? line => Console.Error.WriteLine($"[nodefleet] {traceName} {line}") : null }, options);
        if (before)
        {
            var old = options.Before();
            yield return (new NodeFleetStrategy(old, new Random(old.RandomSeed)) { Name = "nodefleet-before", Log = verbose ? line => Console.Error.WriteLine($"[nodefleet-before] {traceName} {line}") : null }, old);
        }

        if (withSeed)
        {
            yield return (new SeedStrategy(options, new Random(options.RandomSeed)), options);
        }
    }
}
catch (Exception e) when (e is ArgumentException or FormatException or TraceFormatException or InvalidSettingsException or IOException or JsonException)
{
    Console.Error.WriteLine($"simulate: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

static Trace LoadTrace(string nameOrFile)
{
    if (BuiltInTraces.Names.Contains(nameOrFile) || BuiltInTraces.Scenarios.Contains(nameOrFile))
    {
        return BuiltInTraces.Get(nameOrFile);
    }

    if (!File.Exists(nameOrFile))
    {
        throw new ArgumentException($"'{nameOrFile}' is neither a built-in trace ({string.Join(", ", BuiltInTraces.Names.Concat(BuiltInTraces.Scenarios))}) nor a file");
    }

    try
    {
        return nameOrFile.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? PrometheusRangeImport.Load(nameOrFile) : TraceCsv.Load(nameOrFile);
    }
    catch (TraceFormatException e)
    {
        throw new TraceFormatException($"{nameOrFile}: {e.Message}");
    }
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

static TimeSpan Positive(TimeSpan value, string option) => value > TimeSpan.Zero ? value : throw new ArgumentException($"{option} must be positive");

static double Price(string value, string option) =>
    double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var price) && price >= 0
        ? price
        : throw new ArgumentException($"{option} '{value}' is not a price in USD per hour (e.g. 0.0832)");
