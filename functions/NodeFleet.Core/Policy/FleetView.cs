using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// The snapshot and the remembered launches seen together: which workers count toward the
/// minimum (Ready managed or launching) and which toward the maximum (everything we run).
/// </summary>
internal sealed class FleetView
{
    /// <summary>
    /// How long a newly joined node's free room still counts against unschedulable pods: the
    /// scheduler retries them within seconds, but kube-state-metrics reports the change only
    /// after a scrape or two. Without this, a tick in that gap would launch for pods already placed.
    /// </summary>
    private static readonly TimeSpan RecentlyJoinedGrace = TimeSpan.FromMinutes(2);

    public FleetView(ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now, Inventory? inventory = null, ReconcilePlan? plan = null)
    {
        AllReadyWorkers = snapshot.Nodes.Where(n => n.IsWorker && n.Ready).ToList();
        var managedWorkers = snapshot.Nodes.Where(n => n.IsWorker && n.Managed).ToList();
        ReadyManagedWorkers = managedWorkers.Where(n => n.Ready).ToList();

        var nodesByInstance = snapshot.Nodes
            .Where(n => n.InstanceId is not null)
            .GroupBy(n => n.InstanceId!)
            .ToDictionary(g => g.Key, g => g.First());

        // Launches past the join timeout are failed launches: they stop counting as capacity.
        var live = fleet.InFlight
            .Where(l => now - l.StartedAt < settings.NodeJoinTimeout)
            .SelectMany(l => l.InstanceIds)
            .Distinct()
            .ToList();
        // A launching node's zone is what EC2 (or its registered, not yet Ready Node) says; unknown until either does.
        var instanceZones = inventory?.Instances.ToDictionary(i => i.InstanceId, i => i.Zone, StringComparer.Ordinal);
        LaunchingZones = live
            .Where(id => !nodesByInstance.TryGetValue(id, out var node) || !node.Ready)
            .Select(id => instanceZones?.GetValueOrDefault(id) ?? nodesByInstance.GetValueOrDefault(id)?.Zone)
            .ToList();
        Launching = LaunchingZones.Count;

        // With EC2's answer, every live managed instance counts (recorded or not), orphans about to be
        // terminated by this execution's reconcile do not, nor do Node objects whose instance is gone;
        // live launches count too, in case EC2 does not list their instances yet.
        WorkersTowardMaximum = inventory is null
            ? managedWorkers.Count + live.Count(id => !nodesByInstance.ContainsKey(id))
            : inventory.Instances.Select(i => i.InstanceId)
                .Except((plan ?? ReconcilePlan.Nothing).Orphans.Select(o => o.InstanceId), StringComparer.Ordinal)
                .Union(live, StringComparer.Ordinal)
                .Count();

        // A cordoned worker is leaving (or held back by an operator): not capacity for the minimum,
        // unless this execution's reconcile lifts a cordon left over by another.
        var uncordoning = (plan ?? ReconcilePlan.Nothing).StrayCordons.Select(c => c.Node).ToHashSet(StringComparer.Ordinal);
        SchedulableReadyManagedWorkers = ReadyManagedWorkers.Count(n => !n.Unschedulable || uncordoning.Contains(n.Name));

        // Nodes that joined moments ago may still absorb pods the scheduler has not retried yet.
        RecentlyJoined = ReadyManagedWorkers
            .Where(n => n.CreatedAt is { } created && now - created < RecentlyJoinedGrace && !n.Unschedulable)
            .ToList();

        UnrequestedRoom = ReadyManagedWorkers.Where(n => !n.Unschedulable).Aggregate(Resources.Zero, (sum, n) => sum + Room(n));

        EffectiveMin = Math.Min(
            Math.Max(settings.MinNodes, ScheduledMinimum.ActiveMinimum(settings.ScheduledMinimums, now)),
            settings.MaxNodes);
    }

    /// <summary>Every Ready worker, managed by NodeFleet or not: utilisation is measured over them all.</summary>
    public IReadOnlyList<NodeInfo> AllReadyWorkers { get; }

    /// <summary>The Ready workers NodeFleet manages: the ones it counts toward the minimum and may remove.</summary>
    public IReadOnlyList<NodeInfo> ReadyManagedWorkers { get; }

    /// <summary>Instances of live launches that are not Ready nodes yet.</summary>
    public int Launching { get; }

    /// <summary>The zone of each instance in <see cref="Launching"/>; null where neither EC2 nor a Node object says it yet.</summary>
    public IReadOnlyList<string?> LaunchingZones { get; }

    /// <summary>The schedulable managed workers that joined within <see cref="RecentlyJoinedGrace"/>: their free room may still absorb pending pods.</summary>
    public IReadOnlyList<NodeInfo> RecentlyJoined { get; }

    /// <summary>Room left unrequested on the schedulable Ready managed workers.</summary>
    public Resources UnrequestedRoom { get; }

    /// <summary>What a node's pods leave unrequested.</summary>
    public static Resources Room(NodeInfo node) => (node.Allocatable - node.Requested).AtLeastZero();

    /// <summary><c>minNodes</c>, raised by the scheduled minimum active now, at most <c>maxNodes</c>.</summary>
    public int EffectiveMin { get; }

    /// <summary>Ready managed workers that take pods: not cordoned, or cordoned by a left-over drain this execution lifts.</summary>
    public int SchedulableReadyManagedWorkers { get; }

    /// <summary>Workers that count toward the minimum: schedulable Ready managed workers plus instances still launching.</summary>
    public int WorkersTowardMinimum => SchedulableReadyManagedWorkers + Launching;

    /// <summary>Workers that count toward the maximum: every managed node, Ready or not, plus instances not registered yet.</summary>
    public int WorkersTowardMaximum { get; }

    public long AllReadyWorkersCpu => AllReadyWorkers.Sum(n => n.Allocatable.CpuMillis);

    public long AllReadyWorkersMemory => AllReadyWorkers.Sum(n => n.Allocatable.MemoryBytes);

    /// <summary>The worker counts every decision reports.</summary>
    public DecisionFigures CountFigures(int maxNodes) => new()
    {
        ReadyManagedWorkers = ReadyManagedWorkers.Count,
        LaunchingWorkers = Launching,
        ManagedWorkers = WorkersTowardMaximum,
        MinNodes = EffectiveMin,
        MaxNodes = maxNodes,
    };
}
