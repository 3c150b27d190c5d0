using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace NodeFleet.ColdStart;

internal sealed record StepFigures(string Step, string Variant, double MedianMs, double MinMs, double MedianInitMs, double MedianInvokeMs, double MedianCpuMs, double MedianJitted, double MedianJitMs, IReadOnlyList<Sample> Samples);

internal sealed record VariantInfo(string Name, string Description, IReadOnlyDictionary<string, bool> ReadyToRun, IReadOnlyDictionary<string, long> PublishBytes);

internal sealed record MachineInfo(string Cpu, int Cores, long MemoryMiB, string Os, string Runtime);

internal sealed record ColdStartReport(DateTimeOffset At, MachineInfo Machine, int Repeat, IReadOnlyList<VariantInfo> Variants, IReadOnlyList<StepFigures> Results);

internal static class Report
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static ColdStartReport Build(IReadOnlyList<Variant> variants, IReadOnlyList<string> steps, Dictionary<(string Variant, string Step), List<Sample>> samples,
        Dictionary<(string Variant, string Step), (bool ReadyToRun, long Bytes)> published, int repeat)
    {
        var results = new List<StepFigures>();
        foreach (var step in steps)
        {
            foreach (var variant in variants)
            {
                var list = samples[(variant.Name, step)];
                results.Add(new StepFigures(step, variant.Name, Median(list.Select(s => s.TotalMs)), list.Min(s => s.TotalMs),
                    Median(list.Select(s => s.InitMs)), Median(list.Select(s => s.InvokeMs)), Median(list.Select(s => s.CpuMs)),
                    Median(list.Select(s => (double)s.JittedMethods)), Median(list.Select(s => s.JitMs)), list));
            }
        }

        var infos = variants.Select(v => new VariantInfo(v.Name, v.Description,
            steps.ToDictionary(s => s, s => published[(v.Name, s)].ReadyToRun), steps.ToDictionary(s => s, s => published[(v.Name, s)].Bytes))).ToList();
        return new ColdStartReport(DateTimeOffset.UtcNow, Machine(), repeat, infos, results);
    }

    /// <summary>
    /// Per step and variant: the median and the fastest of the cold starts (process start to
    /// response), and the medians of the child's own split: loading and constructing the handler
    /// (init), and the first invocation (invoke), the rest being the host starting the runtime;
    /// the CPU time the child used (all threads), the methods it JIT-compiled and the time that
    /// took (what ReadyToRun cuts).
    /// Then each variant against the first, per step and for the whole path.
    /// </summary>
    public static string Table(ColdStartReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"step",-16} {"variant",-11} {"median ms",9} {"min ms",7} {"init ms",8} {"invoke ms",9} {"cpu ms",7} {"jitted",7} {"jit ms",7}");
        foreach (var r in report.Results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{r.Step,-16} {r.Variant,-11} {r.MedianMs,9:0} {r.MinMs,7:0} {r.MedianInitMs,8:0} {r.MedianInvokeMs,9:0} {r.MedianCpuMs,7:0} {r.MedianJitted,7:0} {r.MedianJitMs,7:0}");
        }

        var names = report.Variants.Select(v => v.Name).ToList();
        if (names.Count < 2)
        {
            return text.ToString();
        }

        var first = names[0];
        text.AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"{"median ms",-16}");
        foreach (var name in names)
        {
            text.Append(CultureInfo.InvariantCulture, $" {name,11}");
        }

        foreach (var name in names.Skip(1))
        {
            text.Append(CultureInfo.InvariantCulture, $" {name + "/" + first,18}");
        }

        text.AppendLine();
        var rows = report.Results.GroupBy(r => r.Step).Select(g => (Step: g.Key, Medians: names.Select(n => g.Single(r => r.Variant == n).MedianMs).ToList())).ToList();
        rows.Add(("whole path", names.Select((_, i) => rows.Sum(r => r.Medians[i])).ToList()));
        foreach (var (step, medians) in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"{step,-16}");
            foreach (var median in medians)
            {
                text.Append(CultureInfo.InvariantCulture, $" {median,11:0}");
            }

            foreach (var median in medians.Skip(1))
            {
                text.Append(CultureInfo.InvariantCulture, $" {median / medians[0],18:0.00}");
            }

            text.AppendLine();
        }

        var m = report.Machine;
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{report.Repeat} cold starts per step and variant on {m.Cpu}, {m.Cores} cores, {m.MemoryMiB / 1024.0:0} GiB, {m.Os}, {m.Runtime}");
        return text.ToString();
    }

    public static string Json(ColdStartReport report) => JsonSerializer.Serialize(report, Indented);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static MachineInfo Machine()
    {
        static string Line(string file, string key) =>
            File.Exists(file) ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown" : "unknown";
        var memory = Line("/proc/meminfo", "MemTotal").Split(' ')[0];
        return new MachineInfo(Line("/proc/cpuinfo", "model name"), Environment.ProcessorCount,
            long.TryParse(memory, CultureInfo.InvariantCulture, out var kib) ? kib / 1024 : 0, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription);
    }
}
