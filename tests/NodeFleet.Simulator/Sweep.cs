using System.Globalization;
using System.Text;
using System.Text.Json;
using NodeFleet.Core.Settings;
using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator;

/// <summary>One setting and the values <c>--sweep</c> runs it at, as written (the settings file's parsers read them).</summary>
public sealed record SweepPlan(string Setting, IReadOnlyList<string> Values);

/// <summary>
/// What one value of the swept setting gave, summed over every run (trace, condition and seed): NodeFleet's node-hours
/// and the oracle's, pending pod-minutes, the worst run's p95 wait and scale actions.
/// </summary>
public sealed record SweepPoint(string Value, int Runs, double NodeHours, double OracleNodeHours, double PendingPodMinutes, double WorstWaitP95Seconds, int ScaleActions)
{
    /// <summary>Node-hours over the oracle's, as a fraction (0.12: 12 % over).</summary>
    public double OverOracle => OracleNodeHours == 0 ? 0 : (NodeHours / OracleNodeHours) - 1;
}

/// <summary><c>--sweep SETTING=V1,V2,...</c> or <c>SETTING=FROM:TO:STEP</c>: one setting at several values, and the trade-off between waiting and node-hours.</summary>
public static class Sweep
{
    /// <summary>More values than this is a typo in the step, not a sweep.</summary>
    public const int MaxValues = 50;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Reads <paramref name="spec"/>. The setting must be one a settings file may set (<see cref="SettingsFile.Known"/>);
    /// a range's bounds and step are all percentages (<c>0%:50%:10%</c>), all plain numbers (<c>1:4:1</c>) or all
    /// durations (<c>1m:5m:1m</c>), and each value is written back in the same form. Whether a value suits the setting
    /// is the settings file's to say, when it is applied.
    /// </summary>
    /// <exception cref="ArgumentException">The spec is malformed or names an unknown setting.</exception>
    public static SweepPlan Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var equals = spec.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == spec.Length - 1)
        {
            throw new ArgumentException($"--sweep '{spec}' is not SETTING=V1,V2,... or SETTING=FROM:TO:STEP");
        }

        var setting = spec[..equals].Trim();
        if (!SettingsFile.Known.Contains(setting))
        {
            throw new ArgumentException($"--sweep: unknown setting '{setting}'; known: {string.Join(", ", SettingsFile.Known.Order(StringComparer.Ordinal))}");
        }

        var text = spec[(equals + 1)..];
        var values = text.Contains(':', StringComparison.Ordinal) ? Range(setting, text) : text.Split(',', StringSplitOptions.TrimEntries).ToList();
        if (values.Any(v => v.Length == 0))
        {
            throw new ArgumentException($"--sweep {setting}: '{text}' has an empty value");
        }

        return values.Count <= MaxValues ? new SweepPlan(setting, values) : throw new ArgumentException($"--sweep {setting}: {values.Count} values, more than {MaxValues}");
    }

    private static List<string> Range(string setting, string text)
    {
        var parts = text.Split(':', StringSplitOptions.TrimEntries);
        if (parts.Length != 3)
        {
            throw new ArgumentException($"--sweep {setting}: '{text}' is not FROM:TO:STEP");
        }

        if (parts.Any(p => p.EndsWith('%')) && !parts.All(p => p.EndsWith('%')))
        {
            throw new ArgumentException($"--sweep {setting}: '{text}' mixes percentages with other values; write all three as percentages (0%:50%:10%)");
        }

        (Func<string, double> Read, Func<double, string> Write) form =
            parts.All(p => p.EndsWith('%'))
                ? (p => SettingValue.Number(p[..^1]), v => Invariant($"{v:0.###}%"))
                : parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    ? (SettingValue.Number, v => Invariant($"{v:0.###}"))
                    : (p => SettingValue.Duration(p).TotalSeconds, v => SettingValue.FormatDuration(TimeSpan.FromSeconds(v)));
        double from, to, step;
        try
        {
            (from, to, step) = (form.Read(parts[0]), form.Read(parts[1]), form.Read(parts[2]));
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"--sweep {setting}: '{text}': {e.Message} (the three must be all percentages, all numbers or all durations)", e);
        }

        if (step <= 0 || to < from)
        {
            throw new ArgumentException($"--sweep {setting}: '{text}' needs FROM ≤ TO and a positive STEP");
        }

        var count = (long)Math.Floor(((to - from) / step) + 1e-9) + 1;
        return count <= MaxValues
            ? Enumerable.Range(0, (int)count).Select(i => form.Write(Math.Round(from + (i * step), 9))).ToList()
            : throw new ArgumentException($"--sweep {setting}: '{text}' gives {count} values, more than {MaxValues}");
    }

    /// <summary>Sums one value's runs: NodeFleet's rows and the oracle's for the same traces, conditions and seeds.</summary>
    public static SweepPoint Summarize(string value, IReadOnlyList<RunResult> nodeFleet, IReadOnlyList<RunResult> oracle)
    {
        ArgumentNullException.ThrowIfNull(nodeFleet);
        ArgumentNullException.ThrowIfNull(oracle);
        return new SweepPoint(
            value,
            nodeFleet.Count,
            nodeFleet.Sum(r => r.NodeHours),
            oracle.Sum(r => r.NodeHours),
            nodeFleet.Sum(r => r.PendingPodMinutes),
            nodeFleet.Select(r => r.WaitP95Seconds).DefaultIfEmpty(0).Max(),
            nodeFleet.Sum(r => r.ScaleActions));
    }

    public static string Table(string setting, IReadOnlyList<SweepPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var text = new StringBuilder();
        text.AppendLine(Invariant($"{setting,-20} {"runs",5} {"node-hours",10} {"vs oracle",9} {"pending pod-min",15} {"worst wait p95 s",16} {"actions",7}"));
        foreach (var p in points)
        {
            text.AppendLine(Invariant($"{p.Value,-20} {p.Runs,5} {p.NodeHours,10:0.0} {p.OverOracle,9:+0.0%;-0.0%} {p.PendingPodMinutes,15:0.0} {p.WorstWaitP95Seconds,16:0} {p.ScaleActions,7}"));
        }

        return text.ToString();
    }

    public static string Json(string setting, IReadOnlyList<SweepPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        return JsonSerializer.Serialize(
            new
            {
                setting,
                points = points.Select(p => new
                {
                    value = p.Value, runs = p.Runs, nodeHours = Math.Round(p.NodeHours, 3), oracleNodeHours = Math.Round(p.OracleNodeHours, 3),
                    overOracle = Math.Round(p.OverOracle, 4), pendingPodMinutes = Math.Round(p.PendingPodMinutes, 2),
                    worstWaitP95Seconds = p.WorstWaitP95Seconds, scaleActions = p.ScaleActions,
                }),
            },
            Indented);
    }

    /// <summary>One plot: pending pod-minutes (up) against node-hours over the oracle (right), one labelled point per value, joined in order.</summary>
    public static string Svg(string setting, IReadOnlyList<SweepPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        const int width = 640, height = 440, left = 70, right = 30, top = 40, bottom = 50;
        var (plotWidth, plotHeight) = (width - left - right, height - top - bottom);
        var xMin = Math.Min(0, points.Select(p => p.OverOracle).DefaultIfEmpty(0).Min());
        var xMax = (Math.Max(0, points.Select(p => p.OverOracle).DefaultIfEmpty(0).Max()) * 1.1) + 0.01;
        var yMax = Math.Max(1, points.Select(p => p.PendingPodMinutes).DefaultIfEmpty(0).Max() * 1.1);
        double X(SweepPoint p) => left + (plotWidth * (p.OverOracle - xMin) / (xMax - xMin));
        double Y(SweepPoint p) => top + plotHeight - (plotHeight * p.PendingPodMinutes / yMax);
        var svg = new StringBuilder();
        svg.AppendLine(Invariant($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"""));
        svg.AppendLine(Invariant($"""<text x="{left}" y="20" font-size="14">{setting}: waiting against node-hours over the oracle, one point per value</text>"""));
        svg.AppendLine(Invariant($"""<rect x="{left}" y="{top}" width="{plotWidth}" height="{plotHeight}" fill="none" stroke="#ccc"/>"""));
        svg.AppendLine(Invariant($"""<text x="{left}" y="{top + plotHeight + 18}" text-anchor="middle">{xMin:+0%;-0%;0%}</text><text x="{left + plotWidth}" y="{top + plotHeight + 18}" text-anchor="middle">{xMax:+0%;-0%;0%}</text>"""));
        svg.AppendLine(Invariant($"""<text x="{left + (plotWidth / 2)}" y="{height - 12}" text-anchor="middle">node-hours over the oracle</text>"""));
        svg.AppendLine(Invariant($"""<text x="{left - 6}" y="{top + plotHeight}" text-anchor="end">0</text><text x="{left - 6}" y="{top + 10}" text-anchor="end">{yMax:0}</text>"""));
        svg.AppendLine(Invariant($"""<text x="16" y="{top + (plotHeight / 2)}" transform="rotate(-90 16 {top + (plotHeight / 2)})" text-anchor="middle">pending pod-minutes</text>"""));
        svg.AppendLine(Invariant($"""<polyline fill="none" stroke="#9ab" stroke-width="1" points="{string.Join(' ', points.Select(p => Invariant($"{X(p):0.#},{Y(p):0.#}")))}"/>"""));
        // Values that gave the same trade-off share one point and one label.
        foreach (var same in points.GroupBy(p => (Math.Round(X(p)), Math.Round(Y(p)))))
        {
            var (x, y) = same.Key;
            var label = System.Security.SecurityElement.Escape(string.Join(", ", same.Select(p => p.Value)));
            svg.AppendLine(Invariant($"""<circle cx="{x:0}" cy="{y:0}" r="4" fill="#1f77b4"/><text x="{x + 7:0}" y="{y - 7:0}">{label}</text>"""));
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
