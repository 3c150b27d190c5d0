using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace NodeFleet.ColdStart;

/// <summary>What one cold start took: from process start to the response, as this process saw it; the child's own split, its CPU time, and what it JIT-compiled.</summary>
internal sealed record Sample(double TotalMs, double InitMs, double InvokeMs, double CpuMs, int JittedMethods, double JitMs);

internal static class Processes
{
    public static readonly TimeSpan InvocationTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs a tool to completion; killed with its children if cancelled.</summary>
    public static async Task RunAsync(string file, IEnumerable<string> args, CancellationToken cancel)
    {
        using var process = new Process { StartInfo = Redirected(file, args) };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancel);
        }
        finally
        {
            Stop(process);
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}):\n{output}");
        }
    }

    /// <summary>
    /// One cold start: a fresh `dotnet exec` of the runner with the step's deps.json and
    /// runtimeconfig.json (its publish folder is the task root), timed from just before the
    /// process is started to the runner's marker line, written once the response is complete.
    /// </summary>
    public static async Task<(string Response, Sample Sample)> InvokeAsync(string runner, string taskRoot, string handler, string request,
        IReadOnlyDictionary<string, string> environment, string scratch, CancellationToken cancel)
    {
        var assembly = handler.Split("::")[0];
        var requestFile = Path.Combine(scratch, "request.json");
        var responseFile = Path.Combine(scratch, "response.json");
        await File.WriteAllTextAsync(requestFile, request, cancel);
        File.Delete(responseFile);
        var info = Redirected("dotnet", ["exec", "--depsfile", Path.Combine(taskRoot, assembly + ".deps.json"), "--runtimeconfig", Path.Combine(taskRoot, assembly + ".runtimeconfig.json"),
            runner, handler, taskRoot, requestFile, responseFile]);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = new Process { StartInfo = info };
        var clock = new Stopwatch();
        var marker = new TaskCompletionSource<(double Ms, string Line)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("nodefleet-coldstart ", StringComparison.Ordinal))
            {
                marker.TrySetResult((clock.Elapsed.TotalMilliseconds, line));
            }
            else
            {
                Append(log, e.Data);
            }
        };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        clock.Start();
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(InvocationTimeout);
            var exited = process.WaitForExitAsync(timeout.Token);
            await Task.WhenAny(marker.Task, exited);
            if (!marker.Task.IsCompleted)
            {
                cancel.ThrowIfCancellationRequested();
                await exited.ContinueWith(_ => { }, TaskScheduler.Default);
                throw new InvalidOperationException(process.HasExited
                    ? $"{handler} exited ({process.ExitCode}) without a response:\n{log}"
                    : $"{handler} gave no response within {InvocationTimeout.TotalSeconds} s:\n{log}");
            }

            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            Stop(process);
        }

        var (total, line) = await marker.Task;
        var response = await File.ReadAllTextAsync(responseFile, cancel);
        if (!line.StartsWith("nodefleet-coldstart ok ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{handler} failed: {response}\n{log}");
        }

        return (response, new Sample(total, Figure(line, "init="), Figure(line, "invoke="), Figure(line, "cpu="), (int)Figure(line, "jitted="), Figure(line, "jitms=")));
    }

    private static double Figure(string line, string name) =>
        double.Parse(line.Split(' ').Single(p => p.StartsWith(name, StringComparison.Ordinal))[name.Length..], CultureInfo.InvariantCulture);

    private static ProcessStartInfo Redirected(string file, IEnumerable<string> args) =>
        new(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (text)
        {
            text.AppendLine(line);
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started, or already reaped.
        }
    }
}
