using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using NodeFleet.Core.Errors;

namespace NodeFleet.Cluster.Prometheus;

/// <summary>One series of an instant vector: its labels and value.</summary>
public sealed record Sample(IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.GetValueOrDefault(name) ?? "";
}

/// <summary>Instant queries, named so an error says which query failed.</summary>
public interface IPrometheusQuery
{
    Task<IReadOnlyList<Sample>> QueryAsync(string name, string promql, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>
/// Prometheus' HTTP API (<c>GET /api/v1/query</c>). Unreachable, slow, an HTTP error, a
/// <c>status: error</c> body or a body that is not the documented shape all become
/// <see cref="MetricsUnavailableException"/>, never an empty result read as zero.
/// </summary>
public sealed class PrometheusClient(HttpClient http, Uri baseUrl) : IPrometheusQuery
{
    public async Task<IReadOnlyList<Sample>> QueryAsync(string name, string promql, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var time = (at.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);
        var uri = new Uri(baseUrl, $"api/v1/query?query={Uri.EscapeDataString(promql)}&time={time}");
        JsonDocument body;
        try
        {
            using var response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                body = JsonDocument.Parse(text);
            }
            catch (JsonException) when (!response.IsSuccessStatusCode)
            {
                throw new MetricsUnavailableException($"{name}: Prometheus answered HTTP {(int)response.StatusCode}");
            }
        }
        catch (HttpRequestException e)
        {
            throw new MetricsUnavailableException($"{name}: Prometheus at {baseUrl} could not be reached: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MetricsUnavailableException($"{name}: Prometheus at {baseUrl} did not answer within {http.Timeout.TotalSeconds:0.#} s", e);
        }
        catch (JsonException e)
        {
            throw new MetricsUnavailableException($"{name}: Prometheus answered with a body that is not JSON", e);
        }

        using (body)
        {
            try
            {
                return Read(name, body.RootElement);
            }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or IndexOutOfRangeException or ArgumentException)
            {
                // A member of the wrong JSON type, or one missing: not the API's documented shape.
                throw new MetricsUnavailableException($"{name}: Prometheus answered a body not in the query API's shape ({e.Message})", e);
            }
        }
    }

    private static IReadOnlyList<Sample> Read(string name, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var status))
        {
            throw new MetricsUnavailableException($"{name}: Prometheus answered without a status");
        }

        if (status.GetString() != "success")
        {
            var type = root.TryGetProperty("errorType", out var t) ? t.GetString() : "unknown";
            var error = root.TryGetProperty("error", out var e) ? e.GetString() : "(no message)";
            throw new MetricsUnavailableException($"{name}: Prometheus error {type}: {error}");
        }

        if (!root.TryGetProperty("data", out var data) || data.GetProperty("resultType").GetString() != "vector"
            || !data.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Array)
        {
            throw new MetricsUnavailableException($"{name}: Prometheus did not answer with an instant vector");
        }

        return result.EnumerateArray().Select(series => new Sample(
            series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
            ParseValue(name, series.GetProperty("value")[1].GetString()))).ToList();
    }

    private static double ParseValue(string name, string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : text switch
            {
                "NaN" => double.NaN,
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => throw new MetricsUnavailableException($"{name}: '{text}' is not a sample value"),
            };
}
