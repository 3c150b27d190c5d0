using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;
using NodeFleet.Core.Workflow;

namespace NodeFleet.Simulator.Simulation;

/// <summary>A scaling policy the driver runs against the virtual cluster, called at every model step.</summary>
public interface IScalingStrategy
{
    string Name { get; }

    /// <summary>Scale-ups plus scale-downs: what the policy chose to change (replacements are counted apart).</summary>
    int ScaleActions { get; }

    /// <summary>Interrupted nodes replaced or retired: changes EC2 forced, which no bound without interruptions makes.</summary>
    int Replacements => 0;

    /// <summary>Brings the fleet to the minimum before the trace starts (both policies start there).</summary>
    void Prepare(VirtualCluster cluster);

    void Step(VirtualCluster cluster);

    /// <summary>EC2 warned that <paramref name="instance"/> will be reclaimed in two minutes.</summary>
    void Interrupted(VirtualCluster cluster, SimInstance instance);

    /// <summary>The next moment, between grid steps, at which <see cref="Step"/> must run (null: the grid is enough).</summary>
    DateTimeOffset? NextWakeup => null;

    /// <summary>Executions by trigger (a policy without executions has none).</summary>
    IReadOnlyList<ExecutionCount> Executions => [];
}

/// <summary>
/// NodeFleet as deployed: the real policy (the same code as the Decide step) runs in every execution on a
/// snapshot of the virtual cluster taken at the execution's start. Executions start on the schedule (every
/// tick, at a phase of its own) and, with the fast path, seconds after pods become unschedulable
/// (<see cref="FastPathModel"/>, then <see cref="SimulationOptions.FastPathDeliveryDelay"/> to StartExecution).
/// An execution that decides to act takes the lease; the lease is modelled so that two executions never both
/// act (<see cref="LeaseModel"/>): one that finds it held stops early, except that interruptions preempt, and
/// (as built now) a scale-up for pending pods preempts a drain. What it remembers changes through the same
/// <see cref="FleetTransitions"/> production's store applies, step by step as the workflow applies them: a scale-up's
/// LaunchNodes releases the lease with <see cref="FleetTransitions.LaunchReleased"/> (ReleaseAfterLaunchAsync: in flight,
/// the scale-up stamped at launch), a replacement's (and, before issue 13, every launch's) with
/// <see cref="FleetTransitions.LaunchStarted"/> (RecordLaunchAsync, the lease kept); UpdateState records
/// <see cref="FleetTransitions.Recorded"/> when the path ends: ScaledUp or LaunchFailed completing the launch, ScaledDown
/// with the removed node, Replaced. A preempted drain records only a history line (RecordPreemptedAsync): no transition.
/// A drain runs as the workflow's: DrainStart cordons and evicts at once, DrainContinue polls every
/// <see cref="SimulationOptions.DrainPoll"/> until the evicted pods are gone (<see cref="SimulationOptions.PodShutdown"/>,
/// at most drainTimeout), then TerminateRemoved, DeleteNode and Record (<see cref="SimulationOptions.DrainEndLatency"/>);
/// an empty node is drained at once.
/// </summary>
public sealed class NodeFleetStrategy : IScalingStrategy
{
    private sealed class Joining(InFlightLaunch launch, IReadOnlyList<SimInstance> instances, OutcomeKind ifJoined, bool holdsLease, DateTimeOffset nextCheck)
    {
        public InFlightLaunch Launch { get; } = launch;
        public IReadOnlyList<SimInstance> Instances { get; } = instances;
        public OutcomeKind IfJoined { get; } = ifJoined;

        /// <summary>The launch's execution still holds the lease while its nodes join (a replacement, or any launch before issue 13).</summary>
        public bool HoldsLease { get; } = holdsLease;

        /// <summary>The launch's own readiness loop: its next CheckNodesReady.</summary>
        public DateTimeOffset NextCheck { get; set; } = nextCheck;
    }

