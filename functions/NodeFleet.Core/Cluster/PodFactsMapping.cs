using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Cluster;

/// <summary>Turns the API's pods and budgets into the facts the eviction rules read.</summary>
public static class PodFactsMapping
{
    public static PodFacts ToFacts(ClusterPod pod, IEnumerable<DisruptionBudget> budgets, SchedulingFacts? scheduling = null) => new()
    {
        Owner = SchedulingFacts.Owner(pod),
        Constraints = scheduling?.Constraints(pod),
        Namespace = pod.Namespace,
        Name = pod.Name,
        OwnerKind = pod.OwnerKind,
        IsMirror = pod.IsMirror,
        HasLocalStorage = pod.HasLocalStorage,
        Annotations = pod.Annotations,
        DisruptionBudgets = budgets.Where(b => b.Selects(pod)).Select(b => $"{b.Namespace}/{b.Name}").ToList(),
        CpuMillis = pod.CpuMillis,
        MemoryBytes = pod.MemoryBytes,
    };

    /// <summary>Blockers kept per node: the first ones say enough, and the payload stays small.</summary>
    public const int MaxBlockersPerNode = 3;

    /// <summary>
    /// Adds to each managed, Ready worker of the snapshot what a drain would do with its pods:
    /// the movable pods grouped by requests and constraints, and the pods that may not be evicted.
    /// With <paramref name="objects"/>, the scheduling facts too: the unschedulable pods from the API,
    /// the DaemonSets, and every node's scheduling labels and taints.
    /// </summary>
    public static ClusterSnapshot WithPodFacts(ClusterSnapshot snapshot, IReadOnlyList<ClusterPod> pods, IReadOnlyList<DisruptionBudget> budgets, ClusterObjects? objects = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var scheduling = objects is null ? null : new SchedulingFacts(objects);
        var allowed = budgets.ToDictionary(b => $"{b.Namespace}/{b.Name}", b => b.DisruptionsAllowed);
        var byNode = pods.Where(p => p.IsActive && p.NodeName is not null).GroupBy(p => p.NodeName!).ToDictionary(g => g.Key, g => g.ToList());
        var nodes = snapshot.Nodes.Select(node =>
        {
            if (!(node.Managed && node.Ready && node.IsWorker))
            {
                return node;
            }

            var facts = byNode.GetValueOrDefault(node.Name, []).Select(p => ToFacts(p, budgets, scheduling));
            var classified = EvictionRules.Classify(facts, allowed);
            return node with
            {
                MovablePods = classified.Movable,
                Blockers = classified.Blockers.Take(MaxBlockersPerNode).ToList(),
            };
        }).ToList();
        if (scheduling is null)
        {
            return snapshot with { Nodes = nodes };
        }

        var pending = scheduling.UnschedulableGroups();
        var named = SchedulingFacts.NamedKeys(pending.Concat(nodes.SelectMany(n => n.MovablePods)).Select(g => g.Constraints));
        var apiNodes = objects!.Nodes.ToDictionary(n => n.Name);
        nodes = nodes.Select(n => apiNodes.TryGetValue(n.Name, out var api)
            ? n with { Labels = SchedulingFacts.KeptLabels(api.Labels, named), Taints = SchedulingFacts.BlockingTaints(api.Taints) }
            : n).ToList();
        return snapshot with { Nodes = nodes, UnschedulablePods = pending, DaemonSets = scheduling.DaemonSets() };
    }
}
