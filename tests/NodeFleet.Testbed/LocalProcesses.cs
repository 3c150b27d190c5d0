using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace NodeFleet.Testbed;

/// <summary>A free TCP port on the loopback interface.</summary>
public static class Loopback
{
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// A local server (moto_server, prometheus, ...) started for tests or the demo: started,
/// polled until it answers, and stopped by its PID with its children.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process process;

    private ServerProcess(Process process) => this.process = process;

    public static async Task<ServerProcess> StartAsync(string file, IEnumerable<string> args, Uri readyUrl, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = Session.Own(file, args);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info)
            ?? throw new InvalidOperationException($"{file} did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(readyUrl);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                server.Dispose();
                throw new InvalidOperationException($"{file} did not answer on {readyUrl} within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(200);
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }

        process.Dispose();
    }
}

/// <summary>
/// Starts children in a session of their own (through <c>setsid</c>, which execs, so the PID is
/// the child's): a Ctrl-C in the terminal then reaches only the demo, which stops them by PID in
/// order, instead of killing them under its feet.
/// </summary>
public static class Session
{
    private static readonly bool Available = File.Exists("/usr/bin/setsid");

    public static ProcessStartInfo Own(string file, IEnumerable<string> args) =>
        new(Available ? "/usr/bin/setsid" : file, Available ? [file, .. args] : args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
}

/// <summary>Runs a command-line tool to completion: its standard output, or an error carrying its standard error.</summary>
public static class Tool
{
    public static string Run(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = Session.Own(file, args);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? stdout.Result
            : throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr}");
    }

    /// <summary>As <see cref="Run"/>, without holding a thread while the tool runs.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> args)
    {
        using var process = Process.Start(Session.Own(file, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        return process.ExitCode == 0
            ? await stdout.ConfigureAwait(false)
            : throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}");
    }
}
