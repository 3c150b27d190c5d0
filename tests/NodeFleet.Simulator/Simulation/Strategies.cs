using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Workflow;

namespace NodeFleet.Simulator.Simulation;

/// <summary>A scaling policy the driver runs against the virtual cluster, called at every model step.</summary>
public interface IScalingStrategy
{
    string Name { get; }

    /// <summary>Scale-ups plus scale-downs (replacements count as one).</summary>
    int ScaleActions { get; }

    /// <summary>Brings the fleet to the minimum before the trace starts (both policies start there).</summary>
    void Prepare(VirtualCluster cluster);

    void Step(VirtualCluster cluster);

    /// <summary>EC2 warned that <paramref name="instance"/> will be reclaimed in two minutes.</summary>
    void Interrupted(VirtualCluster cluster, SimInstance instance);
}

/// <summary>
/// NodeFleet as deployed: the real policy (the same code as the Decide step) runs every
/// scheduled tick on a snapshot of the virtual cluster. An execution holds the lease while it
/// waits for launched nodes (asking every ready-poll interval) or drains a node, and ticks meanwhile
/// stop early, as the state machine does. What it remembers changes through the same
/// <see cref="FleetTransitions"/> production's store applies: a launch is in flight from the moment
/// it starts, and a path's outcome (ScaledUp, LaunchFailed, ScaledDown, Replaced) stamps its cooldown
/// when the path ends, as UpdateState does.
/// </summary>
public sealed class NodeFleetStrategy(SimulationOptions options, Random random) : IScalingStrategy
{
    private sealed record Joining(InFlightLaunch Launch, IReadOnlyList<SimInstance> Instances, OutcomeKind IfJoined);

    private FleetState fleet = FleetState.Empty;
    private DateTimeOffset nextTick;
    private DateTimeOffset? busyUntil;
    private DateTimeOffset nextReadinessCheck;
    private readonly List<Joining> joining = [];
    private (string InstanceId, DateTimeOffset At)? removal;
    private int launches;

    public string Name => "nodefleet";

    public int ScaleActions { get; private set; }

    /// <summary>Gets every decision that acted, with its time and reason (scripts/simulate --verbose).</summary>
    public Action<string>? Log { get; init; }

    public void Prepare(VirtualCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        cluster.Launch(options.Settings.MinNodes, Capacity, () => TimeSpan.Zero);
        nextTick = cluster.Start;
    }

    public void Step(VirtualCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var now = cluster.Now;
        if (removal is { } r && now >= r.At)
        {
            cluster.Remove(r.InstanceId);
            removal = null;
            busyUntil = null;
            Record(OutcomeKind.ScaledDown, now, []);
        }

        if (joining.Count > 0 && now >= nextReadinessCheck)
        {
            CheckReadiness(cluster, now);
        }

        if (now < nextTick)
        {
            return;
        }

        nextTick += options.NodeFleetTick;
        if (busyUntil is not null)
        {
            return; // the lease is held: this execution stops early
        }

        Act(cluster, ScalingPolicy.Decide(cluster.Snapshot(options.Settings), fleet, options.Settings, now));
    }

