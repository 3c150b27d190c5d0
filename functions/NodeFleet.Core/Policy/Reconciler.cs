using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// The reconcile pass: EC2's instances and the API's nodes are the truth, NodeFleet's memory only
/// memory. A pure function, like the scaling policy; the Reconcile step carries the plan out
/// under the lease, checking each item again against the world as it is then.
/// </summary>
public static class Reconciler
{
    /// <summary>
    /// A kubelet posts its first Ready condition within seconds of registering: a node whose Ready
    /// condition has not changed since shortly after it was created has never been Ready (an
    /// orphan once its join timeout passes), one whose condition changed later was Ready once
    /// (a repair, once <c>repairAfter</c> passes).
    /// </summary>
    public static readonly TimeSpan RegistrationGrace = TimeSpan.FromMinutes(1);

    /// <summary>Items of each kind one execution puts right, so the Reconcile step's calls fit its time budget (steps.json); the rest wait for the next tick.</summary>
    public const int MaxPerKind = 10;

    /// <summary>What is out of step. The control plane and unmanaged nodes are never in a plan.</summary>
    public static ReconcilePlan Plan(Inventory inventory, FleetState fleet, ScalingSettings settings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(settings);
        var managedNodes = inventory.Nodes.Where(n => n.Managed && n.IsWorker).ToList();
        var nodeByInstance = managedNodes.Where(n => n.InstanceId is not null).GroupBy(n => n.InstanceId!).ToDictionary(g => g.Key, g => g.First());
        var live = inventory.Instances.Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);

        var orphans = inventory.Instances
            .Where(i => now - i.LaunchedAt >= settings.NodeJoinTimeout)
            .Where(i => !nodeByInstance.TryGetValue(i.InstanceId, out var node) || NeverReady(node))
            .Select(i => new OrphanInstance { InstanceId = i.InstanceId, Node = nodeByInstance.GetValueOrDefault(i.InstanceId)?.Name, LaunchedAt = i.LaunchedAt, LaunchId = i.LaunchId })
            .OrderBy(o => o.InstanceId, StringComparer.Ordinal)
            .Take(MaxPerKind)
            .ToList();

        // A node maps to an instance only through an aws:/// provider id; one without is not ours to judge.
        var ghosts = managedNodes
            .Where(n => n.InstanceId is not null && !live.Contains(n.InstanceId))
            .Select(n => n.Name)
            .Order(StringComparer.Ordinal)
            .Take(MaxPerKind)
            .ToList();

        // Under the lease no other execution may drain: every cordon NodeFleet made for another one is
        // left over, except a node waiting, cordoned on purpose, for its interruption warning, and an
        // interrupted node within the warning's two minutes (its instance is about to go anyway).
        var strays = managedNodes
            .Where(n => n.Unschedulable && n.Cordon is { } mark && !ghosts.Contains(n.Name)
                && mark.Reason != CordonReason.AwaitingInterruption
                && !(mark.Reason == CordonReason.Interruption && now - mark.At < InterruptionNotice.SpotWarning))
            .Select(n => new StrayCordon { Node = n.Name, CordonedBy = n.Cordon!.ExecutionId, At = n.Cordon.At })
            .OrderBy(c => c.Node, StringComparer.Ordinal)
            .Take(MaxPerKind)
            .ToList();

        var expired = fleet.InFlight
            .Where(l => now - l.StartedAt >= settings.NodeJoinTimeout)
            .Select(l => l.LaunchId)
            .Order(StringComparer.Ordinal)
            .ToList();

        return new ReconcilePlan { Orphans = orphans, Ghosts = ghosts, StrayCordons = strays, ExpiredLaunches = expired };
    }

    /// <summary>Registered but never Ready: its Ready condition has not moved since it registered.</summary>
    public static bool NeverReady(NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return !node.Ready && (node.ReadyChangedAt is not { } changed || node.CreatedAt is not { } created || changed - created < RegistrationGrace);
    }

    /// <summary>
    /// The managed workers with a live instance that were Ready once and are not now. Nodes still
    /// joining (or that never will: orphans) are not broken workers, and do not count toward a hold.
    /// </summary>
    public static IReadOnlyList<NodeInfo> NotReadyWorkers(Inventory inventory) =>
        LiveWorkers(inventory).Where(n => !n.Ready && !NeverReady(n)).ToList();

    /// <summary>The managed workers with a live instance.</summary>
    public static IReadOnlyList<NodeInfo> LiveWorkers(Inventory inventory)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var live = inventory.Instances.Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);
        return inventory.Nodes.Where(n => n.Managed && n.IsWorker && n.InstanceId is not null && live.Contains(n.InstanceId)).ToList();
    }

    /// <summary>The worker to repair: Ready once, NotReady for <c>repairAfter</c> or longer; the one broken longest first.</summary>
    public static NodeInfo? RepairCandidate(Inventory inventory, ScalingSettings settings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return NotReadyWorkers(inventory)
            .Where(n => n.ReadyChangedAt is { } since && now - since >= settings.RepairAfter)
            .OrderBy(n => n.ReadyChangedAt)
            .ThenBy(n => n.Name, StringComparer.Ordinal)
            .FirstOrDefault();
    }
}
