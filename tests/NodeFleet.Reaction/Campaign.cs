using System.Globalization;
using System.Text.Json;
using NodeFleet.Core.Settings;
using NodeFleet.Testbed;

namespace NodeFleet.Reaction;

/// <summary>One burst: a pod that needs a new node, when the scheduler marked it, when CreateFleet was called for it, and which execution called it.</summary>
public sealed record BurstResult(int Index, double PhaseSeconds, DateTimeOffset UnschedulableAt, DateTimeOffset? CreateFleetAt, double? Seconds, string? LaunchedBy);

public sealed record ReactionResult(string Path, IReadOnlyList<BurstResult> Bursts);

/// <summary>One execution: when it started, what started it, how many state transitions it took, what it decided.</summary>
public sealed record ExecutionResult(DateTimeOffset StartedAt, string Trigger, string Status, int Transitions, string? Action, string? Reason);

public sealed record WindowResult(string Name, TimeSpan Window, IReadOnlyList<ExecutionResult> Executions, int CreateFleetCalls);

public static class Stats
{
    /// <summary>The q-quantile, interpolated linearly between the closest ranks; NaN for no values.</summary>
    public static double Percentile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        var rank = q * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }
}

/// <summary>
/// A testbed with the intervals as deployed: the fast path on, Prometheus scraping every 15 s,
/// Alertmanager with the catalog's defaults, the step timings the catalog's defaults (not the
/// testbed's compressed ones), a kube-scheduler that looks at new pods every 100 ms (the testbed's
/// scheduler runs only when asked), the schedule as EventBridge starts it (at a fixed rate, without
/// waiting for the last execution), and every CreateFleet call timed at the proxy in front of moto.
/// </summary>
public sealed class Campaign : IAsyncDisposable
{
    public static readonly TimeSpan Scrape = TimeSpan.FromSeconds(15);

    // The settings the testbed compresses, set back to their deployed defaults.
    private static readonly string[] Compressed =
    [
        "NODEFLEET_NODE_JOIN_TIMEOUT", "NODEFLEET_SCALE_UP_CPU_WINDOW", "NODEFLEET_SCALE_DOWN_WINDOW", "NODEFLEET_CPU_RATE_WINDOW",
        "NODEFLEET_SCALE_UP_COOLDOWN", "NODEFLEET_SCALE_DOWN_COOLDOWN", "NODEFLEET_DRAIN_TIMEOUT", "NODEFLEET_REPAIR_AFTER",
    ];

    private readonly LocalEnvironment cloud;
    private readonly TimeSpan schedule;
    private readonly CancellationTokenSource stop = new();
    private readonly List<DateTimeOffset> createFleet = [];
    private readonly List<(DateTimeOffset At, Task<JsonElement> Run)> ticks = [];
    private Task scheduler = Task.CompletedTask;
    private Task ticker = Task.CompletedTask;

    private Campaign(LocalEnvironment cloud, TimeSpan schedule)
    {
        this.cloud = cloud;
        this.schedule = schedule;
    }

    /// <summary>When the schedule's first tick fires; later ones every <see cref="schedule"/>.</summary>
    private DateTimeOffset Epoch { get; set; }