    public void Interrupted(VirtualCluster cluster, SimInstance instance)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(instance);
        var trigger = new Trigger { Kind = TriggerKind.SpotInterruption, InstanceId = instance.Id, Time = cluster.Now };
        var decision = ScalingPolicy.Decide(trigger, cluster.Snapshot(options.Settings), fleet, options.Settings, cluster.Now);
        if (decision.Action == ScalingAction.Replace && decision.NodeToRemove?.InstanceId is { } id)
        {
            // Interruptions preempt the lease: drain at once, launch the replacement, retire the node.
            ScaleActions++;
            cluster.Remove(id);
            if (decision.NodesToAdd > 0)
            {
                Launch(cluster, decision.NodesToAdd, OutcomeKind.Replaced);
            }
            else
            {
                Record(OutcomeKind.Replaced, cluster.Now, []);
            }
        }
    }

    /// <summary>CheckNodesReady for every launch still joining: done when all joined, or at the join timeout (the unjoined are terminated).</summary>
    private void CheckReadiness(VirtualCluster cluster, DateTimeOffset now)
    {
        foreach (var launch in joining.ToList())
        {
            var allJoined = launch.Instances.All(i => i.Joined);
            if (!allJoined && now - launch.Launch.StartedAt < options.Settings.NodeJoinTimeout)
            {
                continue;
            }

            foreach (var unjoined in launch.Instances.Where(i => !i.Joined && i.Running))
            {
                cluster.Remove(unjoined.Id);
            }

            joining.Remove(launch);
            Record(allJoined ? launch.IfJoined : OutcomeKind.LaunchFailed, now, [launch.Launch.LaunchId]);
        }

        if (joining.Count == 0)
        {
            busyUntil = null;
        }
        else
        {
            nextReadinessCheck = now + options.ReadyPoll;
        }
    }

    private void Act(VirtualCluster cluster, Decision decision)
    {
        var now = cluster.Now;
        if (decision.Action != ScalingAction.None)
        {
            Log?.Invoke($"{now:yyyy-MM-dd HH:mm:ss} {decision.Action}: {decision.Reason}");
        }

        switch (decision.Route)
        {
            case WorkflowRoute.Launch:
                ScaleActions++;
                Launch(cluster, decision.NodesToAdd, OutcomeKind.ScaledUp);
                break;
            case WorkflowRoute.Drain when decision.NodeToRemove?.InstanceId is { } id:
                ScaleActions++;
                removal = (id, now + options.DrainDuration);
                busyUntil = removal.Value.At;
                break;
        }
    }

    private void Launch(VirtualCluster cluster, int count, OutcomeKind ifJoined)
    {
        var launched = cluster.Launch(count, Capacity, BootDelay);
        var launch = new InFlightLaunch { LaunchId = $"launch-{++launches}", StartedAt = cluster.Now, InstanceIds = launched.Select(i => i.Id).ToList() };
        fleet = FleetTransitions.LaunchStarted(fleet, launch);
        joining.Add(new Joining(launch, launched, ifJoined));
        nextReadinessCheck = cluster.Now + options.ReadyPoll;
        busyUntil = nextReadinessCheck; // the execution holds the lease until its nodes join

    }

    private void Record(OutcomeKind kind, DateTimeOffset at, IReadOnlyList<string> completedLaunches) =>
        fleet = FleetTransitions.Recorded(fleet, new ScalingOutcome { Kind = kind, At = at, Summary = kind.ToString(), CompletedLaunches = completedLaunches });

    private CapacityType Capacity() => random.NextDouble() < options.SpotShare ? CapacityType.Spot : CapacityType.OnDemand;

    private TimeSpan BootDelay() => Draw.BootDelay(options, random);
}

/// <summary>
/// The seed autoscaler's rules, as its public project implements them: a reading every minute;
/// scale up by 1 (by 2 when CPU is above 85 % or more than 5 pods are pending) once CPU above
/// 70 % or pending pods held for 3 readings in a row; scale down by 1 (the least requested worker)
/// after 10 readings in a row of CPU below 30 % with nothing pending; 5 minutes between scale-ups,
/// 10 between scale-downs; 2 to 10 workers, all on demand. It does not wait for nodes to join.
/// </summary>
public sealed class SeedStrategy(SimulationOptions options, Random random) : IScalingStrategy
{
    public const int UpReadings = 3;
    public const int DownReadings = 10;
    public const int MinWorkers = 2;
    public const int MaxWorkers = 10;
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
        cluster.Launch(MinWorkers, () => CapacityType.OnDemand, () => TimeSpan.Zero);
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
                cluster.Launch(add, () => CapacityType.OnDemand, () => Draw.BootDelay(options, random));
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
