using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Simulator.Traces;

namespace NodeFleet.Simulator.Simulation;

/// <summary>One moment of a run, for the charts.</summary>
public sealed record TimelinePoint(double Minute, double DemandCores, int Nodes, int PendingPods);

/// <summary>What a policy cost and how long pods waited on one trace.</summary>
public sealed record RunResult
{
    public required string Trace { get; init; }
    public required string Policy { get; init; }

    /// <summary>The random seed of the run (boot delays, interruptions, phases).</summary>
    public int Seed { get; init; }

    /// <summary>The condition the trace ran under (<c>normal</c>, <c>slow-boots</c>, <c>spot-storm</c>).</summary>
    public string Condition { get; init; } = "normal";

    public required double NodeHours { get; init; }
    public required double CostUsd { get; init; }
    public required double PendingPodMinutes { get; init; }

    /// <summary>Seconds from unschedulable to running: median and 95th percentile over pods that waited (0 when none did).</summary>
    public required double WaitP50Seconds { get; init; }
    public required double WaitP95Seconds { get; init; }
    public required int ScaleActions { get; init; }
    public required IReadOnlyList<TimelinePoint> Timeline { get; init; }

    /// <summary>Hours of load the run covered (the trace's duration): executions per hour divide by it.</summary>
    public double Hours { get; init; }

    /// <summary>The trace's waves (<see cref="Trace.Waves"/>), each with its pods' waits.</summary>
    public IReadOnlyList<WaveResult> Waves { get; init; } = [];

    /// <summary>NodeFleet's executions by what started them (none for the seed and the oracle).</summary>
    public IReadOnlyList<ExecutionCount> Executions { get; init; } = [];
}

/// <summary>One wave's pods that waited: how many, their pending pod-seconds, and their waits from unschedulable to running.</summary>
public sealed record WaveResult(string Wave, int Pods, double PendingPodSeconds, double WaitP50Seconds, double WaitP95Seconds);

/// <summary>
/// Executions started by one trigger: <paramref name="Started"/> in all; <paramref name="Acted"/> took the lease and
/// launched, drained or replaced; <paramref name="LeaseHeld"/> decided to act but found the lease held and stopped early.
/// </summary>
public sealed record ExecutionCount(string Trigger, int Started, int Acted, int LeaseHeld);

