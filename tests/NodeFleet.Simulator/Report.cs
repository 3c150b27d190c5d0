using System.Globalization;
using System.Text;
using System.Text.Json;
using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator;

/// <summary>The simulator's outputs: a text table, the same as JSON, and one SVG chart per trace.</summary>
public static class Report
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Table(IReadOnlyList<RunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.AppendLine(Invariant($"{"trace",-32} {"policy",-16} {"node-hours",10} {"cost $",8} {"pending pod-min",15} {"wait p50 s",10} {"wait p95 s",10} {"actions",7} {"replaced",8}"));
        foreach (var r in results)
        {
            text.AppendLine(Invariant($"{r.Trace,-32} {r.Policy,-16} {r.NodeHours,10:0.0} {r.CostUsd,8:0.00} {r.PendingPodMinutes,15:0.0} {r.WaitP50Seconds,10:0} {r.WaitP95Seconds,10:0} {r.ScaleActions,7} {r.Replacements,8}"));
        }

        return text.ToString();
    }

    /// <summary>Each wave of the traces that have waves: its pods that waited, their pending pod-seconds and waits.</summary>
    public static string Waves(IReadOnlyList<RunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.AppendLine(Invariant($"{"trace",-32} {"policy",-16} {"wave",-8} {"pods",5} {"pending pod-s",13} {"wait p50 s",10} {"wait p95 s",10}"));
        foreach (var r in results.Where(r => r.Policy != "oracle"))
        {
            foreach (var w in r.Waves)
            {
                text.AppendLine(Invariant($"{r.Trace,-32} {r.Policy,-16} {w.Wave,-8} {w.Pods,5} {w.PendingPodSeconds,13:0} {w.WaitP50Seconds,10:0} {w.WaitP95Seconds,10:0}"));
            }
        }

        return text.ToString();
    }

    /// <summary>NodeFleet's executions per hour by trigger: started, acted (took the lease and changed the fleet), stopped by a held lease.</summary>
    public static string Executions(IReadOnlyList<RunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.AppendLine(Invariant($"{"trace",-32} {"policy",-16} {"trigger",-12} {"started/h",9} {"acted/h",8} {"lease held/h",12} {"started",8} {"acted",6}"));
        foreach (var r in results.Where(r => r.Executions.Count > 0))
        {
            foreach (var e in r.Executions)
            {
                text.AppendLine(Invariant($"{r.Trace,-32} {r.Policy,-16} {e.Trigger,-12} {e.Started / r.Hours,9:0.0} {e.Acted / r.Hours,8:0.00} {e.LeaseHeld / r.Hours,12:0.00} {e.Started,8} {e.Acted,6}"));
            }
        }

        return text.ToString();
    }

    /// <summary>The goals' figures, one row per trace and seed with NodeFleet and the oracle: each goal with whether it holds.</summary>
    public static IReadOnlyList<GoalRow> GoalRows(IReadOnlyList<RunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return results.GroupBy(r => (r.Trace, r.Seed)).Select(trace =>
        {
            var ours = trace.FirstOrDefault(r => r.Policy == "nodefleet");
            var oracle = trace.FirstOrDefault(r => r.Policy == "oracle");
            if (ours is null || oracle is null)
            {
                return null;
            }

            double? Share(RunResult? baseline) => baseline is null ? null : ours.PendingPodMinutes == 0 ? 0 : ours.PendingPodMinutes / baseline.PendingPodMinutes;
            return new GoalRow(trace.Key.Trace, ours.WaitP95Seconds, ours.BootDelaySeconds + GoalRow.WaitMarginSeconds, (ours.NodeHours / oracle.NodeHours) - 1,
                ours.ScaleActions, oracle.ScaleActions, Share(trace.FirstOrDefault(r => r.Policy == "seed")), Share(trace.FirstOrDefault(r => r.Policy == "reactive"))) { Seed = trace.Key.Seed };
        }).OfType<GoalRow>().ToList();
    }

    /// <summary>NodeFleet against the issue's goals, per trace: ✓ or ✗ for each; pending pod-minutes beside them against the seed and the reactive bound.</summary>
    public static string Goals(IReadOnlyList<RunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.AppendLine(Invariant($"{"trace",-32} {"wait p95 s (goal)",19} {"node-hours vs oracle",22} {"actions (goal)",16} {"pending vs seed",15} {"pending vs reactive",19}"));
        foreach (var g in GoalRows(results))
        {
            var wait = Invariant($"{g.WaitP95Seconds:0} ({g.WaitGoalSeconds:0}) {Mark(g.WaitHolds)}");
            var hours = Invariant($"{g.NodeHoursOverOracle:+0.0%;-0.0%} (+20%) {Mark(g.NodeHoursHold)}");
            var actions = Invariant($"{g.ScaleActions} ({g.ActionsGoal:0}) {Mark(g.ActionsHold)}");
            text.AppendLine(Invariant($"{g.Trace,-32} {wait,19} {hours,22} {actions,16} {Ratio(g.PendingVsSeed, "P0"),15} {Ratio(g.PendingVsReactive, "0.00×"),19}"));
        }

        return text.ToString();

        static string Mark(bool holds) => holds ? "✓" : "✗";

        // 0 of 0 counts as 0; a share of nothing is infinite; no baseline run prints a dash.
        static string Ratio(double? value, string format) => value switch
        {
            null => "-",
            double.PositiveInfinity => "∞",
            { } v => v.ToString(format, CultureInfo.InvariantCulture),
        };
    }

    /// <summary>The runs (each policy on each trace) and, per trace with NodeFleet and the oracle, the goals (<see cref="GoalRows"/>).</summary>
    public static string Json(IReadOnlyList<RunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var runs = results.Select(r => new
        {
            trace = r.Trace, policy = r.Policy,
            condition = r.Condition, seed = r.Seed,
            nodeHours = Math.Round(r.NodeHours, 3), costUsd = Math.Round(r.CostUsd, 4),
            pendingPodMinutes = Math.Round(r.PendingPodMinutes, 2), waitP50Seconds = r.WaitP50Seconds, waitP95Seconds = r.WaitP95Seconds,
            scaleActions = r.ScaleActions, replacements = r.Replacements, hours = r.Hours, bootDelaySeconds = r.BootDelaySeconds,
            waves = r.Waves.Select(w => new { wave = w.Wave, pods = w.Pods, pendingPodSeconds = Math.Round(w.PendingPodSeconds, 1), waitP50Seconds = w.WaitP50Seconds, waitP95Seconds = w.WaitP95Seconds }),
            executions = r.Executions.Select(e => new { trigger = e.Trigger, started = e.Started, acted = e.Acted, leaseHeld = e.LeaseHeld }),
        });
        var goals = GoalRows(results).Select(g => new
        {
            trace = g.Trace, seed = g.Seed, waitP95Seconds = g.WaitP95Seconds, waitGoalSeconds = g.WaitGoalSeconds, waitHolds = g.WaitHolds,
            nodeHoursOverOracle = Math.Round(g.NodeHoursOverOracle, 4), nodeHoursHold = g.NodeHoursHold,
            scaleActions = g.ScaleActions, oracleChanges = g.OracleChanges, scaleActionsHold = g.ActionsHold,
            pendingVsSeed = Finite(g.PendingVsSeed), pendingVsReactive = Finite(g.PendingVsReactive),
        });
        return JsonSerializer.Serialize(new { runs, goals }, Indented);

        // JSON has no infinity: a share of nothing is written as null, like a missing baseline.
        static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? Math.Round(v, 4) : null;
    }

    /// <summary>Three panels over time: demand (requested cores), nodes, pending pods; one line per policy.</summary>
    public static string Svg(string trace, IReadOnlyList<RunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        const int width = 900, panel = 170, left = 60, top = 30;
        var svg = new StringBuilder();
        svg.AppendLine(Invariant($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + (3 * (panel + 30)) + 30}" font-family="sans-serif" font-size="12">"""));
        svg.AppendLine(Invariant($"""<text x="{left}" y="18" font-size="14">{trace}: demand, nodes and pending pods over time</text>"""));
        var minutes = runs.SelectMany(r => r.Timeline).Select(p => p.Minute).DefaultIfEmpty(1).Max();
        var panels = new (string Title, Func<TimelinePoint, double> Value, bool PerPolicy)[]
        {
            ("requested cores", p => p.DemandCores, false),
            ("worker nodes", p => p.Nodes, true),
            ("pending pods", p => p.PendingPods, true),
        };
        for (var i = 0; i < panels.Length; i++)
        {
            var (title, value, perPolicy) = panels[i];
            var y0 = top + (i * (panel + 30));
            var shown = perPolicy ? runs : runs.Take(1).ToList();
            var max = Math.Max(1, shown.SelectMany(r => r.Timeline).Select(value).DefaultIfEmpty(1).Max());
            svg.AppendLine(Invariant($"""<rect x="{left}" y="{y0}" width="{width - left - 20}" height="{panel}" fill="none" stroke="#ccc"/>"""));
            svg.AppendLine(Invariant($"""<text x="{left + 5}" y="{y0 + 14}">{title} (max {max:0.#})</text>"""));
            svg.AppendLine(Invariant($"""<text x="{left - 5}" y="{y0 + panel}" text-anchor="end">0</text><text x="{left - 5}" y="{y0 + 10}" text-anchor="end">{max:0.#}</text>"""));
            for (var r = 0; r < shown.Count; r++)
            {
                var points = string.Join(' ', shown[r].Timeline.Select(p => Invariant($"{left + ((width - left - 20) * p.Minute / minutes):0.#},{y0 + panel - (panel * value(p) / max):0.#}")));
                svg.AppendLine(Invariant($"""<polyline fill="none" stroke="{(perPolicy ? Colors[r % Colors.Length] : "#555")}" stroke-width="1.3" points="{points}"/>"""));
            }
        }

        var legendY = top + (3 * (panel + 30)) + 10;
        for (var r = 0; r < runs.Count; r++)
        {
            svg.AppendLine(Invariant($"""<rect x="{left + (r * 140)}" y="{legendY - 10}" width="12" height="12" fill="{Colors[r % Colors.Length]}"/><text x="{left + (r * 140) + 16}" y="{legendY}">{runs[r].Policy}</text>"""));
        }

        svg.AppendLine(Invariant($"""<text x="{width - 20}" y="{legendY}" text-anchor="end">{minutes / 60:0.#} h</text>"""));
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The issue's goals on one trace (default settings): NodeFleet's p95 wait at most one boot delay plus 30 s, its node-hours
/// at most 20 % over the oracle's, its scale actions at most 1.5 times the oracle's changes; beside them its pending
/// pod-minutes as a share of the seed's and of the reactive bound's (null: that run is missing).
/// </summary>
public sealed record GoalRow(string Trace, double WaitP95Seconds, double WaitGoalSeconds, double NodeHoursOverOracle, int ScaleActions, int OracleChanges, double? PendingVsSeed, double? PendingVsReactive)
{
    /// <summary>The run's random seed: the goals hold per trace and seed.</summary>
    public int Seed { get; init; }

    public const double WaitMarginSeconds = 30;
    public const double NodeHoursMargin = 0.20;
    public const double ActionsFactor = 1.5;

    public double ActionsGoal => ActionsFactor * OracleChanges;
    public bool WaitHolds => WaitP95Seconds <= WaitGoalSeconds;
    public bool NodeHoursHold => NodeHoursOverOracle <= NodeHoursMargin;
    public bool ActionsHold => ScaleActions <= ActionsGoal;
}
