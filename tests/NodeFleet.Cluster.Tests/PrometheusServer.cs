using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace NodeFleet.Cluster.Tests;

/// <summary>
/// A real Prometheus (Debian's package) on a free loopback port with its own data directory,
/// backfilled from <see cref="ClusterSeries"/> by promtool. Stopped by its PID when the tests end.
/// </summary>
public sealed class PrometheusServer : IAsyncLifetime
{
    private Process? process;
    private readonly string directory = Path.Combine(Path.GetTempPath(), "nodefleet-prom-" + Guid.NewGuid().ToString("N")[..8]);

    public Uri Url { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(directory);
        var input = Path.Combine(directory, "series.om");
        var data = Path.Combine(directory, "data");
        await File.WriteAllTextAsync(input, ClusterSeries.OpenMetrics());
        Run("promtool", "tsdb", "create-blocks-from", "openmetrics", input, data);
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, "scrape_configs: []\n");

        var port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        process = Process.Start(new ProcessStartInfo("prometheus",
        [
            $"--config.file={config}", $"--storage.tsdb.path={data}", "--storage.tsdb.retention.time=100y",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        ])
        { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false }) ?? throw new InvalidOperationException("prometheus did not start");
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync(new Uri(Url, "-/ready"));
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"prometheus did not become ready on {Url}");
            }

            await Task.Delay(200);
        }
    }

    public Task DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }

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

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {stderr} {stdout.Result}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PrometheusServerGroup : ICollectionFixture<PrometheusServer>
{
    public const string Name = "prometheus";
}