    private static async Task<Campaign> StartAsync(Random random, TimeSpan schedule, bool alertmanager)
    {
        var overrides = Compressed.ToDictionary(key => key, key =>
            SettingsCatalog.Scaling.FirstOrDefault(d => d.EnvironmentVariable == key)?.DefaultValue
            ?? SettingsCatalog.Platform.First(s => s.EnvironmentVariable == key).DefaultText);
        // Every burst keeps its node (its pod stays): room for the bursts of one campaign above the minimum of two.
        overrides["NODEFLEET_MAX_NODES"] = "40";
        var cloud = new LocalEnvironment { FastPath = true, ScrapeInterval = Scrape, SettingsOverrides = overrides };
        var campaign = new Campaign(cloud, schedule);
        try
        {
            await cloud.StartAsync();
            if (!alertmanager)
            {
                // The schedule alone: Prometheus still evaluates the rule, its alerts reach nobody.
                cloud.StopAlertmanager();
            }

            cloud.Proxy.Rule = form =>
            {
                if (form.GetValueOrDefault("Action") == "CreateFleet")
                {
                    lock (campaign.createFleet)
                    {
                        campaign.createFleet.Add(DateTimeOffset.UtcNow);
                    }
                }

                return null;
            };
            cloud.Model.Add(TestNode.ControlPlane());
            // The minimum of two workers, each full: a pod of 1.5 cores fits nowhere but on a new node.
            foreach (var name in new[] { "w1", "w2" })
            {
                cloud.AddWorker(name, TimeSpan.FromHours(1));
                cloud.Model.Add(new TestPod { Namespace = "base", Name = $"base-{name}", OwnerName = "base", Phase = "Running", NodeName = name, CpuMillis = 1500, MemoryBytes = 256L << 20, CpuUsageMillis = 50, Labels = { ["app"] = "base" } });
            }

            await cloud.WaitForAsync("count(kube_node_info)", 3, TimeSpan.FromMinutes(2));
            campaign.scheduler = Task.Run(async () =>
            {
                while (!campaign.stop.IsCancellationRequested)
                {
                    cloud.Model.Schedule();
                    await Task.Delay(100);
                }
            });
            campaign.Epoch = DateTimeOffset.UtcNow + (schedule * random.NextDouble());
            campaign.ticker = Task.Run(async () =>
            {
                for (var next = campaign.Epoch; !campaign.stop.IsCancellationRequested; next += schedule)
                {
                    try
                    {
                        await Task.Delay(Max(TimeSpan.Zero, next - DateTimeOffset.UtcNow), campaign.stop.Token);
                    }
                    catch (TaskCanceledException)
                    {
                        return;
                    }

                    lock (campaign.ticks)
                    {
                        campaign.ticks.Add((DateTimeOffset.UtcNow, cloud.RunAsync("{}")));
                    }
                }
            });
            return campaign;
        }
        catch
        {
            await campaign.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// <paramref name="count"/> bursts of one pod that needs a new node, each at a phase of the
    /// schedule drawn from its own tenth of the cycle (stratified, so the schedule's wait is sampled
    /// evenly), at least a few seconds after the last burst's pod started.
    /// </summary>
    public static async Task<ReactionResult> BurstsAsync(string path, bool fastPath, int count, TimeSpan schedule, Random random, CancellationToken cancel)
    {
        await using var campaign = await StartAsync(random, schedule, fastPath);
        var slots = Enumerable.Range(0, count).OrderBy(_ => random.Next()).ToList();
        var results = new List<(int Index, double Phase, DateTimeOffset Marked, DateTimeOffset? Fleet)>();
        for (var k = 0; k < count && !cancel.IsCancellationRequested; k++)
        {
            var phase = (slots[k] + random.NextDouble()) * schedule / count;
            var at = campaign.Epoch + phase;
            while (at < DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5))
            {
                at += schedule;
            }

            await Task.Delay(at - DateTimeOffset.UtcNow, cancel);
            var name = $"burst-{k}";
            campaign.cloud.Model.Add(new TestPod { Namespace = "shop", Name = name, OwnerName = "checkout", Phase = "Pending", CpuMillis = 1500, MemoryBytes = 256L << 20, CpuUsageMillis = 50, Labels = { ["app"] = "checkout" } });
            var marked = await UntilAsync(() => campaign.Pod(name) is { Unschedulable: true, ScheduledConditionAt: { } t } ? t : (DateTimeOffset?)null, TimeSpan.FromSeconds(30));
            var fleet = await UntilAsync(() => campaign.CreateFleetCalls().Where(c => c >= marked).Select(c => (DateTimeOffset?)c).FirstOrDefault(), (schedule * 2) + TimeSpan.FromMinutes(1));
            Console.WriteLine($"[{path}] burst {k + 1}/{count} at phase {phase.TotalSeconds:0} s: {(fleet is { } f ? $"CreateFleet {(f - marked).TotalSeconds:0.0} s after unschedulable" : "no CreateFleet")}");
            results.Add((k, phase.TotalSeconds, marked, fleet));
            await UntilAsync(() => campaign.Pod(name) is { Phase: "Running" } ? DateTimeOffset.UtcNow : (DateTimeOffset?)null, TimeSpan.FromMinutes(2));
        }

        var executions = await campaign.ExecutionsAsync();
        foreach (var e in executions)
        {
            Console.WriteLine($"[{path}] {e.StartedAt:HH:mm:ss} {e.Trigger}: {e.Result.Status} in {e.Result.Transitions} transitions, {e.Result.Action}: {e.Result.Reason}");
        }

        return new ReactionResult(path, [.. results.Select(r => new BurstResult(r.Index, r.Phase, r.Marked, r.Fleet, r.Fleet is { } f ? (f - r.Marked).TotalSeconds : null,
            r.Fleet is { } at ? executions.Where(e => e.LaunchNodesAt.Any(l => l >= r.Marked && l <= at + TimeSpan.FromMilliseconds(500))).OrderByDescending(e => e.StartedAt).FirstOrDefault()?.Trigger : null))]);
    }

    /// <summary>
    /// A window of <paramref name="window"/>: with <paramref name="pending"/>, two pods that select a
    /// label no worker template has stay pending all along (no launch serves them); else nothing happens.
    /// Counts the executions started in it (scheduled and fast-path) and their state transitions.
    /// </summary>
    public static async Task<WindowResult> WindowAsync(string name, bool pending, TimeSpan window, TimeSpan schedule, Random random, CancellationToken cancel)
    {
        await using var campaign = await StartAsync(random, schedule, alertmanager: true);
        var start = DateTimeOffset.UtcNow;
        if (pending)
        {
            for (var i = 0; i < 2; i++)
            {
                campaign.cloud.Model.Add(new TestPod
                {
                    Namespace = "ml", Name = $"trainer-{i}", OwnerName = "trainer", Phase = "Pending", CpuMillis = 500, MemoryBytes = 256L << 20, Labels = { ["app"] = "trainer" },
                    Spec = new PodSpec { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } },
                });
            }

            start = await UntilAsync(() => campaign.Pod("trainer-1") is { Unschedulable: true, ScheduledConditionAt: { } t } ? t : (DateTimeOffset?)null, TimeSpan.FromSeconds(30));
        }

        await Task.Delay(start + window - DateTimeOffset.UtcNow, cancel);
        var end = start + window;
        var executions = (await campaign.ExecutionsAsync()).Where(e => e.StartedAt >= start && e.StartedAt < end).ToList();
        Console.WriteLine($"[{name}] {executions.Count} executions in {window.TotalMinutes:0.#} min");
        return new WindowResult(name, window, [.. executions.Select(e => e.Result)], campaign.CreateFleetCalls().Count(c => c >= start && c < end));
    }

