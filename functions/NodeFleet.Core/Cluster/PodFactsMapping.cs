using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Cluster;

/// <summary>Turns the API's pods and budgets into the facts the eviction rules read.</summary>
public static class PodFactsMapping
{
    public static PodFacts ToFacts(ClusterPod pod, IEnumerable<DisruptionBudget> budgets) => new()
    {
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
    /// the movable pods grouped by requests, and the pods that may not be evicted.
    /// </summary>
    public static ClusterSnapshot WithPodFacts(ClusterSnapshot snapshot, IReadOnlyList<ClusterPod> pods, IReadOnlyList<DisruptionBudget> budgets)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var allowed = budgets.ToDictionary(b => $"{b.Namespace}/{b.Name}", b => b.DisruptionsAllowed);
        var byNode = pods.Where(p => p.IsActive && p.NodeName is not null).GroupBy(p => p.NodeName!).ToDictionary(g => g.Key, g => g.ToList());
        var nodes = snapshot.Nodes.Select(node =>
        {
            if (!(node.Managed && node.Ready && node.IsWorker))
            {
                return node;
            }

            var facts = byNode.GetValueOrDefault(node.Name, []).Select(p => ToFacts(p, budgets));
            var classified = EvictionRules.Classify(facts, allowed);
            return node with
            {
                MovablePods = classified.Movable,
                Blockers = classified.Blockers.Take(MaxBlockersPerNode).ToList(),
            };
        }).ToList();
        return snapshot with { Nodes = nodes };
    }
}