    /// <summary>
    /// A drain in progress, with the empty workers that go with its node (<see cref="Decision.AlsoEmpty"/>): it ends (the
    /// instances terminated, the outcome recorded, the lease released) at <paramref name="EndsAt"/>.
    /// </summary>
    private sealed record Drain(NodeRef Node, IReadOnlyList<NodeRef> AlsoEmpty, DateTimeOffset EndsAt)
    {
        public IEnumerable<NodeRef> Nodes => AlsoEmpty.Prepend(Node);
    }

    private sealed class Count
    {
        public int Started;
        public int Acted;
        public int LeaseHeld;
    }

    private readonly SimulationOptions options;
    private readonly Random random;
    private readonly Random phases;
    private readonly List<Joining> joining = [];
    private readonly List<FastPathNotification> starts = [];
    private readonly SortedDictionary<TriggerKind, Count> counts = [];
    private FleetState fleet = FleetState.Empty;
    private DateTimeOffset nextTick;
    private Drain? drain;
    private FastPathModel? fastPath;
    private int launches;

    public NodeFleetStrategy(SimulationOptions options, Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        this.options = options;
        this.random = random;
        // The phases come from a stream of their own, so the boot delays are the same draws whatever the detection.
        phases = new Random(options.RandomSeed + 2);
    }

    public string Name { get; init; } = "nodefleet";

    public int ScaleActions { get; private set; }

    public int Replacements { get; private set; }

    /// <summary>What NodeFleet remembers now (the state item's fields), for tests.</summary>
    internal FleetState Fleet => fleet;

    /// <summary>Drains aborted because a scale-up for pending pods or an interruption took the lease.</summary>
    public int DrainsPreempted { get; private set; }

    /// <summary>Gets every decision that acted, with its time, reason and trigger (scripts/simulate --verbose).</summary>
    public Action<string>? Log { get; init; }

    public IReadOnlyList<ExecutionCount> Executions =>
        counts.Select(c => new ExecutionCount(TriggerName(c.Key), c.Value.Started, c.Value.Acted, c.Value.LeaseHeld)).ToList();

    /// <summary>The next moment something happens: a tick, a drain's end, a readiness check, a step of the fast path, an execution it starts.</summary>
    public DateTimeOffset? NextWakeup
    {
        get
        {
            var next = nextTick;
            void Candidate(DateTimeOffset? at)
            {
                if (at is { } t && t < next)
                {
                    next = t;
                }
            }

            Candidate(drain?.EndsAt);
            foreach (var launch in joining)
            {
                Candidate(launch.NextCheck);
            }

            Candidate(fastPath?.NextEvent());
            Candidate(starts.Count > 0 ? starts[0].At : null);
            return next;
        }
    }

    public void Prepare(VirtualCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        cluster.Launch(options.Settings.MinNodes, options.SpotShare, () => TimeSpan.Zero);
        nextTick = cluster.Start + (options.ScheduleOffset ?? FastPathModel.Uniform(phases, options.NodeFleetTick));
        fastPath = options.Detection == Detection.FastPathAndSchedule ? new FastPathModel(options, cluster.Start, phases) : null;
    }

    public void Step(VirtualCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var now = cluster.Now;
        if (drain is { } d && now >= d.EndsAt)
        {
            foreach (var node in d.Nodes)
            {
                cluster.Remove(node.InstanceId);
            }

            drain = null;
            Record(OutcomeKind.ScaledDown, now, [], d.Nodes.Select(n => n.Name).ToList());
        }

        foreach (var launch in joining.Where(j => now >= j.NextCheck).ToList())
        {
            CheckReadiness(cluster, launch, now);
        }

        if (fastPath is not null)
        {
            // Each notification starts an execution once SNS, SQS and the Pipe delivered it.
            starts.AddRange(fastPath.Advance(now, cluster.PendingPodNames).Select(n => n with { At = n.At + options.FastPathDeliveryDelay }));
        }

        if (now >= nextTick)
        {
            nextTick += options.NodeFleetTick;
            Execute(cluster, new Trigger { Kind = TriggerKind.Schedule, Time = now });
        }

        while (starts.Count > 0 && starts[0].At <= now)
        {
            var start = starts[0];
            starts.RemoveAt(0);
            Execute(cluster, new Trigger { Kind = TriggerKind.PendingPods, PendingPods = start.Firing, Time = start.At });
        }
    }