    private TestPod? Pod(string name) => cloud.Model.Read((_, pods, _) => pods.FirstOrDefault(p => p.Name == name));

    private List<DateTimeOffset> CreateFleetCalls()
    {
        lock (createFleet)
        {
            return [.. createFleet];
        }
    }

    private static async Task<DateTimeOffset> UntilAsync(Func<DateTimeOffset?> probe, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            if (probe() is { } value)
            {
                return value;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"nothing happened within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(50);
        }
    }

    private sealed record Execution(DateTimeOffset StartedAt, string Trigger, IReadOnlyList<DateTimeOffset> LaunchNodesAt, ExecutionResult Result);

    /// <summary>Every execution started so far, scheduled and fast-path, once each has ended.</summary>
    private async Task<List<Execution>> ExecutionsAsync()
    {
        List<(DateTimeOffset At, string Trigger, Task<JsonElement> Run)> started;
        lock (ticks)
        {
            started = [.. ticks.Select(t => (t.At, "Schedule", t.Run))];
        }

        started.AddRange(cloud.Pipe.Executions.Select(e => (e.StartedAt, "PendingPods", e.Run)));
        var list = new List<Execution>();
        foreach (var (at, trigger, run) in started.OrderBy(s => s.At))
        {
            var report = await run;
            var calls = report.GetProperty("calls").EnumerateArray()
                .Where(c => c.GetProperty("step").GetString() == "LaunchNodes")
                .Select(c => DateTimeOffset.FromUnixTimeMilliseconds(c.GetProperty("at").GetInt64())).ToList();
            var decision = report.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.Object && o.TryGetProperty("decision", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
            var action = decision.ValueKind == JsonValueKind.Object ? decision.GetProperty("action").GetString() : null;
            var reason = decision.ValueKind == JsonValueKind.Object ? decision.GetProperty("reason").GetString() : report.TryGetProperty("error", out var e) ? e.GetRawText() : null;
            list.Add(new Execution(at, trigger, calls, new ExecutionResult(at, trigger, report.GetProperty("status").GetString()!, report.GetProperty("transitions").GetInt32(), action, reason)));
        }

        return list;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await scheduler;
        await ticker;
        stop.Dispose();
        await cloud.DisposeAsync();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"campaign from {Epoch:O}");
}
