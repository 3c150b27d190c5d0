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
  --trace          a built-in trace (ramp, flash-sale, sustained, diurnal-week), a CSV trace file,
                   or a Prometheus query_range JSON export (*.json); repeat for several; default: all built-ins
  --settings       a JSON file of NodeFleet settings: cdk.json (its "nodefleet:*" context) or {"minNodes": "2", ...}
  --out            where results.json and one SVG per trace go (default .artifacts/simulation)
  --seed           random seed for boot delays and interruptions (default 42)
  --interruptions  spot interruptions per spot node per day (default 0)
  --boot-delay     mean time from launch to a Ready node (default 90s); --boot-spread its standard deviation (default 20s)
  --on-demand-price, --spot-price
                   USD per worker-hour (defaults: t3.large in us-east-1, 0.0832 and 0.0301)
  --verbose        print every decision NodeFleet acted on, with its time and reason (stderr)
""";

var traces = new List<string>();
string? settingsFile = null;
var outDir = Path.Combine(".artifacts", "simulation");
var options = new SimulationOptions();
var verbose = false;
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
        foreach (var strategy in new IScalingStrategy[] { new NodeFleetStrategy(options, new Random(options.RandomSeed)) { Log = verbose ? line => Console.Error.WriteLine($"[nodefleet] {trace.Name} {line}") : null }, new SeedStrategy(options, new Random(options.RandomSeed)) })
        {
            var started = DateTime.UtcNow;
            runs.Add(SimulationRunner.Run(trace, strategy, options, done => Console.Error.Write(Invariant($"\r[simulate] {trace.Name} {strategy.Name,-9} {done,4:P0}"))));
            Console.Error.WriteLine(Invariant($"\r[simulate] {trace.Name} {strategy.Name,-9} done in {(DateTime.UtcNow - started).TotalSeconds:0.0} s"));
        }

        runs.Add(SimulationRunner.Oracle(trace, options));
        results.AddRange(runs);
        await File.WriteAllTextAsync(Path.Combine(outDir, trace.Name + ".svg"), Report.Svg(trace.Name, runs));
    }

    await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), Report.Json(results));
    Console.WriteLine(Report.Table(results));
    Console.WriteLine("NodeFleet relative to the seed and the oracle (goals: pending ≤ 25 % of the seed's, node-hours ≤ +5 % over the seed and ≤ +15 % over the oracle)");
    Console.WriteLine(Report.Goals(results));
    Console.WriteLine($"Wrote {Path.Combine(outDir, "results.json")} and one SVG per trace.");
    return 0;
}
catch (Exception e) when (e is ArgumentException or FormatException or TraceFormatException or InvalidSettingsException or IOException or JsonException)
{
    Console.Error.WriteLine($"simulate: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

static Trace LoadTrace(string nameOrFile)
{
    if (BuiltInTraces.Names.Contains(nameOrFile))
    {
        return BuiltInTraces.Get(nameOrFile);
    }

    if (!File.Exists(nameOrFile))
    {
        throw new ArgumentException($"'{nameOrFile}' is neither a built-in trace ({string.Join(", ", BuiltInTraces.Names)}) nor a file");
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
