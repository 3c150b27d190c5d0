using System.Globalization;
using System.Text.Json;

namespace NodeFleet.Simulator.Traces;

/// <summary>
/// Turns a Prometheus range query's answer (the JSON of <c>GET /api/v1/query_range</c>) into a trace, so that a real
/// cluster's workload can be replayed.
/// <para>Each series carries a <c>deployment</c> label and a <c>measure</c> label, one of <c>replicas</c>,
/// <c>cpu_request_millis</c> (per pod), <c>memory_request_mib</c> (per pod) and <c>cpu_use_millis</c> (per pod). Every
/// deployment needs <c>replicas</c> and <c>cpu_request_millis</c>; without <c>memory_request_mib</c> its pods request
/// 256 MiB, without <c>cpu_use_millis</c> they use half their CPU request. Other labels are ignored.</para>
/// <para>Time zero is the earliest sample, the trace has a point at every distinct timestamp of any series and ends at
/// the latest one. Where a series has no sample at a timestamp, its last value carries forward (also across gaps, such
/// as a deleted deployment's); before a deployment's first <c>replicas</c> sample it has 0 replicas, and before the
/// first sample of another of its measures that measure takes the value of that first sample. Replicas are rounded to
/// the nearest whole number, requests up, CPU use to the nearest millicore. Deployments are listed by name.</para>
/// <para>This query against kube-state-metrics and cAdvisor (kubelet) produces such series for the deployments of
/// namespace <c>default</c> (change the three <c>namespace="default"</c> matchers to pick another); run it with a
/// step of 60s, e.g. <c>curl -G http://prometheus:9090/api/v1/query_range --data-urlencode query@query.promql
/// -d start=2026-11-16T00:00:00Z -d end=2026-11-17T00:00:00Z -d step=60s &gt; trace.json</c>. Pods are attributed
/// to their deployment by name (<c>&lt;deployment&gt;-&lt;replica set hash&gt;-&lt;5 characters&gt;</c>); the
/// <c>and on (deployment)</c> keeps only names that are deployments, which drops other pods, such as those of
/// DaemonSets, that the pattern also matches or leaves without a deployment.</para>
/// <code>
///   label_replace(
///     sum by (deployment) (kube_deployment_status_replicas{namespace="default"}),
///     "measure", "replicas", "", "")
/// or
///   label_replace(
///     1000 * avg by (deployment) (
///       label_replace(
///         sum by (pod) (kube_pod_container_resource_requests{namespace="default", resource="cpu"}),
///         "deployment", "$1", "pod", "(.+)-[a-z0-9]+-[a-z0-9]{5}"))
///     and on (deployment) kube_deployment_status_replicas{namespace="default"},
///     "measure", "cpu_request_millis", "", "")
/// or
///   label_replace(
///     avg by (deployment) (
///       label_replace(
///         sum by (pod) (kube_pod_container_resource_requests{namespace="default", resource="memory"}),
///         "deployment", "$1", "pod", "(.+)-[a-z0-9]+-[a-z0-9]{5}")) / 1048576
///     and on (deployment) kube_deployment_status_replicas{namespace="default"},
///     "measure", "memory_request_mib", "", "")
/// or
///   label_replace(
///     1000 * avg by (deployment) (
///       label_replace(
///         sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="default", container!="", container!="POD"}[5m])),
///         "deployment", "$1", "pod", "(.+)-[a-z0-9]+-[a-z0-9]{5}"))
///     and on (deployment) kube_deployment_status_replicas{namespace="default"},
///     "measure", "cpu_use_millis", "", "")
/// </code>
/// <para>Every error is a <see cref="TraceFormatException"/> whose message starts with the JSON location at fault,
/// e.g. <c>$.data.result[3].metric: no "measure" label</c>.</para>
/// </summary>
public static class PrometheusRangeImport
{
    private const string Replicas = "replicas";
    private const string CpuRequest = "cpu_request_millis";
    private const string MemoryRequest = "memory_request_mib";
    private const string CpuUse = "cpu_use_millis";
    private const long DefaultMemoryRequestMiB = 256;

    // 2^53: beyond it a double no longer holds every whole number, so a value there cannot be read exactly.
    private const double MaxExactWhole = 9007199254740992;

    private static readonly string[] Measures = [Replicas, CpuRequest, MemoryRequest, CpuUse];

