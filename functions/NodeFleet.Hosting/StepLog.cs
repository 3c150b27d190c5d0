using System.Text.Json;

namespace NodeFleet.Hosting;

/// <summary>
/// Structured logs: one JSON object per line on stdout, which Lambda ships to CloudWatch Logs.
/// A line may also carry metrics in the CloudWatch Embedded Metric Format, so the same line is
/// a log entry and a set of metric data points (no SDK and no extra call needed).
/// </summary>
public sealed class StepLog(TextWriter output, TimeProvider clock, string step)
{
    public const string MetricNamespace = "NodeFleet";

    public void Info(string message, IReadOnlyDictionary<string, object?>? fields = null) => Write("info", message, fields, null);

    /// <summary>
    /// Writes a log line that is also an EMF document: <paramref name="metrics"/> become data
    /// points in <see cref="MetricNamespace"/> with the <c>Cluster</c> dimension.
    /// </summary>
    public void Metrics(string message, string cluster, IReadOnlyDictionary<string, double> metrics, IReadOnlyDictionary<string, object?>? fields = null) =>
        Write("info", message, fields, (cluster, metrics));

    private void Write(string level, string message, IReadOnlyDictionary<string, object?>? fields, (string Cluster, IReadOnlyDictionary<string, double> Values)? metrics)
    {
        var now = clock.GetUtcNow();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", now);
            json.WriteString("level", level);
            json.WriteString("step", step);
            json.WriteString("message", message);
            foreach (var (key, value) in fields ?? new Dictionary<string, object?>())
            {
                WriteValue(json, key, value);
            }

            if (metrics is { } m)
            {
                json.WriteString("Cluster", m.Cluster);
                foreach (var (name, value) in m.Values)
                {
                    json.WriteNumber(name, value);
                }

                json.WriteStartObject("_aws");
                json.WriteNumber("Timestamp", now.ToUnixTimeMilliseconds());
                json.WriteStartArray("CloudWatchMetrics");
                json.WriteStartObject();
                json.WriteString("Namespace", MetricNamespace);
                json.WriteStartArray("Dimensions");
                json.WriteStartArray();
                json.WriteStringValue("Cluster");
                json.WriteEndArray();
                json.WriteEndArray();
                json.WriteStartArray("Metrics");
                foreach (var name in m.Values.Keys)
                {
                    json.WriteStartObject();
                    json.WriteString("Name", name);
                    json.WriteString("Unit", "Count");
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        // One write per line, so concurrent lines never interleave.
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
    }

    private static void WriteValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(key);
                break;
            case string s:
                json.WriteString(key, s);
                break;
            case bool b:
                json.WriteBoolean(key, b);
                break;
            case int i:
                json.WriteNumber(key, i);
                break;
            case long l:
                json.WriteNumber(key, l);
                break;
            case double d:
                json.WriteNumber(key, d);
                break;
            case DateTimeOffset t:
                json.WriteString(key, t);
                break;
            default:
                json.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
    }
}