    public void Interrupted(VirtualCluster cluster, SimInstance instance)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(instance);
        var trigger = new Trigger { Kind = TriggerKind.SpotInterruption, InstanceId = instance.Id, Time = cluster.Now };
        var count = CountOf(trigger.Kind);
        count.Started++;
        var decision = ScalingPolicy.Decide(trigger, cluster.Snapshot(options.Settings), fleet, options.Settings, cluster.Now);
        if (decision.Action == ScalingAction.Replace && decision.NodeToRemove?.InstanceId is { } id)
        {
            // Interruptions preempt the lease: drain at once, launch the replacement, retire the node.
            count.Acted++;
            if (options.Lease == LeaseModel.ReleasedAtLaunch && drain is not null)
            {
                AbortDrain(cluster, "an interruption took the lease");
            }

            Replacements++;
            // DrainInterrupted cordons and evicts at once; the instance runs (and is billed) until EC2 takes it two minutes
            // after the warning. NodeFleet terminates it itself once it is drained and the replacement Ready, which with
            // a boot and the readiness polls comes at about the same time; a retirement without a replacement ends
            // sooner in production, so this bills it up to 80 s too long.
            cluster.Evict(id);
            if (decision.NodesToAdd > 0)
            {
                Launch(cluster, decision.NodesToAdd, decision.Route, OutcomeKind.Replaced);
            }
            else
            {
                Record(OutcomeKind.Replaced, cluster.Now, []);
            }

            Log?.Invoke($"{cluster.Now:yyyy-MM-dd HH:mm:ss} {decision.Action}: {decision.Reason} [{TriggerName(trigger.Kind)}]");
        }
    }

    /// <summary>The lease is held: by a drain, or by a launch that keeps it while its nodes join (a replacement; before issue 13, every launch).</summary>
    private bool LeaseHeld => drain is not null || joining.Any(j => j.HoldsLease);

    /// <summary>One execution: CollectMetrics and Decide on the cluster now; an acting decision takes the lease or stops early.</summary>
    private void Execute(VirtualCluster cluster, Trigger trigger)
    {
        var now = cluster.Now;
        var count = CountOf(trigger.Kind);
        count.Started++;
        var decision = ScalingPolicy.Decide(trigger, cluster.Snapshot(options.Settings), fleet, options.Settings, now);
        if (decision.Route is not (WorkflowRoute.Launch or WorkflowRoute.Drain))
        {
            return;
        }

        if (LeaseHeld)
        {
            if (options.Lease != LeaseModel.ReleasedAtLaunch || drain is null || !decision.PreemptsDrain)
            {
                count.LeaseHeld++;
                return;
            }

            AbortDrain(cluster, $"a scale-up for pending pods ({TriggerName(trigger.Kind)}) took the lease");
        }

        count.Acted++;
        switch (decision.Route)
        {
            case WorkflowRoute.Launch:
                ScaleActions++;
                Launch(cluster, decision.NodesToAdd, decision.Route, OutcomeKind.ScaledUp);
                break;
            case WorkflowRoute.Drain when decision.NodeToRemove is { } node:
                ScaleActions++;
                // DrainStart cordons the node and the empty workers that go with it; those have nothing to evict.
                var removing = new Drain(node, decision.AlsoEmpty, now);
                var evicted = removing.Nodes.Sum(n => cluster.Evict(n.InstanceId));
                drain = removing with { EndsAt = now + DrainLength(evicted) + options.DrainEndLatency };
                break;
        }

        // Logged once the step acted, so that a reader of the log sees the state after it.
        Log?.Invoke($"{now:yyyy-MM-dd HH:mm:ss} {decision.Action}: {decision.Reason} [{TriggerName(trigger.Kind)}]");
    }

    /// <summary>
    /// From DrainStart to the poll that finds the node drained: at once for an empty node, else the first DrainContinue
    /// at or after the evicted pods are gone (the drain waits for them at most drainTimeout).
    /// </summary>
    private TimeSpan DrainLength(int evicted)
    {
        if (evicted == 0)
        {
            return TimeSpan.Zero;
        }

        // DrainStart finds the evicted pods terminating, so at least one DrainContinue follows.
        var waited = options.PodShutdown < options.DrainTimeout ? options.PodShutdown : options.DrainTimeout;
        return options.DrainPoll * Math.Max(1, Math.Ceiling(waited / options.DrainPoll));
    }

    /// <summary>
    /// The preempted drain ends: its node is uncordoned, the pods already evicted stay evicted; its UpdateState writes only
    /// a history line (RecordPreemptedAsync), so what NodeFleet remembers does not change.
    /// </summary>
    private void AbortDrain(VirtualCluster cluster, string why)
    {
        var aborted = drain!;
        drain = null;
        DrainsPreempted++;
        foreach (var node in aborted.Nodes)
        {
            cluster.Cordon(node.InstanceId, cordon: false);
        }

        Log?.Invoke($"{cluster.Now:yyyy-MM-dd HH:mm:ss} drain of {aborted.Node.InstanceId} preempted: {why}");
    }

    /// <summary>CheckNodesReady for one launch: done when all joined, or at the join timeout (the unjoined are terminated).</summary>
    private void CheckReadiness(VirtualCluster cluster, Joining launch, DateTimeOffset now)
    {
        var allJoined = launch.Instances.All(i => i.Joined);
        if (!allJoined && now - launch.Launch.StartedAt < options.Settings.NodeJoinTimeout)
        {
            launch.NextCheck = now + options.ReadyPoll;
            return;
        }

        foreach (var unjoined in launch.Instances.Where(i => !i.Joined && i.Running))
        {
            cluster.Remove(unjoined.Id);
        }

        joining.Remove(launch);
        Record(allJoined ? launch.IfJoined : OutcomeKind.LaunchFailed, now, [launch.Launch.LaunchId]);
    }

    /// <summary>LaunchNodes: the instances, split as it splits them, and its one write (releasing the lease on a scale-up as built now).</summary>
    private void Launch(VirtualCluster cluster, int count, WorkflowRoute route, OutcomeKind ifJoined)
    {
        var now = cluster.Now;
        var launched = cluster.Launch(count, options.SpotShare, BootDelay);
        var launch = new InFlightLaunch { LaunchId = $"launch-{++launches}", StartedAt = now, InstanceIds = launched.Select(i => i.Id).ToList() };
        var releases = options.Lease == LeaseModel.ReleasedAtLaunch && FleetTransitions.ReleasesLeaseAtLaunch(route);
        fleet = releases ? FleetTransitions.LaunchReleased(fleet, launch) : FleetTransitions.LaunchStarted(fleet, launch);
        joining.Add(new Joining(launch, launched, ifJoined, holdsLease: !releases, now + options.ReadyPoll));
    }

    private void Record(OutcomeKind kind, DateTimeOffset at, IReadOnlyList<string> completedLaunches, IReadOnlyList<string>? removedNodes = null) =>
        fleet = FleetTransitions.Recorded(fleet, new ScalingOutcome { Kind = kind, At = at, Summary = kind.ToString(), CompletedLaunches = completedLaunches, RemovedNodes = removedNodes ?? [] });

    private Count CountOf(TriggerKind kind) => counts.TryGetValue(kind, out var count) ? count : counts[kind] = new Count();

    /// <summary>How the report names a trigger.</summary>
    public static string TriggerName(TriggerKind kind) => kind switch
    {
        TriggerKind.Schedule => "schedule",
        TriggerKind.PendingPods => "fast path",
        _ => "interruption",
    };

    private TimeSpan BootDelay() => Draw.BootDelay(options, random);
}

