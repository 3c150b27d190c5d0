using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>What the unschedulable pods call for, packed onto the worker shape.</summary>
/// <param name="Ask">New nodes wanted; null when the pods fit on the open nodes or none is placeable.</param>
/// <param name="PlaceablePods">Pods a worker could hold at all.</param>
/// <param name="OpenNodes">Nodes still launching or just joined that took pods first.</param>
/// <param name="Unplaceable">Groups larger than a whole worker: never a reason to launch.</param>
internal sealed record PodsAnswer(ScaleUpAsk.PendingPods? Ask, int PlaceablePods, int OpenNodes, int UnplaceablePods, IReadOnlyList<PodGroup> Unplaceable);

/// <summary>
/// Enough nodes for the unschedulable pods' requests: first-fit-decreasing onto the nodes still
/// launching and the free room of nodes that just joined, then onto new nodes of the worker shape.
/// </summary>
internal static class UnschedulablePodsRule
{
    public static PodsAnswer Ask(IReadOnlyList<PodGroup> pods, int launching, IReadOnlyList<Resources> recentlyJoinedFree, Resources workerShape, int maxNodes)
    {
        var openBins = Enumerable.Repeat(workerShape, launching).Concat(recentlyJoinedFree);
        // More new nodes than the maximum can never be launched, so counting further is wasted work.
        var packing = BinPacker.PackWithNewBins(pods, openBins, workerShape, maxNodes + 1);
        var ask = packing.NewBins > 0 ? new ScaleUpAsk.PendingPods(packing.NewBins, packing.Truncated, packing.PlaceablePods, launching) : null;
        return new PodsAnswer(ask, packing.PlaceablePods, launching + recentlyJoinedFree.Count, packing.UnplaceablePods, packing.Unplaceable);
    }

    /// <summary>
    /// When no rule asks for a node but pods are unschedulable, why nothing is launched: the pods
    /// fit on the open nodes, or they are all too large for a worker. Unplaceable pods alone do not
    /// hold back a scale-down (<paramref name="scaleDownDue"/>): one pod no worker can hold must not
    /// keep the whole fleet at peak size. Null when nothing stops the scale-down rules.
    /// </summary>
    public static Verdict? WhyNoLaunch(PodsAnswer pods, bool scaleDownDue, Resources workerShape)
    {
        if (pods.PlaceablePods > 0)
        {
            return new Verdict.PodsFitOpenNodes(pods.PlaceablePods, pods.OpenNodes);
        }

        return pods.UnplaceablePods > 0 && !scaleDownDue ? new Verdict.PodsUnplaceable(pods.UnplaceablePods, workerShape) : null;
    }
}
