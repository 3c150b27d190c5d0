using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// Picks the node a scale-down removes: a managed, Ready, schedulable worker whose pods may all
/// be evicted and fit on the remaining nodes without filling any beyond the target
/// utilisation, and whose removal keeps measured worker usage under the target too.
/// Least-utilised first, then newest (the cheapest to lose), then by name for determinism.
/// </summary>
internal sealed class ScaleDownPlanner(ClusterSnapshot snapshot, FleetView view, ScalingSettings settings)
{
    /// <param name="notes">Why each node passed over could not go.</param>
    /// <param name="emptyOnly">Only workers with no pod to move (the utilisation conditions did not hold).</param>
    public NodeRef? Choose(List<string> notes, bool emptyOnly = false)
    {
        var candidates = view.ReadyManaged
            .Where(n => !n.Unschedulable && (!emptyOnly || n.MovablePods.Count == 0))
            .OrderBy(Utilization)
            .ThenByDescending(n => n.CreatedAt ?? DateTimeOffset.MinValue)
            .ThenBy(n => n.Name, StringComparer.Ordinal);

        foreach (var node in candidates)
        {
            var refusal = WhyNot(node);
            if (refusal is null)
            {
                return new NodeRef
                {
                    Name = node.Name,
                    InstanceId = node.InstanceId!,
                    Zone = node.Zone,
                    Utilization = Math.Round(Utilization(node), 4),
                };
            }

            notes.Add($"{node.Name}: {refusal}");
        }

        return null;
    }

    private string? WhyNot(NodeInfo node)
    {
        if (node.InstanceId is null)
        {
            return "no EC2 instance id in its provider id";
        }

        if (node.Blockers.Count > 0)
        {
            var first = node.Blockers[0];
            var more = node.Blockers.Count > 1 ? $" and {node.Blockers.Count - 1} more" : "";
            return $"pod {first.Pod} may not be evicted ({first.Reason}{(first.Detail is null ? "" : ": " + first.Detail)}){more}";
        }

        var headroom = snapshot.Nodes
            .Where(n => n.Name != node.Name && n.Ready && !n.Unschedulable)
            .Select(n => (n.Allocatable.Scaled(settings.TargetUtilization) - n.Requested).AtLeastZero());
        if (!BinPacker.FitsInto(node.MovablePods, headroom))
        {
            return $"its pods do not fit on the other nodes under {ScalingPolicy.Percent(settings.TargetUtilization)}";
        }

        // While the workload grows, a removal that left less room than the headroom keeps would be
        // undone by the next tick: a remove-and-relaunch loop.
        var roomAfter = view.UnrequestedRoom - FleetView.Room(node) - node.MovablePods.Aggregate(Resources.Zero, (sum, g) => sum + g.PerPod.Times(g.Count));
        if (view.KeepsHeadroom && view.BelowHeadroom(roomAfter))
        {
            return $"without it less than the headroom of {ScalingPolicy.Percent(settings.Headroom)} of a worker would stay unrequested";
        }

        var u = snapshot.Utilization;
        var cpuAfter = UsageAfterRemoval(u.CpuMaxOverDownWindow, view.ReadyWorkerCpu, node.Allocatable.CpuMillis);
        var memoryAfter = UsageAfterRemoval(u.MemoryMaxOverDownWindow, view.ReadyWorkerMemory, node.Allocatable.MemoryBytes);
        if (cpuAfter > settings.TargetUtilization || memoryAfter > settings.TargetUtilization)
        {
            return $"without it worker usage would reach CPU {ScalingPolicy.Percent(cpuAfter)}, memory {ScalingPolicy.Percent(memoryAfter)}, above {ScalingPolicy.Percent(settings.TargetUtilization)}";
        }

        return null;
    }

    /// <summary>
    /// The measured usage spread over the workers left; 0 when none are left (the pods then fit
    /// elsewhere by requests). Unknown usage counts as full, never as idle.
    /// </summary>
    private static double UsageAfterRemoval(double? utilization, long total, long removed) =>
        total - removed > 0 ? (utilization ?? 1.0) * total / (total - removed) : 0;

    private static double Utilization(NodeInfo node) => node.Requested.DominantShareOf(node.Allocatable);

}