    /// <summary>Reads a trace from the JSON of a <c>query_range</c> answer; see the class comment.</summary>
    /// <exception cref="TraceFormatException">The JSON is not such an answer; the message starts with the JSON location at fault.</exception>
    public static Trace Parse(string name, string json)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(json);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new TraceFormatException($"$: malformed JSON: {e.Message}");
        }

        using (document)
        {
            var series = ReadSeries(document.RootElement);
            return Build(name, series);
        }
    }

    /// <summary>Reads a saved <c>query_range</c> answer; the trace is named after the file, without its extension.</summary>
    /// <exception cref="TraceFormatException">The file is not such an answer.</exception>
    public static Trace Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(Path.GetFileNameWithoutExtension(path), File.ReadAllText(path));
    }

    /// <summary>One series' samples, converted to the measure's unit, in time order; times in Unix milliseconds.</summary>
    private sealed record Series(string Deployment, string Measure, IReadOnlyList<(long Time, long Value)> Samples);

    private static List<Series> ReadSeries(JsonElement root)
    {
        RequireKind(root, JsonValueKind.Object, "$");
        var status = RequireString(root, "status", "$");
        if (string.Equals(status, "error", StringComparison.Ordinal))
        {
            var errorType = OptionalString(root, "errorType") ?? "no errorType";
            var error = OptionalString(root, "error") ?? "no error message";
            throw new TraceFormatException($"$.status: \"error\" ({errorType}: {error})");
        }

        if (!string.Equals(status, "success", StringComparison.Ordinal))
        {
            throw new TraceFormatException($"$.status: \"{status}\", expected \"success\"");
        }

        var data = Require(root, "data", "$", JsonValueKind.Object);
        var resultType = RequireString(data, "resultType", "$.data");
        if (!string.Equals(resultType, "matrix", StringComparison.Ordinal))
        {
            throw new TraceFormatException($"$.data.resultType: \"{resultType}\", expected \"matrix\" (the answer of query_range, not query)");
        }

        var result = Require(data, "result", "$.data", JsonValueKind.Array);
        var series = new List<Series>();
        var firstPaths = new Dictionary<(string, string), string>();
        var index = 0;
        foreach (var element in result.EnumerateArray())
        {
            var path = $"$.data.result[{Number(index++)}]";
            RequireKind(element, JsonValueKind.Object, path);
            var one = ReadOneSeries(element, path);
            if (firstPaths.TryGetValue((one.Deployment, one.Measure), out var firstPath))
            {
                throw new TraceFormatException($"{path}.metric: a second \"{one.Measure}\" series for deployment \"{one.Deployment}\" (the first is {firstPath}); aggregate by deployment");
            }

            firstPaths.Add((one.Deployment, one.Measure), path);
            series.Add(one);
        }

        return series;
    }

    private static Series ReadOneSeries(JsonElement element, string path)
    {
        var metric = Require(element, "metric", path, JsonValueKind.Object);
        var deployment = Label(metric, "deployment", $"{path}.metric");
        if (!TraceCsv.IsDeploymentName(deployment))
        {
            throw new TraceFormatException($"{path}.metric.deployment: \"{deployment}\" {TraceCsv.DeploymentNameRule}");
        }

        var measure = Label(metric, "measure", $"{path}.metric");
        if (!Measures.Contains(measure, StringComparer.Ordinal))
        {
            throw new TraceFormatException($"{path}.metric.measure: \"{measure}\", expected one of {string.Join(", ", Measures)}");
        }

        var values = Require(element, "values", path, JsonValueKind.Array);
        var samples = new List<(long Time, long Value)>();
        var index = 0;
        foreach (var pair in values.EnumerateArray())
        {
            var samplePath = $"{path}.values[{Number(index++)}]";
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                || pair[0].ValueKind != JsonValueKind.Number || pair[1].ValueKind != JsonValueKind.String)
            {
                throw new TraceFormatException($"{samplePath}: {Describe(pair)}, expected [<unix seconds>, \"<value>\"]");
            }

            var time = UnixMillis(pair[0], $"{samplePath}[0]");
            if (samples.Count > 0 && time <= samples[^1].Time)
            {
                throw new TraceFormatException($"{samplePath}[0]: {pair[0].GetRawText()} is not after the previous sample's time; samples must be in time order");
            }

            samples.Add((time, Convert(pair[1].GetString()!, measure, $"{samplePath}[1]")));
        }

        if (samples.Count == 0)
        {
            throw new TraceFormatException($"{path}.values: no samples");
        }

        return new Series(deployment, measure, samples);
    }

    private static Trace Build(string name, List<Series> series)
    {
        if (series.Count == 0)
        {
            throw new TraceFormatException("$.data.result: no series; the query matched nothing in the range");
        }

        var deployments = series.GroupBy(s => s.Deployment, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Measures: g.ToDictionary(s => s.Measure, StringComparer.Ordinal)))
            .ToList();
        foreach (var (deployment, measures) in deployments)
        {
            foreach (var required in new[] { Replicas, CpuRequest })
            {
                if (!measures.ContainsKey(required))
                {
                    throw new TraceFormatException($"$.data.result: deployment \"{deployment}\" has no \"{required}\" series (required; {MemoryRequest} and {CpuUse} are optional)");
                }
            }
        }

        var times = series.SelectMany(s => s.Samples.Select(p => p.Time)).Distinct().Order().ToList();
        if (times.Count < 2)
        {
            throw new TraceFormatException("$.data.result: every sample is at one time; a trace needs two distinct times at least (query a range, with a step shorter than it)");
        }

        var start = times[0];
        var points = times.Select(time => new TracePoint(
                TimeSpan.FromMilliseconds(time - start),
                deployments.Select(d => DemandAt(d.Name, d.Measures, time)).ToArray()))
            .ToList();
        return new Trace(name, points, points[^1].At);
    }

    private static DeploymentDemand DemandAt(string deployment, Dictionary<string, Series> measures, long time)
    {
        var cpuRequest = ValueAt(measures[CpuRequest], time);
        return new DeploymentDemand(
            deployment,
            (int)ValueAt(measures[Replicas], time, beforeFirst: 0),
            cpuRequest,
            measures.TryGetValue(MemoryRequest, out var memory) ? ValueAt(memory, time) : DefaultMemoryRequestMiB,
            measures.TryGetValue(CpuUse, out var use) ? ValueAt(use, time) : cpuRequest / 2);
    }

    /// <summary>The value in force at <paramref name="time"/>: the latest sample at or before it, else <paramref name="beforeFirst"/> or the first sample.</summary>
    private static long ValueAt(Series series, long time, long? beforeFirst = null)
    {
        var samples = series.Samples;
        int low = 0, high = samples.Count - 1;
        if (time < samples[0].Time)
        {
            return beforeFirst ?? samples[0].Value;
        }

        while (low < high)
        {
            var mid = (low + high + 1) / 2;
            if (samples[mid].Time <= time)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        return samples[low].Value;
    }

    // Prometheus writes values as Go floats: "12", "0.5", "1e+06", "NaN", "+Inf"; .NET reads all but Go's infinities.
    private static long Convert(string text, string measure, string path)
    {
        var parsed = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value);
        if (text is "+Inf" or "-Inf" || (parsed && !double.IsFinite(value)))
        {
            throw new TraceFormatException($"{path}: \"{text}\" is not a finite number; {measure} needs one");
        }

        if (!parsed)
        {
            throw new TraceFormatException($"{path}: \"{text}\" is not a number");
        }

        var (converted, limit) = measure switch
        {
            Replicas => (Math.Round(value, MidpointRounding.AwayFromZero), int.MaxValue),
            CpuRequest or MemoryRequest => (Math.Ceiling(value), MaxExactWhole),
            _ => (Math.Round(value, MidpointRounding.AwayFromZero), MaxExactWhole),
        };
        var positive = measure is CpuRequest or MemoryRequest;
        if (converted < 0 || (positive && converted == 0))
        {
            throw new TraceFormatException($"{path}: \"{text}\" for {measure}, expected a number {(positive ? "> 0" : "≥ 0")}");
        }

        if (converted > limit)
        {
            throw new TraceFormatException($"{path}: \"{text}\" is too large for {measure}");
        }

        return (long)converted;
    }

    private static long UnixMillis(JsonElement element, string path)
    {
        // Prometheus gives Unix seconds with up to millisecond decimals; rounding to milliseconds keeps them exact.
        var seconds = element.GetDouble();
        if (Math.Abs(seconds) > 1e11)
        {
            throw new TraceFormatException($"{path}: {element.GetRawText()} is not a Unix time in seconds");
        }

        return (long)Math.Round(seconds * 1000, MidpointRounding.AwayFromZero);
    }

    private static string Label(JsonElement metric, string label, string path)
    {
        if (!metric.TryGetProperty(label, out var value))
        {
            throw new TraceFormatException($"{path}: no \"{label}\" label");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new TraceFormatException($"{path}.{label}: {Describe(value)}, expected a string");
        }

        return value.GetString()!;
    }

    private static JsonElement Require(JsonElement parent, string property, string path, JsonValueKind kind)
    {
        if (!parent.TryGetProperty(property, out var value))
        {
            throw new TraceFormatException($"{path}.{property}: missing, expected {Article(kind)}");
        }

        RequireKind(value, kind, $"{path}.{property}");
        return value;
    }

    private static string RequireString(JsonElement parent, string property, string path) =>
        Require(parent, property, path, JsonValueKind.String).GetString()!;

    private static string? OptionalString(JsonElement parent, string property) =>
        parent.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static void RequireKind(JsonElement element, JsonValueKind kind, string path)
    {
        if (element.ValueKind != kind)
        {
            throw new TraceFormatException($"{path}: {Describe(element)}, expected {Article(kind)}");
        }
    }

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => $"an array of {Number(element.GetArrayLength())}",
        _ => element.GetRawText(),
    };

    private static string Article(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "a string",
    };

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