/// <summary>Runs policies over a trace in virtual time: days of load in seconds.</summary>
public static class SimulationRunner
{
    private static readonly DateTimeOffset Epoch = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero); // a Monday: day 6 and 7 of a week trace are the weekend

    /// <summary>
    /// Runs <paramref name="strategy"/> from the start of the trace to its end; <paramref name="progress"/> gets the share done.
    /// The model steps on the scrape grid (<see cref="SimulationOptions.Step"/>: demand, interruptions, a metrics sample) and
    /// in between wakes exactly when an instance joins or the strategy asks (<see cref="IScalingStrategy.NextWakeup"/>).
    /// </summary>
    public static RunResult Run(Trace trace, IScalingStrategy strategy, SimulationOptions options, Action<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(options);
        var cluster = new VirtualCluster(trace, Epoch);
        var interruptions = new Random(options.RandomSeed + 1);
        var reclaims = new List<(SimInstance Instance, DateTimeOffset At)>();
        var timeline = new List<TimelinePoint>();
        var sampleEvery = SampleInterval(trace);
        var nextSample = Epoch;
        var end = Epoch + trace.Duration;
        var reported = 0;
        strategy.Prepare(cluster);
        var nextGrid = Epoch;
        for (var now = Epoch; now <= end; now = Next(now, nextGrid, strategy.NextWakeup, cluster.NextJoinAt))
        {
            var onGrid = now == nextGrid;
            cluster.AdvanceTo(now, sample: onGrid);
            if (!onGrid)
            {
                strategy.Step(cluster);
                continue;
            }

            nextGrid += options.Step;
            foreach (var (instance, _) in reclaims.Where(r => r.At <= now && r.Instance.Running).ToList())
            {
                cluster.Remove(instance.Id);
            }

            reclaims.RemoveAll(r => r.At <= now);
            if (options.SpotInterruptionsPerNodeDay > 0)
            {
                foreach (var instance in cluster.Instances.Where(i => i.Running && i.Joined && i.Capacity == CapacityType.Spot && reclaims.All(r => r.Instance != i)).ToList())
                {
                    if (interruptions.NextDouble() < options.SpotInterruptionsPerNodeDay * options.Step.TotalDays)
                    {
                        reclaims.Add((instance, now + TimeSpan.FromMinutes(2)));
                        strategy.Interrupted(cluster, instance);
                    }
                }
            }

            strategy.Step(cluster);
            if (now >= nextSample)
            {
                timeline.Add(new TimelinePoint((now - Epoch).TotalMinutes, cluster.DemandCpuMillis / 1000.0, cluster.Instances.Count(i => i.Running), cluster.UnschedulablePods));
                nextSample += sampleEvery;
            }

            var done = (int)(100 * (now - Epoch) / trace.Duration);
            if (progress is not null && done >= reported + 5)
            {
                reported = done;
                progress(done / 100.0);
            }
        }

        var waits = cluster.Waits.Concat(cluster.StillWaiting).Order().ToList();
        var all = cluster.AllWaits.ToList();
        var waves = trace.Waves.Select(w =>
        {
            var pods = all.Where(p => w.Deployments.Contains(p.Owner) && p.Since - Epoch >= w.From && p.Since - Epoch < w.Until).Select(p => p.Seconds).Order().ToList();
            return new WaveResult(w.Name, pods.Count, pods.Sum(), Percentile(pods, 0.50), Percentile(pods, 0.95));
        }).ToList();
        return new RunResult
        {
            Trace = trace.Name,
            Policy = strategy.Name,
            NodeHours = cluster.Instances.Sum(i => ((i.TerminatedAt ?? end) - i.LaunchedAt).TotalHours),
            CostUsd = cluster.Instances.Sum(i => ((i.TerminatedAt ?? end) - i.LaunchedAt).TotalHours * (i.Capacity == CapacityType.Spot ? options.SpotPricePerHour : options.OnDemandPricePerHour)),
            PendingPodMinutes = cluster.PendingPodMinutes,
            WaitP50Seconds = Percentile(waits, 0.50),
            WaitP95Seconds = Percentile(waits, 0.95),
            ScaleActions = strategy.ScaleActions,
            Timeline = timeline,
            Hours = trace.Duration.TotalHours,
            Waves = waves,
            Executions = strategy.Executions,
        };
    }

    /// <summary>The next moment the model looks at: the next grid step, or earlier when the strategy or a join needs it.</summary>
    private static DateTimeOffset Next(DateTimeOffset now, DateTimeOffset nextGrid, DateTimeOffset? wake, DateTimeOffset? join)
    {
        var next = nextGrid;
        foreach (var at in new[] { wake, join })
        {
            if (at is { } t && t > now && t < next)
            {
                next = t;
            }
        }

        return next;
    }

    /// <summary>
    /// The perfect-foresight bound: at every step exactly the workers the demand's requests need
    /// (first-fit-decreasing on the worker shape, at least the minimum), each launched one boot
    /// delay ahead and released the moment it is not needed. No pod ever waits.
    /// </summary>
    public static RunResult Oracle(Trace trace, SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(options);
        var timeline = new List<TimelinePoint>();
        var sampleEvery = SampleInterval(trace);
        var nextSample = TimeSpan.Zero;
        var needed = new Dictionary<TracePoint, (int Nodes, double Cores)>(ReferenceEqualityComparer.Instance);
        double nodeHours = 0;
        var launches = 0;
        var actions = 0;
        var previous = options.Settings.MinNodes;
        for (var at = TimeSpan.Zero; at <= trace.Duration; at += options.Step)
        {
            var point = trace.At(at);
            if (!needed.TryGetValue(point, out var need))
            {
                var groups = point.Deployments.Where(d => d.Replicas > 0).Select(d => new PodGroup
                {
                    Owner = d.Deployment, Count = d.Replicas, CpuMillis = d.CpuRequestMillis, MemoryBytes = d.MemoryRequestMiB * 1024 * 1024,
                }).ToList();
                var bins = BinPacker.PackWithNewBins(groups, [], VirtualCluster.WorkerShape).NewBins;
                need = (Math.Max(options.Settings.MinNodes, bins), groups.Sum(g => g.CpuMillis * g.Count) / 1000.0);
                needed[point] = need;
            }

            if (at > TimeSpan.Zero)
            {
                nodeHours += need.Nodes * options.Step.TotalHours;
            }

            if (need.Nodes != previous)
            {
                actions++;
                launches += Math.Max(0, need.Nodes - previous);
                previous = need.Nodes;
            }

            if (at >= nextSample)
            {
                timeline.Add(new TimelinePoint(at.TotalMinutes, need.Cores, need.Nodes, 0));
                nextSample += sampleEvery;
            }
        }

        // Each launch runs one boot delay before it is needed, and is billed for it.
        nodeHours += launches * options.BootDelayMean.TotalHours;
        var price = (options.SpotShare * options.SpotPricePerHour) + ((1 - options.SpotShare) * options.OnDemandPricePerHour);
        return new RunResult
        {
            Trace = trace.Name, Policy = "oracle", NodeHours = nodeHours, CostUsd = nodeHours * price, PendingPodMinutes = 0,
            WaitP50Seconds = 0, WaitP95Seconds = 0, ScaleActions = actions, Timeline = timeline, Hours = trace.Duration.TotalHours,
        };
    }

    /// <summary>Timeline resolution: every minute, or coarser so that a chart gets about 1,500 points; the same for every policy.</summary>
    private static TimeSpan SampleInterval(Trace trace) => TimeSpan.FromMinutes(Math.Max(1, Math.Round(trace.Duration.TotalMinutes / 1500)));

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
