using System.Globalization;
using System.Text.Json;
using NodeFleet.Core.Settings;
using NodeFleet.Simulator;
using NodeFleet.Simulator.Simulation;
using NodeFleet.Simulator.Traces;

// scripts/simulate: see Usage below and the README's "Simulator" section.
const string Usage = """
usage: scripts/simulate [--trace NAME|FILE[@CONDITION]]... [--settings FILE] [--out DIR] [--seed N | --seeds N,N,...]
                        [--sweep SETTING=V1,V2,...|SETTING=FROM:TO:STEP] [--interruptions PER_NODE_DAY]
                        [--boot-delay DURATION] [--boot-spread DURATION] [--on-demand-price USD] [--spot-price USD] [--verbose]
                        [--detection fast-path|schedule] [--lease launch|booting] [--schedule-offset DURATION]
                        [--group-wait DURATION] [--group-interval DURATION] [--repeat-interval DURATION] [--delivery-delay DURATION]
                        [--no-before] [--no-scenarios]
  --trace          a built-in trace (ramp, flash-sale, sustained, diurnal-week, flash-sale-two-waves, batch-bursts, random-jobs,
                   nightly-batch, memory-bound, tiny-pods), a scenario (pending-hour-at-max, pending-hour-unplaceable, quiet-hour),
                   a CSV trace file, or a Prometheus query_range JSON export (*.json), each optionally under a condition:
                   NAME@slow-boots (boots of 240 s on average, σ 50 s) or NAME@spot-storm (6 spot interruptions per spot node
                   per day); repeat for several. Default: the suite, every built-in trace as given, @slow-boots and @spot-storm.
                   A condition sets only its own options, over the command line's: --boot-delay shapes the other conditions,
                   not slow-boots; --interruptions the other conditions, not spot-storm.
  --settings       a JSON file of NodeFleet settings: cdk.json (its "nodefleet:*" context) or {"minNodes": "2", ...}
  --out            where results.json and one SVG per trace and condition go (default .artifacts/simulation)
  --seed           random seed for boot delays, interruptions and phases (default 42)
  --seeds          run everything at each of these seeds (e.g. 42,7,99); the tables come one block per seed
  --sweep          run NodeFleet (and the oracle) over the selected traces at each value of one setting, any key --settings
                   takes, as it parses it: headroom=0%,25%,50% or a range scaleDownCooldown=1m:5m:1m (percentages, numbers or
                   durations); prints per value, summed over the runs, node-hours vs the oracle, pending pod-minutes, the worst
                   p95 wait and scale actions, and writes sweep.json and sweep.svg (waiting against node-hours) instead of the rest
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
Per trace and condition, the table has NodeFleet as configured ("nodefleet"), NodeFleet before issue 13 ("nodefleet-before"),
the seed, the oracle and the reactive bound; then the goals, each wave's waits (traces with waves), executions per hour by
trigger, and the scenarios.
Progress goes to stderr: rewritten in place on a terminal, one line per run when stderr is a file or a pipe.
""";

