using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Scheduling;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>What the unschedulable pods call for, packed under the scheduler's predicates.</summary>
/// <param name="Ask">New nodes wanted; null when the pods fit on the open nodes or none is placeable.</param>
/// <param name="PlaceablePods">Pods a node could hold at all (open capacity or a new worker).</param>
/// <param name="OpenNodes">Nodes still launching or just joined that took pods first.</param>
/// <param name="Pinned">Of the new nodes, those that must be in a zone (the pods they are for can run only there).</param>
/// <param name="NoScaleUp">Pods no new node could host, by owner and reason: never a reason to launch.</param>
internal sealed record PodsAnswer(ScaleUpAsk.PendingPods? Ask, int PlaceablePods, int OpenNodes, IReadOnlyList<ZoneShare> Pinned, IReadOnlyList<NoScaleUpPods> NoScaleUp)
{
    public int UnplaceablePods => NoScaleUp.Sum(p => p.Count);

    /// <summary>
    /// The pinned shares that fit in a launch of <paramref name="nodes"/>. When a cap cuts the launch,
    /// unpinned nodes go first (unconstrained pods can also use a pinned node's spare room, zone-bound
    /// pods only their zone's); then one at a time from the zone with the most, the last listed on a
    /// tie, so the zones stay balanced.
    /// </summary>
    public IReadOnlyList<ZoneShare> PinnedWithin(int nodes)
    {
        var counts = Pinned.Select(p => p.Nodes).ToArray();
        for (var excess = counts.Sum() - nodes; excess > 0; excess--)
        {
            var most = 0;
            for (var i = 1; i < counts.Length; i++)
            {
                if (counts[i] >= counts[most])
                {
                    most = i;
                }
            }

            counts[most]--;
        }

        return Pinned.Select((p, i) => p with { Nodes = counts[i] }).Where(p => p.Nodes > 0).ToList();
    }
}

/// <summary>
/// Enough nodes for the unschedulable pods: first-fit-decreasing onto the nodes still launching and
/// the free room of nodes that just joined, then onto new nodes of a worker template that satisfies
/// every required constraint of the pods (<see cref="ScaleUpPacker"/>).
/// </summary>
internal static class UnschedulablePodsRule
{
    public static PodsAnswer Ask(IReadOnlyList<PodGroup> pods, OpenCapacity open, TemplateCatalog templates, IReadOnlyList<NodeInfo> nodes, int maxNodes)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(open);
        if (pods.Count == 0)
        {
            return new PodsAnswer(null, 0, open.Nodes, [], []);
        }

        // More new nodes than the maximum can never be launched, so counting further is wasted work.
        var plan = ScaleUpPacker.Pack(pods, open, templates, nodes, maxNodes + 1);
        var ask = plan.NewNodes > 0 ? new ScaleUpAsk.PendingPods(plan.NewNodes, plan.Truncated, plan.PlaceablePods, open.Launching) : null;
        return new PodsAnswer(ask, plan.PlaceablePods, open.Nodes, plan.Pinned, plan.NoScaleUp);
    }

    /// <summary>
    /// When no rule asks for a node but pods are unschedulable, why nothing is launched: the pods
    /// fit on the open nodes, or no new node could host any of them. Pods no new node can host do not
    /// hold back a scale-down (<paramref name="scaleDownDue"/>): one pod no worker can hold must not
    /// keep the whole fleet at peak size. Null when nothing stops the scale-down rules.
    /// </summary>
    public static Verdict? WhyNoLaunch(PodsAnswer pods, bool scaleDownDue)
    {
        ArgumentNullException.ThrowIfNull(pods);
        if (pods.PlaceablePods > 0)
        {
            return new Verdict.PodsFitOpenNodes(pods.PlaceablePods, pods.OpenNodes);
        }

        return pods.UnplaceablePods > 0 && !scaleDownDue ? new Verdict.PodsUnplaceable(pods.UnplaceablePods, pods.NoScaleUp) : null;
    }
}