/// <summary>
/// The seed autoscaler's rules, as its public project implements them: a reading every minute;
/// scale up by 1 (by 2 when CPU is above 85 % or more than 5 pods are pending) once CPU above
/// 70 % or pending pods held for 3 readings in a row; scale down by 1 (the least requested worker)
/// after 10 readings in a row of CPU below 30 % with nothing pending; 5 minutes between scale-ups,
/// 10 between scale-downs; 2 to 10 workers, 70 % spot as its documents say (<see cref="SpotShare"/>, split per launch
/// as NodeFleet's launches are). It does not wait for nodes to join, and it removes a
/// worker at once (its pods are rescheduled); it does not listen to EC2's interruption warnings.
/// </summary>
public sealed class SeedStrategy(SimulationOptions options, Random random) : IScalingStrategy
{
    public const int UpReadings = 3;
    public const int DownReadings = 10;
    public const int MinWorkers = 2;
    public const int MaxWorkers = 10;
    public const double SpotShare = 0.7;
    public static readonly TimeSpan UpCooldown = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DownCooldown = TimeSpan.FromMinutes(10);

    private DateTimeOffset nextTick;
    private int highReadings;
    private int lowReadings;
    private DateTimeOffset? lastUp;
    private DateTimeOffset? lastDown;

    public string Name => "seed";

