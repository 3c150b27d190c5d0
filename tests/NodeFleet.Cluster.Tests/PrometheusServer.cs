using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>
/// A real Prometheus (Debian's package) on a free loopback port with its own data directory,
/// backfilled from <see cref="ClusterSeries"/> by promtool. Stopped by its PID when the tests end.
/// </summary>
public sealed class PrometheusServer : IAsyncLifetime
{
    private ServerProcess? process;
    private readonly string directory = Path.Combine(Path.GetTempPath(), "nodefleet-prom-" + Guid.NewGuid().ToString("N")[..8]);

    public Uri Url { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(directory);
        var input = Path.Combine(directory, "series.om");
        var data = Path.Combine(directory, "data");
        await File.WriteAllTextAsync(input, ClusterSeries.OpenMetrics());
        Tool.Run("promtool", ["tsdb", "create-blocks-from", "openmetrics", input, data]);
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, "scrape_configs: []\n");

        var port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        process = await ServerProcess.StartAsync("prometheus",
        [
            $"--config.file={config}", $"--storage.tsdb.path={data}", "--storage.tsdb.retention.time=100y",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        ], new Uri(Url, "-/ready"), TimeSpan.FromSeconds(60));
    }

    public Task DisposeAsync()
    {
        process?.Dispose();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    public static int FreePort() => Loopback.FreePort();
}

[CollectionDefinition(Name)]
public sealed class PrometheusServerGroup : ICollectionFixture<PrometheusServer>
{
    public const string Name = "prometheus";
}
