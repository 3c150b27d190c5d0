using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Scheduling;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>
/// The node a scale-down removes, if any, the empty workers that go with it (<see cref="AlsoEmpty"/>),
/// and why each node tried before it could not go.
/// </summary>
internal sealed record ScaleDownPlan(NodeRef? Node, IReadOnlyList<Refusal> Refusals)
{
    public IReadOnlyList<NodeRef> AlsoEmpty { get; init; } = [];
}

/// <summary>
/// Picks the node a scale-down removes: a managed, Ready, schedulable worker whose pods may all
/// be evicted and can be placed on the remaining nodes under the scheduler's predicates without
/// filling any beyond the target utilisation (<see cref="Relocation"/>), that is not the last
/// worker of its zone while another zone has more than one, and whose removal keeps measured
/// worker usage under the target too. Memory counted by requests (<see cref="MemoryAccounting"/>)
/// fills a node up to its allocatable memory, as the scheduler would, and its usage is not checked.
/// Least-utilised first, then newest (the cheapest to lose), then by name for determinism.
/// A node whose drain was aborted within <c>drainBackoff</c> is skipped (it would most likely be
/// refused again, and each try cordons and evicts for nothing); matched by instance id, so a
/// reused node name on a new instance is not held back.
/// When the node chosen is empty (no pod to move), further empty workers go with it, up to
/// <c>maxEmptyRemovals</c> and the minimum, each checked as if those chosen before it were gone already
/// (its zone, the headroom, usage without all of them): a burst's empty nodes leave in one scale-down
/// instead of one per cooldown, as Cluster Autoscaler deletes empty nodes in bulk.
/// </summary>
internal sealed class ScaleDownPlanner(ClusterSnapshot snapshot, FleetView view, ScalingSettings settings, IReadOnlyList<DrainBackoff> backoffs, DateTimeOffset now)
{
    private List<(string Zone, int Workers)>? workersByZone;
    private List<Place>? places;

    /// <param name="emptyOnly">Only workers with no pod to move (the utilisation conditions did not hold).</param>
    /// <param name="maxAlso">How many empty workers may go with an empty first choice (the minimum and maxEmptyRemovals allow).</param>
    public ScaleDownPlan Choose(bool emptyOnly, int maxAlso)
    {
        var candidates = view.ReadyManagedWorkers
            .Where(n => !n.Unschedulable && (!emptyOnly || IsEmpty(n)))
            .OrderBy(Utilization)
            .ThenByDescending(n => n.CreatedAt ?? DateTimeOffset.MinValue)
            .ThenBy(n => n.Name, StringComparer.Ordinal)
            .ToList();

        var refusals = new List<Refusal>();
        var chosen = new List<NodeInfo>();
        foreach (var node in candidates)
        {
            if (chosen.Count > maxAlso)
            {
                break;
            }

            if (chosen.Count > 0 && !IsEmpty(node))
            {
                continue;
            }

            var refusal = WhyNot(node, chosen);
            if (refusal is null)
            {
                chosen.Add(node);
                if (!IsEmpty(node))
                {
                    break;
                }
            }
            else if (chosen.Count == 0)
            {
                refusals.Add(refusal);
            }
        }

        return chosen.Count == 0
            ? new ScaleDownPlan(null, refusals)
            : new ScaleDownPlan(Ref(chosen[0]), refusals) { AlsoEmpty = chosen.Skip(1).Select(Ref).ToList() };
    }

    /// <summary>An empty worker: no pod would have to move, and none forbids the node's removal.</summary>
    public static bool IsEmpty(NodeInfo node) => node.MovablePods.Count == 0 && node.Blockers.Count == 0;

    private static NodeRef Ref(NodeInfo node) => new()
    {
        Name = node.Name,
        InstanceId = node.InstanceId!,
        Zone = node.Zone,
        Utilization = Math.Round(Utilization(node), 4),
    };

