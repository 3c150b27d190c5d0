using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator.Traces;

/// <summary>
/// A condition the cloud imposes on a run, whatever the workload: it sets a few <see cref="SimulationOptions"/> and
/// leaves the rest as the command line gave them (so <c>--boot-delay</c> shapes the normal condition and the spot
/// storm, and slow boots are 240 s whatever it says).
/// </summary>
public sealed record RunCondition(string Name, string Description, Func<SimulationOptions, SimulationOptions> Apply);

/// <summary>A workload under a condition: one entry of the suite, called <c>TRACE</c> or <c>TRACE@CONDITION</c>.</summary>
public sealed record SuiteEntry(Trace Trace, RunCondition Condition)
{
    /// <summary>The name <c>--trace</c> takes back, and the name of the entry's rows and SVG.</summary>
    public string Name => Condition == RunConditions.Normal ? Trace.Name : $"{Trace.Name}@{Condition.Name}";
}

/// <summary>The conditions every built-in workload runs under by default: as given, slow boots and a spot interruption storm.</summary>
public static class RunConditions
{
    /// <summary>The options as given.</summary>
    public static RunCondition Normal { get; } = new("normal", "the options as given", options => options);

    /// <summary>Boots of 240 s on average (σ 50 s, the default's spread scaled with the mean): a large AMI, a slow region, a cold cache.</summary>
    public static RunCondition SlowBoots { get; } = new(
        "slow-boots",
        "boots of 240 s on average (σ 50 s)",
        options => options with { BootDelayMean = TimeSpan.FromSeconds(240), BootDelaySpread = TimeSpan.FromSeconds(50) });

    /// <summary>Six interruptions per spot node per day, each with its two-minute warning: a spot market in turmoil.</summary>
    public static RunCondition SpotStorm { get; } = new(
        "spot-storm",
        "6 spot interruptions per spot node per day",
        options => options with { SpotInterruptionsPerNodeDay = 6 });

    /// <summary>Every condition, in the order the suite runs them.</summary>
    public static IReadOnlyList<RunCondition> All { get; } = [Normal, SlowBoots, SpotStorm];

    /// <summary>The condition called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No condition has that name (the message lists those there are).</exception>
    public static RunCondition Get(string name) =>
        All.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"unknown condition \"{name}\"; known conditions: {string.Join(", ", All.Select(c => c.Name))}");

    /// <summary>
    /// Splits <c>TRACE@CONDITION</c> into the trace (a built-in name or a file) and its condition; without <c>@</c>,
    /// or when the whole text names an existing file, the condition is <see cref="Normal"/>.
    /// </summary>
    public static (string Trace, RunCondition Condition) Split(string text, Func<string, bool> exists)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(exists);
        var at = text.LastIndexOf('@');
        return at < 0 || exists(text) ? (text, Normal) : (text[..at], Get(text[(at + 1)..]));
    }
}
