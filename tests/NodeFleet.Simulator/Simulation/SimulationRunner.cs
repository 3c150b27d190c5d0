using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Settings;
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

    /// <summary>Interrupted nodes replaced or retired (counted apart from <see cref="ScaleActions"/>).</summary>
    public int Replacements { get; init; }

    public required IReadOnlyList<TimelinePoint> Timeline { get; init; }

    /// <summary>Hours of load the run covered (the trace's duration): executions per hour divide by it.</summary>
    public double Hours { get; init; }

    /// <summary>The instances the policy launched, with their capacity type, launch and termination (none for the bounds).</summary>
    public IReadOnlyList<SimInstance> Instances { get; init; } = [];

    /// <summary>Every pod's wait in seconds, ascending (the reactive bound's; empty for the others).</summary>
    public IReadOnlyList<double> PodWaits { get; init; } = [];

    /// <summary>The trace's waves (<see cref="Trace.Waves"/>), each with its pods' waits.</summary>
    public IReadOnlyList<WaveResult> Waves { get; init; } = [];

    /// <summary>NodeFleet's executions by what started them (none for the seed and the oracle).</summary>
    public IReadOnlyList<ExecutionCount> Executions { get; init; } = [];

    /// <summary>The run's mean boot delay (<see cref="SimulationOptions.BootDelayMean"/>): the wait goal is one boot delay plus 30 s.</summary>
    public double BootDelaySeconds { get; init; }
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
            Replacements = strategy.Replacements,
            Timeline = timeline,
            Hours = trace.Duration.TotalHours,
            Waves = waves,
            Executions = strategy.Executions,
            BootDelaySeconds = options.BootDelayMean.TotalSeconds,
            Instances = cluster.Instances,
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
        var needed = new Dictionary<TracePoint, Demand>(ReferenceEqualityComparer.Instance);
        double nodeHours = 0;
        var launches = 0;
        var actions = 0;
        var previous = options.Settings.MinNodes;
        for (var at = TimeSpan.Zero; at <= trace.Duration; at += options.Step)
        {
            var point = trace.At(at);
            if (!needed.TryGetValue(point, out var need))
            {
                need = Demand.Of(point, options.Settings.MinNodes);
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
            BootDelaySeconds = options.BootDelayMean.TotalSeconds,
        };
    }

    /// <summary>
    /// The reactive bound: what a perfect autoscaler without foresight would pay and wait. It sees a pod the instant it
    /// is pending and launches then exactly the nodes the demand needs (no max step), each joining one boot delay later
    /// (<see cref="SimulationOptions.BootDelayMean"/>, no spread). Two figures, each a bound of its own:
    /// <list type="bullet">
    /// <item>Node-hours: nodes are released the instant the demand no longer needs them (booting ones first, billed from
    /// launch to release) and repacked for free: need(t) is the oracle's count (first-fit-decreasing bins, at least the
    /// minimum), so it pays for no idle node, only for the boots of what it launches.</item>
    /// <item>Waiting: counted as if no node were ever released, so that a pod waits only when the demand exceeds every
    /// node launched so far, and then one boot. No policy that launches only for pending pods (one whose capacity never
    /// runs ahead of what pending pods asked for) and whose boots take at least as long waits less: it cannot hold more
    /// nodes at any moment. The pods the joined nodes cannot take (<see cref="Unplaced"/>) are pending.</item>
    /// </list>
    /// Per-pod waits come from one FIFO: new pods join the back; a deployment's scale-in takes its newest pods not yet
    /// placed first (not counted as waits, as a ReplicaSet scales in); the oldest are placed first (repacking is free),
    /// and a wait ends when a pod that was pending is placed. No pod waits longer than one boot delay plus a grid step.
    /// </summary>
    public static RunResult Reactive(Trace trace, SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(options);
        var timeline = new List<TimelinePoint>();
        var sampleEvery = SampleInterval(trace);
        var nextSample = TimeSpan.Zero;
        var demands = new Dictionary<TracePoint, Demand>(ReferenceEqualityComparer.Instance);
        var nodes = new List<(TimeSpan LaunchedAt, CapacityType Capacity)>(); // billed nodes, in launch order: the newest last
        var billed = new List<(TimeSpan Hours, CapacityType Capacity)>();
        var everLaunched = new List<TimeSpan>(); // join times of every node launched, none released: the waiting model
        var queue = new LinkedList<(TimeSpan Since, string Owner, int Pods)>(); // pods not yet placed, oldest first
        var replicas = new Dictionary<string, int>(StringComparer.Ordinal);
        var waits = new List<double>();
        double pendingPodMinutes = 0;
        var actions = 0;
        var pending = 0;
        Launch(options.Settings.MinNodes, TimeSpan.Zero);
        everLaunched.AddRange(Enumerable.Repeat(TimeSpan.Zero, options.Settings.MinNodes));
        for (var at = TimeSpan.Zero; at <= trace.Duration; at += options.Step)
        {
            if (at > TimeSpan.Zero)
            {
                pendingPodMinutes += pending * options.Step.TotalMinutes;
            }

            var point = trace.At(at);
            if (!demands.TryGetValue(point, out var demand))
            {
                demand = Demand.Of(point, options.Settings.MinNodes);
                demands[point] = demand;
            }

            if (demand.Nodes > nodes.Count)
            {
                Launch(demand.Nodes - nodes.Count, at);
                actions++;
            }
            else if (nodes.Count > demand.Nodes)
            {
                billed.AddRange(nodes.Skip(demand.Nodes).Select(n => (at - n.LaunchedAt, n.Capacity)));
                nodes.RemoveRange(demand.Nodes, nodes.Count - demand.Nodes);
                actions++;
            }

            if (demand.Nodes > everLaunched.Count)
            {
                everLaunched.AddRange(Enumerable.Repeat(at + options.BootDelayMean, demand.Nodes - everLaunched.Count));
            }

            var joined = everLaunched.Count(j => j <= at);
            var unplaced = joined >= demand.Nodes ? [] : Unplaced(demand.Groups, joined);
            pending = unplaced.Values.Sum();
            foreach (var group in demand.Groups.Select(g => g.Owner!).Union(replicas.Keys, StringComparer.Ordinal).ToList())
            {
                Arrive(group, demand.Groups.FirstOrDefault(g => g.Owner == group)?.Count ?? 0, at);
            }

            Place(pending, at);

            if (at >= nextSample)
            {
                timeline.Add(new TimelinePoint(at.TotalMinutes, demand.Cores, nodes.Count, pending));
                nextSample += sampleEvery;
            }
        }

        billed.AddRange(nodes.Select(n => (trace.Duration - n.LaunchedAt, n.Capacity)));
        var all = waits.Concat(queue.SelectMany(q => Enumerable.Repeat((trace.Duration - q.Since).TotalSeconds, q.Pods)))
            .Where(w => w > 0).Order().ToList();
        return new RunResult
        {
            Trace = trace.Name, Policy = "reactive", NodeHours = billed.Sum(b => b.Hours.TotalHours),
            CostUsd = billed.Sum(b => b.Hours.TotalHours * (b.Capacity == CapacityType.Spot ? options.SpotPricePerHour : options.OnDemandPricePerHour)),
            PendingPodMinutes = pendingPodMinutes, WaitP50Seconds = Percentile(all, 0.50), WaitP95Seconds = Percentile(all, 0.95),
            ScaleActions = actions, Timeline = timeline, Hours = trace.Duration.TotalHours, BootDelaySeconds = options.BootDelayMean.TotalSeconds,
            PodWaits = all,
        };

        void Launch(int count, TimeSpan now)
        {
            var spot = CapacitySplit.SpotCount(count, options.SpotShare);
            nodes.AddRange(Enumerable.Range(0, count).Select(i => (now, i < spot ? CapacityType.Spot : CapacityType.OnDemand)));
        }

        // A deployment's new pods join the back; its scale-in takes its newest pods not yet placed first.
        void Arrive(string owner, int count, TimeSpan now)
        {
            var before = replicas.GetValueOrDefault(owner);
            replicas[owner] = count;
            var removed = Math.Max(0, before - count);
            for (var node = queue.Last; node is not null && removed > 0;)
            {
                var previous = node.Previous;
                if (node.Value.Owner == owner)
                {
                    var take = Math.Min(removed, node.Value.Pods);
                    removed -= take;
                    if (take == node.Value.Pods)
                    {
                        queue.Remove(node);
                    }
                    else
                    {
                        node.Value = node.Value with { Pods = node.Value.Pods - take };
                    }
                }

                node = previous;
            }

            if (count > before)
            {
                queue.AddLast((now, owner, count - before));
            }
        }

        // Every pod in the queue beyond the pending ones got a node now, the oldest first (repacking is free); a pod that
        // was pending ends its wait.
        void Place(int pendingNow, TimeSpan now)
        {
            var placed = queue.Sum(q => q.Pods) - pendingNow;
            while (placed > 0 && queue.First is { } oldest)
            {
                var take = Math.Min(placed, oldest.Value.Pods);
                placed -= take;
                if (now > oldest.Value.Since)
                {
                    waits.AddRange(Enumerable.Repeat((now - oldest.Value.Since).TotalSeconds, take));
                }

                if (take == oldest.Value.Pods)
                {
                    queue.RemoveFirst();
                }
                else
                {
                    oldest.Value = oldest.Value with { Pods = oldest.Value.Pods - take };
                }
            }
        }
    }

    /// <summary>
    /// The pods that stay pending on <paramref name="nodes"/> workers with free repacking, per deployment: first fit,
    /// the smallest pods first or the largest first, whichever places more. (Largest first alone would count pods that
    /// already run as pending: six 1-core pods arriving beside six running 0.5-core ones on two workers would be eight
    /// pending, where five are; smallest first alone can strand a large pod that largest first places.)
    /// </summary>
    private static Dictionary<string, int> Unplaced(IReadOnlyList<PodGroup> groups, int nodes)
    {
        var bySize = groups.OrderBy(g => g.PerPod.DominantShareOf(VirtualCluster.WorkerShape)).ToList();
        var smallestFirst = FirstFit(bySize, nodes);
        bySize.Reverse();
        var largestFirst = FirstFit(bySize, nodes);
        return largestFirst.Values.Sum() < smallestFirst.Values.Sum() ? largestFirst : smallestFirst;
    }

    private static Dictionary<string, int> FirstFit(IEnumerable<PodGroup> groups, int nodes)
    {
        var free = Enumerable.Repeat(VirtualCluster.WorkerShape, nodes).ToList();
        var unplaced = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var remaining = group.Count;
            for (var i = 0; i < free.Count && remaining > 0; i++)
            {
                var take = Math.Min(remaining, group.PerPod.CopiesThatFit(free[i]));
                free[i] -= group.PerPod.Times(take);
                remaining -= take;
            }

            unplaced[group.Owner!] = unplaced.GetValueOrDefault(group.Owner!) + remaining;
        }

        return unplaced;
    }

    /// <summary>One trace point's demand as the bounds see it: its pods by size, how many, their cores, and the workers they need.</summary>
    private sealed record Demand(IReadOnlyList<PodGroup> Groups, int Pods, double Cores, int Nodes)
    {
        public static Demand Of(TracePoint point, int minNodes)
        {
            var groups = point.Deployments.Where(d => d.Replicas > 0).Select(d => new PodGroup
            {
                Owner = d.Deployment, Count = d.Replicas, CpuMillis = d.CpuRequestMillis, MemoryBytes = d.MemoryRequestMiB * 1024 * 1024,
            }).ToList();
            var bins = BinPacker.PackWithNewBins(groups, [], VirtualCluster.WorkerShape).NewBins;
            return new Demand(groups, groups.Sum(g => g.Count), groups.Sum(g => g.CpuMillis * g.Count) / 1000.0, Math.Max(minNodes, bins));
        }
    }

    /// <summary>Timeline resolution: every minute, or coarser so that a chart gets about 1,500 points; the same for every policy.</summary>
    private static TimeSpan SampleInterval(Trace trace) => TimeSpan.FromMinutes(Math.Max(1, Math.Round(trace.Duration.TotalMinutes / 1500)));

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