var traces = new List<string>();
string? settingsFile = null;
string? sweepSpec = null;
var seeds = new List<int>();
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
            case "--seeds": seeds = Seeds(Value()); break;
            case "--sweep": sweepSpec = Value(); break;
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

    var commandLine = options;
    var fileValues = settingsFile is null ? new Dictionary<string, string>() : SettingsFile.Read(settingsFile);
    if (settingsFile is not null)
    {
        options = SettingsFile.Apply(fileValues, commandLine, settingsFile);
    }

    if (seeds.Count == 0)
    {
        seeds.Add(options.RandomSeed);
    }

    // Every value of a sweep is applied before anything runs: a bad one stops here, with nothing written.
    var sweep = sweepSpec is null ? null : Sweep.Parse(sweepSpec);
    var sweepOptions = sweep?.Values.Select(value => (Value: value, Options: SweepValue(sweep.Setting, value))).ToList();
    var entries = traces.Count == 0
        ? BuiltInTraces.Names.Select(BuiltInTraces.Get).SelectMany(trace => RunConditions.All.Select(condition => new SuiteEntry(trace, condition))).ToList()
        : traces.Select(LoadEntry).ToList();
    var progress = new ProgressLog(Console.Error, interactive: !Console.IsErrorRedirected);
    var wallClock = System.Diagnostics.Stopwatch.StartNew();
    Directory.CreateDirectory(outDir);
    if (sweep is not null)
    {
        var points = new List<SweepPoint>();
        foreach (var (value, valueOptions) in sweepOptions!)
        {
            var nodeFleet = new List<RunResult>();
            var oracle = new List<RunResult>();
            foreach (var entry in entries)
            {
                foreach (var seed in seeds)
                {
                    var runOptions = entry.Condition.Apply(valueOptions with { RandomSeed = seed });
                    var run = progress.Start(Invariant($"{sweep.Setting}={value} {entry.Name} seed {seed}"));
                    nodeFleet.Add(SimulationRunner.Run(Named(entry), new NodeFleetStrategy(runOptions, new Random(seed)), runOptions, run.Report));
                    run.Done();
                    oracle.Add(SimulationRunner.Oracle(Named(entry), runOptions));
                }
            }

            points.Add(Sweep.Summarize(value, nodeFleet, oracle));
        }

        await File.WriteAllTextAsync(Path.Combine(outDir, "sweep.json"), Sweep.Json(sweep.Setting, points));
        await File.WriteAllTextAsync(Path.Combine(outDir, "sweep.svg"), Sweep.Svg(sweep.Setting, points));
        Console.WriteLine(Invariant($"{sweep.Setting} over {entries.Count} trace(s) at {seeds.Count} seed(s), each value summed over its runs (oracle: the same runs' perfect-foresight bound)"));
        Console.WriteLine(Sweep.Table(sweep.Setting, points));
        Console.WriteLine(Invariant($"Wrote {Path.Combine(outDir, "sweep.json")} and sweep.svg in {wallClock.Elapsed.TotalSeconds:0} s."));
        return 0;
    }

    var results = new List<RunResult>();
    foreach (var entry in entries)
    {
        Console.Error.WriteLine(Invariant($"[simulate] {entry.Name}: {entry.Trace.Duration.TotalHours:0.#} h of load, {entry.Trace.Points.Count} points, {entry.Condition.Description}"));
        foreach (var seed in seeds)
        {
            var seedOptions = entry.Condition.Apply(options with { RandomSeed = seed });
            var runs = new List<RunResult>();
            foreach (var (strategy, strategyOptions) in Strategies(entry.Name, seedOptions, withSeed: true))
            {
                var run = progress.Start(Invariant($"{entry.Name} {strategy.Name} seed {seed}"));
                runs.Add(SimulationRunner.Run(Named(entry), strategy, strategyOptions, run.Report));
                run.Done();
            }

            runs.Add(SimulationRunner.Oracle(Named(entry), seedOptions));
            runs.Add(SimulationRunner.Reactive(Named(entry), seedOptions));
            results.AddRange(runs.Select(r => r with { Seed = seed, Condition = entry.Condition.Name }));
            if (seed == seeds[0])
            {
                await File.WriteAllTextAsync(Path.Combine(outDir, entry.Name + ".svg"), Report.Svg(entry.Name, runs));
            }
        }
    }

    var scenarioResults = !scenarios ? [] : BuiltInTraces.Scenarios.Select(BuiltInTraces.Get)
        .SelectMany(trace => Strategies(trace.Name, options with { RandomSeed = seeds[0] }, withSeed: false)
            .Select(s => SimulationRunner.Run(trace, s.Strategy, s.Options) with { Seed = seeds[0] }))
        .ToList();
    await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), Report.Json(results));
    foreach (var seed in seeds)
    {
        var ofSeed = results.Where(r => r.Seed == seed).ToList();
        Console.WriteLine(Invariant($"=== seed {seed} ==="));
        Console.WriteLine(Report.Table(ofSeed));
        Console.WriteLine("NodeFleet against the goals (wait p95 ≤ one boot delay + 30 s, node-hours ≤ +20 % over the oracle, scale actions ≤ 1.5 × the oracle's changes), and its pending pod-minutes against the seed's and the reactive bound's");
        Console.WriteLine(Report.Goals(ofSeed));
        if (ofSeed.Any(r => r.Waves.Count > 0))
        {
            Console.WriteLine("Waves: each wave's pods that waited, from unschedulable to running");
            Console.WriteLine(Report.Waves(ofSeed));
        }

        Console.WriteLine("NodeFleet's executions by trigger, for the whole run (acted: took the lease and launched, drained or replaced)");
        Console.WriteLine(Report.Executions(ofSeed));
    }

    if (scenarioResults.Count > 0)
    {
        await File.WriteAllTextAsync(Path.Combine(outDir, "scenarios.json"), Report.Json(scenarioResults));
        Console.WriteLine(Invariant($"Scenarios, one hour each (seed {seeds[0]}): executions by trigger while pods stay pending, and in a quiet hour"));
        Console.WriteLine(Report.Executions(scenarioResults));
    }

    Console.WriteLine(Invariant($"Wrote {Path.Combine(outDir, "results.json")}{(scenarioResults.Count > 0 ? " and scenarios.json" : "")} and one SVG per trace and condition ({entries.Count} trace(s) and condition(s) at {seeds.Count} seed(s), in {wallClock.Elapsed.TotalSeconds:0} s)."));
    return 0;

    // NodeFleet as configured, NodeFleet before issue 13 (unless --no-before), and the seed.
    IEnumerable<(IScalingStrategy Strategy, SimulationOptions Options)> Strategies(string traceName, SimulationOptions runOptions, bool withSeed)
    {
        yield return (new NodeFleetStrategy(runOptions, new Random(runOptions.RandomSeed)) { Log = verbose ? line => Console.Error.WriteLine($"[nodefleet] {traceName} {line}") : null }, runOptions);
        if (before)
        {
            var old = runOptions.Before();
            yield return (new NodeFleetStrategy(old, new Random(old.RandomSeed)) { Name = "nodefleet-before", Log = verbose ? line => Console.Error.WriteLine($"[nodefleet-before] {traceName} {line}") : null }, old);
        }

        if (withSeed)
        {
            yield return (new SeedStrategy(runOptions, new Random(runOptions.RandomSeed)), runOptions);
        }
    }

    // The command line's options with the settings file's values and the swept setting at this value, parsed as --settings parses them.
    SimulationOptions SweepValue(string setting, string value)
    {
        var source = $"--sweep {setting}={value}";
        try
        {
            return SettingsFile.Apply(new Dictionary<string, string>(fileValues, StringComparer.Ordinal) { [setting] = value }, commandLine, source);
        }
        catch (FormatException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new FormatException($"{source}: {e.Message}", e);
        }
    }
}
catch (Exception e) when (e is ArgumentException or FormatException or TraceFormatException or InvalidSettingsException or IOException or JsonException)
{
    Console.Error.WriteLine($"simulate: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

// The trace as the suite names it (TRACE@CONDITION), so its rows and chart carry the condition.
static Trace Named(SuiteEntry entry) => entry.Trace with { Name = entry.Name };

static SuiteEntry LoadEntry(string text)
{
    var (trace, condition) = RunConditions.Split(text, File.Exists);
    return new SuiteEntry(LoadTrace(trace), condition);
}

static List<int> Seeds(string text)
{
    var seeds = text.Split(',', StringSplitOptions.TrimEntries).Select(s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed) ? seed : (int?)null).ToList();
    return seeds.Count > 0 && seeds.All(s => s is not null) && seeds.Distinct().Count() == seeds.Count
        ? seeds.Select(s => s!.Value).ToList()
        : throw new ArgumentException($"--seeds '{text}' is not a comma-separated list of distinct whole numbers (e.g. 42,7,99)");
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
