using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// The snapshot and the remembered launches seen together: which workers count toward the
/// minimum (Ready or launching) and which toward the maximum (everything we run).
/// </summary>
internal sealed class FleetView
{
    public FleetView(ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now)
    {
        ReadyWorkers = snapshot.Nodes.Where(n => n.IsWorker && n.Ready).ToList();
        Managed = snapshot.Nodes.Where(n => n.IsWorker && n.Managed).ToList();
        ReadyManaged = Managed.Where(n => n.Ready).ToList();

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
        Launching = live.Count(id => !nodesByInstance.TryGetValue(id, out var node) || !node.Ready);
        LaunchingWithoutNode = live.Count(id => !nodesByInstance.ContainsKey(id));

        // Nodes that joined moments ago may still absorb pods the scheduler has not retried yet.
        RecentlyJoinedFree = ReadyManaged
            .Where(n => n.CreatedAt is { } created && now - created < ScalingPolicy.RecentlyJoinedGrace && !n.Unschedulable)
            .Select(Room)
            .ToList();

        UnrequestedRoom = ReadyManaged.Where(n => !n.Unschedulable).Aggregate(Resources.Zero, (sum, n) => sum + Room(n));
        KeepsHeadroom = settings.Headroom > 0 && snapshot.RequestedCpuRise > 0;
        headroom = settings.WorkerShape.Scaled(settings.Headroom);

        EffectiveMin = Math.Min(
            Math.Max(settings.MinNodes, ScheduledMinimum.ActiveMinimum(settings.ScheduledMinimums, now)),
            settings.MaxNodes);
    }

    private readonly Resources headroom;

    public IReadOnlyList<NodeInfo> ReadyWorkers { get; }
    public IReadOnlyList<NodeInfo> Managed { get; }
    public IReadOnlyList<NodeInfo> ReadyManaged { get; }

    /// <summary>Instances of live launches that are not Ready nodes yet.</summary>
    public int Launching { get; }

    /// <summary>Instances of live launches that have not registered a node at all.</summary>
    public int LaunchingWithoutNode { get; }

    public IReadOnlyList<Resources> RecentlyJoinedFree { get; }

    /// <summary>Room left unrequested on the schedulable Ready managed workers.</summary>
    public Resources UnrequestedRoom { get; }

    /// <summary>Headroom is on and the workload grows (requested CPU rose within the headroom window).</summary>
    public bool KeepsHeadroom { get; }

    /// <summary>True when <paramref name="room"/> falls short of the headroom in CPU or memory.</summary>
    public bool BelowHeadroom(Resources room) => room.CpuMillis < headroom.CpuMillis || room.MemoryBytes < headroom.MemoryBytes;

    /// <summary>What a node's pods leave unrequested.</summary>
    public static Resources Room(NodeInfo node) => (node.Allocatable - node.Requested).AtLeastZero();

    public int EffectiveMin { get; }

    /// <summary>Workers that count toward the minimum.</summary>
    public int Capacity => ReadyManaged.Count + Launching;

    /// <summary>Workers that count toward the maximum: every managed node plus instances not registered yet.</summary>
    public int Total => Managed.Count + LaunchingWithoutNode;

    public long ReadyWorkerCpu => ReadyWorkers.Sum(n => n.Allocatable.CpuMillis);

    public long ReadyWorkerMemory => ReadyWorkers.Sum(n => n.Allocatable.MemoryBytes);
}