    /// <param name="chosen">Nodes this scale-down removes already (empty ones): the checks count them as gone.</param>
    private Refusal? WhyNot(NodeInfo node, IReadOnlyList<NodeInfo> chosen)
    {
        if (node.InstanceId is null)
        {
            return new Refusal.NoInstanceId(node.Name);
        }

        if (backoffs.FirstOrDefault(b => b.Node == node.Name && (b.InstanceId is null || b.InstanceId == node.InstanceId)) is { } backoff
            && backoff.At + settings.DrainBackoff > now)
        {
            return new Refusal.DrainBackedOff(node.Name, backoff.At, backoff.Reason, backoff.At + settings.DrainBackoff);
        }

        if (node.Blockers.Count > 0)
        {
            return new Refusal.Unevictable(node.Name, node.Blockers[0], node.Blockers.Count - 1);
        }

        if (LastInZone(node, chosen) is { } lastInZone)
        {
            return lastInZone;
        }

        places ??= snapshot.Nodes.Select(Place.Of).ToList();
        // Memory in use held the scale-down back no longer (it counts by requests): as Cluster
        // Autoscaler's utilisation threshold, only a node whose pods request less than
        // scaleDownMemoryThreshold of its memory is repacked, which leaves the fuller ones their room.
        var u = snapshot.Utilization;
        var byRequests = MemoryAccounting.ByRequests(u);
        var requestedMemory = (double)node.Requested.MemoryBytes / Math.Max(1, node.Allocatable.MemoryBytes);
        if (byRequests && !(u.MemoryMaxOverDownWindow < settings.ScaleDownMemoryThreshold) && requestedMemory >= settings.ScaleDownMemoryThreshold)
        {
            return new Refusal.MemoryRequested(node.Name, requestedMemory, settings.ScaleDownMemoryThreshold);
        }

        // By requests, the pods may fill a node's memory as the scheduler would; else only to the target.
        if (Relocation.WhyNot(node, places, settings.TargetUtilization, byRequests ? 1.0 : settings.TargetUtilization) is { } cannotMove)
        {
            return cannotMove;
        }

        // While the workload grows, a removal that left less room than the headroom keeps would be
        // undone by the next tick: a remove-and-relaunch loop.
        var roomAfter = chosen.Aggregate(view.UnrequestedRoom, (room, gone) => room - FleetView.Room(gone)) - FleetView.Room(node) - node.MovablePods.Aggregate(Resources.Zero, (sum, g) => sum + g.PerPod.Times(g.Count));
        if (HeadroomRule.Applies(snapshot, settings) && HeadroomRule.IsShort(roomAfter, settings))
        {
            return new Refusal.HeadroomWouldBreak(node.Name, settings.Headroom);
        }

        var cpuAfter = UsageAfterRemoval(u.CpuMaxOverDownWindow, view.AllReadyWorkersCpu, node.Allocatable.CpuMillis + chosen.Sum(n => n.Allocatable.CpuMillis));
        var memoryAfter = UsageAfterRemoval(u.MemoryMaxOverDownWindow, view.AllReadyWorkersMemory, node.Allocatable.MemoryBytes + chosen.Sum(n => n.Allocatable.MemoryBytes));
        if (cpuAfter > settings.TargetUtilization || (memoryAfter > settings.TargetUtilization && !byRequests))
        {
            return new Refusal.UsageTooHigh(node.Name, cpuAfter, memoryAfter, settings.TargetUtilization);
        }

        return null;
    }

    /// <summary>
    /// Removals keep every zone that has workers non-empty while another zone has more than one
    /// (Ready, schedulable workers, managed or not): the zone's spread and volume-bound pods need it.
    /// </summary>
    private Refusal.LastInZone? LastInZone(NodeInfo node, IReadOnlyList<NodeInfo> chosen)
    {
        if (node.Zone is not { } zone)
        {
            return null;
        }

        workersByZone ??= snapshot.Nodes
            .Where(n => n.IsWorker && n.Ready && !n.Unschedulable && n.Zone is not null)
            .GroupBy(n => n.Zone!, StringComparer.Ordinal)
            .Select(g => (Zone: g.Key, Workers: g.Count()))
            .ToList();
        var left = workersByZone.Select(z => (z.Zone, Workers: z.Workers - chosen.Count(n => n.Zone == z.Zone))).ToList();
        if (left.FirstOrDefault(z => z.Zone == zone).Workers != 1)
        {
            return null;
        }

        var crowded = left.Where(z => z.Workers > 1).OrderByDescending(z => z.Workers).FirstOrDefault();
        return crowded.Zone is null ? null : new Refusal.LastInZone(node.Name, zone, crowded.Zone, crowded.Workers);
    }

    /// <summary>
    /// The measured usage spread over the workers left; 0 when none are left (the pods then fit
    /// elsewhere by requests). Unknown usage counts as full, never as idle.
    /// </summary>
    private static double UsageAfterRemoval(double? utilization, long total, long removed) =>
        total - removed > 0 ? (utilization ?? 1.0) * total / (total - removed) : 0;

    private static double Utilization(NodeInfo node) => node.Requested.DominantShareOf(node.Allocatable);
}
