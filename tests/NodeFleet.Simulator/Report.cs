using System.Globalization;
using System.Text;
using System.Text.Json;
using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator;

/// <summary>The simulator's outputs: a text table, the same as JSON, and one SVG chart per trace.</summary>
public static class Report
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Table(IReadOnlyList<RunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.AppendLine(Invariant($"{"trace",-20} {"policy",-16} {"node-hours",10} {"cost $",8} {"pending pod-min",15} {"wait p50 s",10} {"wait p95 s",10} {"actions",7}"));
        foreach (var r in results)
        {
            text.AppendLine(Invariant($"{r.Trace,-20} {r.Policy,-16} {r.NodeHours,10:0.0} {r.CostUsd,8:0.00} {r.PendingPodMinutes,15:0.0} {r.WaitP50Seconds,10:0} {r.WaitP95Seconds,10:0} {r.ScaleActions,7}"));
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

    /// <summary>NodeFleet against the seed and the oracle, per trace, as the goals are stated.</summary>
    public static string Goals(IReadOnlyList<RunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.AppendLine(Invariant($"{"trace",-20} {"pending vs seed",15} {"node-hours vs seed",18} {"node-hours vs oracle",20}"));
        foreach (var trace in results.GroupBy(r => r.Trace))
        {
            var ours = trace.FirstOrDefault(r => r.Policy == "nodefleet");
            var seed = trace.FirstOrDefault(r => r.Policy == "seed");
            var oracle = trace.FirstOrDefault(r => r.Policy == "oracle");
            if (ours is null || seed is null || oracle is null)
            {
                continue;
            }

            var pending = seed.PendingPodMinutes == 0 ? (ours.PendingPodMinutes == 0 ? "0 of 0" : "∞") : Invariant($"{ours.PendingPodMinutes / seed.PendingPodMinutes:P0}");
            text.AppendLine(Invariant($"{trace.Key,-20} {pending,15} {ours.NodeHours / seed.NodeHours - 1,18:+0.0%;-0.0%} {ours.NodeHours / oracle.NodeHours - 1,20:+0.0%;-0.0%}"));
        }

        return text.ToString();
    }

    public static string Json(IReadOnlyList<RunResult> results) =>
        JsonSerializer.Serialize(results.Select(r => new
        {
            trace = r.Trace, policy = r.Policy,
            condition = r.Condition, seed = r.Seed,
            nodeHours = Math.Round(r.NodeHours, 3), costUsd = Math.Round(r.CostUsd, 4),
            pendingPodMinutes = Math.Round(r.PendingPodMinutes, 2), waitP50Seconds = r.WaitP50Seconds, waitP95Seconds = r.WaitP95Seconds,
            scaleActions = r.ScaleActions, hours = r.Hours,
            waves = r.Waves.Select(w => new { wave = w.Wave, pods = w.Pods, pendingPodSeconds = Math.Round(w.PendingPodSeconds, 1), waitP50Seconds = w.WaitP50Seconds, waitP95Seconds = w.WaitP95Seconds }),
            executions = r.Executions.Select(e => new { trigger = e.Trigger, started = e.Started, acted = e.Acted, leaseHeld = e.LeaseHeld }),
        }), Indented);

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