    public int ScaleActions { get; private set; }

    public void Prepare(VirtualCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        cluster.Launch(MinWorkers, SpotShare, () => TimeSpan.Zero);
        nextTick = cluster.Start;
    }

    public void Step(VirtualCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (cluster.Now < nextTick)
        {
            return;
        }

        nextTick += options.SeedTick;
        var workers = cluster.Instances.Count(i => i.Running);
        switch (Decide(cluster.CpuNow, cluster.UnschedulablePods, workers, cluster.Now))
        {
            case > 0 and var add:
                cluster.Launch(add, SpotShare, () => Draw.BootDelay(options, random));
                ScaleActions++;
                break;
            case < 0:
                var victim = cluster.Snapshot(options.Settings).Nodes.Where(n => n.Managed).MinBy(n => n.Requested.CpuMillis);
                var instance = victim?.InstanceId ?? cluster.Instances.Last(i => i.Running).Id;
                cluster.Remove(instance);
                ScaleActions++;
                break;
        }
    }

    /// <summary>
    /// One reading: how many workers to add (positive) or remove (negative). NaN CPU (no worker
    /// has joined) reads as neither high nor low.
    /// </summary>
    public int Decide(double cpu, int pending, int workers, DateTimeOffset now)
    {
        var high = cpu > 0.70 || pending > 0;
        var low = cpu < 0.30 && pending == 0;
        highReadings = high ? highReadings + 1 : 0;
        lowReadings = low ? lowReadings + 1 : 0;
        if (highReadings >= UpReadings && workers < MaxWorkers && !(now - lastUp < UpCooldown))
        {
            highReadings = 0;
            lastUp = now;
            return Math.Min(cpu > 0.85 || pending > 5 ? 2 : 1, MaxWorkers - workers);
        }

        if (lowReadings >= DownReadings && workers > MinWorkers && !(now - lastDown < DownCooldown))
        {
            lowReadings = 0;
            lastDown = now;
            return -1;
        }

        return 0;
    }

    public void Interrupted(VirtualCluster cluster, SimInstance instance)
    {
        // The seed does not listen to EC2 events: the node just disappears when EC2 reclaims it.
    }
}

/// <summary>Random draws shared by the strategies.</summary>
public static class Draw
{
    /// <summary>A boot delay: normal around the mean, clamped to half and twice the mean.</summary>
    public static TimeSpan BootDelay(SimulationOptions options, Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        // Box-Muller: two uniforms give one standard normal.
        var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var seconds = options.BootDelayMean.TotalSeconds + (normal * options.BootDelaySpread.TotalSeconds);
        return TimeSpan.FromSeconds(Math.Clamp(seconds, options.BootDelayMean.TotalSeconds / 2, options.BootDelayMean.TotalSeconds * 2));
    }
}
