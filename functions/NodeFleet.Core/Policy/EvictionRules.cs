using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy;

/// <summary>The facts about one pod that decide whether a scale-down may evict it.</summary>
public sealed record PodFacts
{
    public required string Namespace { get; init; }
    public required string Name { get; init; }

    /// <summary>Kind of the controlling owner (ReplicaSet, StatefulSet, DaemonSet, Job, ...); null for a bare pod.</summary>
    public string? OwnerKind { get; init; }

    /// <summary>A static pod's mirror (<c>kubernetes.io/config.mirror</c> annotation): the kubelet owns it.</summary>
    public bool IsMirror { get; init; }

    /// <summary>Mounts emptyDir or hostPath volumes.</summary>
    public bool HasLocalStorage { get; init; }

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    /// <summary>The PodDisruptionBudgets (<c>namespace/name</c>) selecting this pod.</summary>
    public IReadOnlyList<string> DisruptionBudgets { get; init; } = [];

    public required long CpuMillis { get; init; }
    public required long MemoryBytes { get; init; }

    /// <summary><c>namespace/Kind/name</c> of its controller, for reasons.</summary>
    public string? Owner { get; init; }

    /// <summary>What it requires of the node it moves to; null when only room.</summary>
    public PodConstraints? Constraints { get; init; }
}

/// <summary>What a drain of a node would do with its pods.</summary>
public sealed record NodePodsClassification(IReadOnlyList<PodGroup> Movable, IReadOnlyList<EvictionBlocker> Blockers);

/// <summary>
/// Which pods a scale-down may evict, following Cluster Autoscaler's and Karpenter's rules:
/// bare pods, local storage and kube-system pods block unless annotated safe-to-evict "true";
/// safe-to-evict "false" and do-not-disrupt "true" always block; a PodDisruptionBudget blocks
/// when the node holds more of its pods than it allows to be disrupted. DaemonSet and mirror
/// pods stay with the node and are neither moved nor blocking.
/// </summary>
public static class EvictionRules
{
    public const string SafeToEvictAnnotation = "cluster-autoscaler.kubernetes.io/safe-to-evict";
    public const string DoNotDisruptAnnotation = "karpenter.sh/do-not-disrupt";

    public static bool StaysWithNode(PodFacts pod) => pod.IsMirror || pod.OwnerKind == "DaemonSet";

    /// <summary>The rule a single pod breaks on its own (PDBs need the whole node: see <see cref="Classify"/>).</summary>
    public static EvictionBlockReason? BlockReason(PodFacts pod)
    {
        if (StaysWithNode(pod))
        {
            return null;
        }

        var safeToEvict = pod.Annotations.GetValueOrDefault(SafeToEvictAnnotation);
        if (string.Equals(safeToEvict, "false", StringComparison.OrdinalIgnoreCase))
        {
            return EvictionBlockReason.SafeToEvictFalse;
        }

        if (string.Equals(pod.Annotations.GetValueOrDefault(DoNotDisruptAnnotation), "true", StringComparison.OrdinalIgnoreCase))
        {
            return EvictionBlockReason.DoNotDisrupt;
        }

        if (string.Equals(safeToEvict, "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (pod.OwnerKind is null)
        {
            return EvictionBlockReason.NoController;
        }

        if (pod.HasLocalStorage)
        {
            return EvictionBlockReason.LocalStorage;
        }

        return pod.Namespace == "kube-system" ? EvictionBlockReason.KubeSystem : null;
    }

    /// <summary>
    /// Splits a node's pods into movable groups and blockers. <paramref name="disruptionsAllowed"/>
    /// maps a PodDisruptionBudget (<c>namespace/name</c>) to its <c>status.disruptionsAllowed</c>.
    /// </summary>
    public static NodePodsClassification Classify(IEnumerable<PodFacts> pods, IReadOnlyDictionary<string, int> disruptionsAllowed)
    {
        var blockers = new List<EvictionBlocker>();
        var movable = new List<PodFacts>();
        var evictions = new Dictionary<string, int>();
        foreach (var pod in pods)
        {
            if (StaysWithNode(pod))
            {
                continue;
            }

            if (BlockReason(pod) is { } reason)
            {
                blockers.Add(new EvictionBlocker { Pod = $"{pod.Namespace}/{pod.Name}", Reason = reason });
                continue;
            }

            var overBudget = pod.DisruptionBudgets.FirstOrDefault(pdb =>
                evictions.GetValueOrDefault(pdb) + 1 > disruptionsAllowed.GetValueOrDefault(pdb));
            if (overBudget is not null)
            {
                blockers.Add(new EvictionBlocker
                {
                    Pod = $"{pod.Namespace}/{pod.Name}",
                    Reason = EvictionBlockReason.PodDisruptionBudget,
                    Detail = $"{overBudget} allows {disruptionsAllowed.GetValueOrDefault(overBudget)} disruption(s)",
                });
                continue;
            }

            foreach (var pdb in pod.DisruptionBudgets)
            {
                evictions[pdb] = evictions.GetValueOrDefault(pdb) + 1;
            }

            movable.Add(pod);
        }

        // Constrained pods keep their owner (a refusal names it); unconstrained ones group by size alone.
        var groups = movable
            .GroupBy(p => (p.CpuMillis, p.MemoryBytes, Owner: p.Constraints is null ? null : p.Owner, Key: Cluster.SchedulingFacts.Key(p.Constraints)))
            .Select(g => new PodGroup { CpuMillis = g.Key.CpuMillis, MemoryBytes = g.Key.MemoryBytes, Count = g.Count(), Owner = g.Key.Owner, Constraints = g.First().Constraints })
            .ToList();
        return new NodePodsClassification(groups, blockers);
    }
}
