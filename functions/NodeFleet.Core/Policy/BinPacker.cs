using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy;

/// <summary>
/// The outcome of packing pods: how many new bins were opened, how many pods fit a bin at all
/// (<see cref="PlaceablePods"/>), and which are larger than any bin. <see cref="Truncated"/> means
/// packing stopped at the new-bin limit, so <see cref="NewBins"/> is a lower bound.
/// </summary>
public readonly record struct PackingResult(int NewBins, bool Truncated, int PlaceablePods, int UnplaceablePods, IReadOnlyList<PodGroup> Unplaceable);

/// <summary>
/// First-fit-decreasing bin packing over CPU, memory and pod slots, by size alone (the simulator's
/// oracle packs with it; Decide packs under the scheduler's predicates, <c>Scheduling/ScaleUpPacker</c>). Pods arrive grouped by
/// identical requests; a group is poured into bins in order, which is exactly what
/// pod-by-pod first fit does for identical items, at a cost of groups × bins instead of pods × bins.
/// New bins stop at a limit (a decision never launches more than the maximum), which keeps the
/// cost linear in the number of groups however many pods are pending.
/// </summary>
public static class BinPacker
{
    /// <summary>
    /// Packs <paramref name="pods"/> into <paramref name="openBins"/> (free capacity already
    /// available, e.g. nodes still launching) and then into as many new bins of
    /// <paramref name="shape"/> as needed, up to <paramref name="maxNewBins"/>. Pods larger than
    /// the shape are reported, never packed.
    /// </summary>
    public static PackingResult PackWithNewBins(IEnumerable<PodGroup> pods, IEnumerable<Resources> openBins, Resources shape, int maxNewBins = int.MaxValue)
    {
        var bins = openBins.ToList();
        var unplaceable = new List<PodGroup>();
        var unplaceableCount = 0;
        var placeable = 0;
        var newBins = 0;
        var truncated = false;
        foreach (var group in SortDecreasing(pods, shape))
        {
            var perPod = group.PerPod;
            if (!perPod.FitsIn(shape))
            {
                unplaceable.Add(group);
                unplaceableCount += group.Count;
                continue;
            }

            placeable += group.Count;
            if (truncated)
            {
                continue;
            }

            var remaining = FillExisting(bins, perPod, group.Count);
            while (remaining > 0 && !truncated)
            {
                if (newBins == maxNewBins)
                {
                    truncated = true;
                    break;
                }

                var take = Math.Min(remaining, perPod.CopiesThatFit(shape));
                bins.Add(shape - perPod.Times(take));
                newBins++;
                remaining -= take;
            }
        }

        return new PackingResult(newBins, truncated, placeable, unplaceableCount, unplaceable);
    }

    /// <summary>Pours up to <paramref name="count"/> pods into the bins in order; returns how many did not fit.</summary>
    private static int FillExisting(List<Resources> bins, Resources perPod, int count)
    {
        var remaining = count;
        for (var i = 0; i < bins.Count && remaining > 0; i++)
        {
            var take = Math.Min(remaining, perPod.CopiesThatFit(bins[i]));
            if (take > 0)
            {
                bins[i] -= perPod.Times(take);
                remaining -= take;
            }
        }

        return remaining;
    }

    private static IEnumerable<PodGroup> SortDecreasing(IEnumerable<PodGroup> pods, Resources reference) =>
        pods.Where(g => g.Count > 0)
            .OrderByDescending(g => g.PerPod.DominantShareOf(reference))
            .ThenByDescending(g => g.CpuMillis)
            .ThenByDescending(g => g.MemoryBytes);
}
