using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Kubernetes;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Cluster;

/// <summary>The API's objects scheduling facts are computed from (one CollectMetrics' reads).</summary>
public sealed record ClusterObjects
{
    public required IReadOnlyList<ClusterPod> Pods { get; init; }

    public required IReadOnlyList<ClusterNode> Nodes { get; init; }

    public IReadOnlyList<ClaimInfo> Claims { get; init; } = [];

    public IReadOnlyList<VolumeInfo> Volumes { get; init; } = [];

    public IReadOnlyList<DaemonSetSpec> DaemonSets { get; init; } = [];
}

/// <summary>
/// Turns pods as the API serves them into the constraints Decide checks: selectors over other
/// pods are evaluated here, against the pods bound now, so the payload carries node names and
/// counts instead of every pod's labels. The semantics follow kube-scheduler's plugins: topology
/// spread counts the pod's namespace and leaves terminating pods out; anti-affinity counts every
/// bound pod, and a running pod's term repels an incoming pod it matches (symmetry).
/// </summary>
public sealed class SchedulingFacts
{
    /// <summary>Label keys kept on every node whatever the pods name: the keys the templates and the topology terms use.</summary>
    public static readonly IReadOnlyList<string> AlwaysKeptLabels =
        [WorkerTemplates.ZoneLabel, WorkerTemplates.HostnameLabel, WorkerTemplates.InstanceTypeLabel, WorkerTemplates.ArchitectureLabel];

    /// <summary>The tolerations the DaemonSet controller adds to every DaemonSet pod (so node conditions do not keep them off).</summary>
    public static readonly IReadOnlyList<Toleration> DaemonSetTolerations =
    [
        new() { Key = "node.kubernetes.io/not-ready", Operator = "Exists", Effect = "NoExecute" },
        new() { Key = "node.kubernetes.io/unreachable", Operator = "Exists", Effect = "NoExecute" },
        new() { Key = "node.kubernetes.io/disk-pressure", Operator = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/memory-pressure", Operator = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/pid-pressure", Operator = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/unschedulable", Operator = "Exists", Effect = "NoSchedule" },
    ];

    private readonly ClusterObjects objects;
    private readonly List<ClusterPod> bound;
    private readonly List<(ClusterPod Pod, PodAffinityTermSpec Term)> repelling;
    private readonly Dictionary<string, IReadOnlyDictionary<string, int>> matchCache = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Namespace, string Name), ClaimInfo> claims;
    private readonly Dictionary<string, VolumeInfo> volumes;

    public SchedulingFacts(ClusterObjects objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        this.objects = objects;
        bound = objects.Pods.Where(p => p.IsActive && p.NodeName is not null).ToList();
        repelling = bound.SelectMany(p => p.Scheduling.RequiredPodAntiAffinity.Select(t => (p, t))).ToList();
        claims = objects.Claims.GroupBy(c => (c.Namespace, c.Name)).ToDictionary(g => g.Key, g => g.First());
        volumes = objects.Volumes.GroupBy(v => v.Name).ToDictionary(g => g.Key, g => g.First());
    }

    /// <summary>The pods the scheduler marked unschedulable, grouped by identical requests, owner and constraints.</summary>
    public IReadOnlyList<PodGroup> UnschedulableGroups() =>
        objects.Pods
            .Where(p => p.Unschedulable && p.NodeName is null && p.IsActive && p.DeletionTimestamp is null)
            .Select(p => (Pod: p, Constraints: Constraints(p)))
            .GroupBy(x => (x.Pod.CpuMillis, x.Pod.MemoryBytes, Owner: Owner(x.Pod), Key: Key(x.Constraints)))
            .Select(g => new PodGroup
            {
                CpuMillis = g.Key.CpuMillis,
                MemoryBytes = g.Key.MemoryBytes,
                Count = g.Count(),
                Owner = g.Key.Owner,
                Constraints = g.First().Constraints,
            })
            .OrderBy(g => g.Owner, StringComparer.Ordinal)
            .ThenByDescending(g => g.CpuMillis)
            .ToList();

    /// <summary>The DaemonSets' pods as a new node would run them: their requests and the constraints that say whether they land.</summary>
    public IReadOnlyList<DaemonSetInfo> DaemonSets() =>
        objects.DaemonSets.Select(d =>
        {
            var spec = d.Scheduling with { Tolerations = [.. d.Scheduling.Tolerations, .. DaemonSetTolerations] };
            var constraints = NodeConstraints(spec);
            return new DaemonSetInfo
            {
                Name = $"{d.Namespace}/{d.Name}",
                CpuMillis = d.CpuMillis,
                MemoryBytes = d.MemoryBytes,
                Constraints = constraints,
            };
        }).ToList();

    /// <summary>
    /// The node's labels worth carrying: the keys any of <paramref name="constraints"/> names, and
    /// <see cref="AlwaysKeptLabels"/>. The rest are dropped to keep the payload small.
    /// </summary>
    public static IReadOnlyDictionary<string, string> KeptLabels(IReadOnlyDictionary<string, string> labels, IReadOnlySet<string> namedKeys)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(namedKeys);
        return labels.Where(l => namedKeys.Contains(l.Key) || AlwaysKeptLabels.Contains(l.Key)).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
    }

    /// <summary>Every label key the constraints read (node selector, node and volume affinity).</summary>
    public static IReadOnlySet<string> NamedKeys(IEnumerable<PodConstraints?> constraints)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in constraints.OfType<PodConstraints>())
        {
            keys.UnionWith(c.NodeSelector.Keys);
            keys.UnionWith(c.NodeAffinity.SelectMany(s => s.Terms).SelectMany(t => t.MatchExpressions).Select(e => e.Key));
        }

        return keys;
    }

    /// <summary>The node's NoSchedule and NoExecute taints (PreferNoSchedule never keeps a pod off).</summary>
    public static IReadOnlyList<NodeTaint> BlockingTaints(IEnumerable<Taint> taints) =>
        taints.Where(t => t.Effect is "NoSchedule" or "NoExecute").Select(t => new NodeTaint { Key = t.Key, Value = t.Value, Effect = t.Effect }).ToList();

    /// <summary><c>namespace/Kind/name</c> of the controller, or <c>namespace/Pod/name</c> for a bare pod.</summary>
    public static string Owner(ClusterPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return pod.OwnerKind is { } kind && pod.OwnerName is { } name ? $"{pod.Namespace}/{kind}/{name}" : $"{pod.Namespace}/Pod/{pod.Name}";
    }

    /// <summary>An equality key for grouping pods by constraints (records holding lists compare by reference).</summary>
    public static string Key(PodConstraints? constraints) =>
        constraints is null ? "" : string.Join("|", constraints.Spread.Select(s => string.Join(",", s.MatchingByNode.OrderBy(e => e.Key, StringComparer.Ordinal)))
            .Concat(constraints.AntiAffinity.Select(a => string.Join(",", a.Nodes)))
            .Prepend(JsonSerializer.Serialize(constraints, NodeFleetJsonContext.Default.PodConstraints)));

    /// <summary>What the scheduler requires of a node for <paramref name="pod"/>; null when nothing beyond room.</summary>
    public PodConstraints? Constraints(ClusterPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var spec = pod.Scheduling;
        var c = NodeConstraints(spec) ?? new PodConstraints();
        var unmodelled = new List<string>(c.Unmodelled);
        var affinity = new List<RequiredNodeSelector>(c.NodeAffinity);
        foreach (var claimName in spec.ClaimNames)
        {
            if (!claims.TryGetValue((pod.Namespace, claimName), out var claim))
            {
                unmodelled.Add($"PersistentVolumeClaim {claimName} does not exist");
            }
            else if (claim.VolumeName is { } volumeName && volumes.TryGetValue(volumeName, out var volume) && volume.RequiredNodeAffinity is { } terms)
            {
                affinity.Add(new RequiredNodeSelector { Source = $"volume {claimName}", Terms = terms });
            }
        }

        var spread = new List<TopologySpread>();
        foreach (var s in spec.TopologySpread.Where(s => s.WhenUnsatisfiable == "DoNotSchedule"))
        {
            if (s.TopologyKey is not (WorkerTemplates.ZoneLabel or WorkerTemplates.HostnameLabel))
            {
                unmodelled.Add($"topologySpreadConstraints on {s.TopologyKey}");
                continue;
            }

            var selector = WithLabelKeys(s.Selector, s.MatchLabelKeys, pod.Labels);
            spread.Add(new TopologySpread
            {
                TopologyKey = s.TopologyKey,
                MaxSkew = s.MaxSkew,
                MinDomains = s.MinDomains,
                SelfMatch = selector?.Matches(pod.Labels) == true,
                IgnoreNodeAffinity = s.NodeAffinityPolicy == "Ignore",
                HonorTaints = s.NodeTaintsPolicy == "Honor",
                // Terminating pods are not counted (podtopologyspread leaves them out).
                MatchingByNode = Matching(selector, new HashSet<string>(StringComparer.Ordinal) { pod.Namespace }, countTerminating: false),
            });
        }

        var antiAffinity = new List<PodAntiAffinity>();
        foreach (var term in spec.RequiredPodAntiAffinity)
        {
            if (term.TopologyKey != WorkerTemplates.HostnameLabel)
            {
                unmodelled.Add($"podAntiAffinity on {term.TopologyKey}");
                continue;
            }

            if (!TermNamespaces(term, pod.Namespace, out var namespaces))
            {
                unmodelled.Add("podAntiAffinity with a namespaceSelector");
                continue;
            }

            antiAffinity.Add(new PodAntiAffinity
            {
                SelfMatch = InNamespaces(namespaces, pod.Namespace) && term.Selector?.Matches(pod.Labels) == true,
                // A bound pod's own node is among them: it is the node a scale-down would remove, so it never matters.
                Nodes = [.. Matching(term.Selector, namespaces, countTerminating: true).Keys.Order(StringComparer.Ordinal)],
            });
        }

        // Symmetry: a running pod's required anti-affinity keeps away the pods it matches.
        var repelledBy = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (other, term) in repelling.Where(r => r.Pod.Name != pod.Name || r.Pod.Namespace != pod.Namespace))
        {
            {
                if (!TermNamespaces(term, other.Namespace, out var namespaces) || !InNamespaces(namespaces, pod.Namespace) || term.Selector?.Matches(pod.Labels) != true)
                {
                    continue;
                }

                if (term.TopologyKey == WorkerTemplates.HostnameLabel)
                {
                    repelledBy.Add(other.NodeName!);
                }
                else
                {
                    unmodelled.Add($"{other.Namespace}/{other.Name}'s podAntiAffinity on {term.TopologyKey}");
                }
            }
        }

        if (repelledBy.Count > 0)
        {
            antiAffinity.Add(new PodAntiAffinity { Nodes = [.. repelledBy] });
        }

        if (spec.RequiredPodAffinity.Count > 0)
        {
            unmodelled.Add("podAffinity (required)");
        }

        var hostPortNodes = spec.HostPorts.Count == 0
            ? []
            : bound.Where(p => p.Scheduling.HostPorts.Any(taken => spec.HostPorts.Any(wanted => Conflict(taken, wanted))))
                .Select(p => p.NodeName!).Distinct().Order(StringComparer.Ordinal).ToList();

        var result = c with
        {
            NodeAffinity = affinity,
            Spread = spread,
            AntiAffinity = antiAffinity,
            HostPorts = spec.HostPorts,
            HostPortNodes = hostPortNodes,
            Unmodelled = unmodelled.Distinct().ToList(),
        };
        return IsEmpty(result) ? null : result;
    }

    /// <summary>The part of the constraints about the node alone: node selector, node affinity and tolerations.</summary>
    private static PodConstraints? NodeConstraints(PodSchedulingSpec spec)
    {
        var c = new PodConstraints
        {
            NodeSelector = spec.NodeSelector,
            NodeAffinity = spec.RequiredNodeAffinity is { } terms ? [new RequiredNodeSelector { Source = "nodeAffinity", Terms = terms }] : [],
            Tolerations = spec.Tolerations,
        };
        return IsEmpty(c) ? null : c;
    }

    private static bool IsEmpty(PodConstraints c) =>
        c.NodeSelector.Count == 0 && c.NodeAffinity.Count == 0 && c.Tolerations.Count == 0 && c.Spread.Count == 0
        && c.AntiAffinity.Count == 0 && c.HostPorts.Count == 0 && c.Unmodelled.Count == 0;

    /// <summary>matchLabelKeys: the pod's values of those keys are ANDed to the selector (keys the pod lacks are ignored).</summary>
    private static LabelSelector? WithLabelKeys(LabelSelector? selector, IReadOnlyList<string> keys, IReadOnlyDictionary<string, string> podLabels)
    {
        if (selector is null || keys.Count == 0)
        {
            return selector;
        }

        var extra = keys.Where(podLabels.ContainsKey).Select(k => new SelectorRequirement(k, "In", [podLabels[k]]));
        return selector with { MatchExpressions = [.. selector.MatchExpressions, .. extra] };
    }

    /// <summary>The namespaces a term selects: its list, or the pod's own; an empty namespaceSelector means all (null set). False for a non-empty namespaceSelector (not modelled).</summary>
    private static bool TermNamespaces(PodAffinityTermSpec term, string podNamespace, out IReadOnlySet<string>? namespaces)
    {
        if (term.NamespaceSelector is { } selector)
        {
            namespaces = null;
            return selector.MatchLabels.Count == 0 && selector.MatchExpressions.Count == 0;
        }

        namespaces = term.Namespaces.Count > 0 ? term.Namespaces.ToHashSet(StringComparer.Ordinal) : new HashSet<string>(StringComparer.Ordinal) { podNamespace };
        return true;
    }

    private static bool InNamespaces(IReadOnlySet<string>? namespaces, string ns) => namespaces is null || namespaces.Contains(ns);

    /// <summary>Two host ports conflict on the same port and protocol when their addresses overlap (empty or 0.0.0.0 is every address).</summary>
    public static bool Conflict(HostPort a, HostPort b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        static bool Any(string? ip) => string.IsNullOrEmpty(ip) || ip == "0.0.0.0";
        return a.Port == b.Port && a.Protocol == b.Protocol && (Any(a.HostIp) || Any(b.HostIp) || a.HostIp == b.HostIp);
    }

    /// <summary>
    /// Bound pods the selector matches in the namespaces (null: all), per node. Cached by selector
    /// and namespaces: a Deployment's pods share them, so a large cluster costs one scan per Deployment.
    /// For a bound pod the count includes the pod itself; it is only read for the nodes it would move to.
    /// </summary>
    private IReadOnlyDictionary<string, int> Matching(LabelSelector? selector, IReadOnlySet<string>? namespaces, bool countTerminating)
    {
        if (selector is null)
        {
            return new Dictionary<string, int>();
        }

        var key = string.Join("|", countTerminating, namespaces is null ? "*" : string.Join(",", namespaces.Order(StringComparer.Ordinal)),
            string.Join(",", selector.MatchLabels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")),
            string.Join(",", selector.MatchExpressions.Select(e => $"{e.Key} {e.Operator} {string.Join(";", e.Values)}")));
        if (!matchCache.TryGetValue(key, out var counts))
        {
            counts = bound
                .Where(p => (countTerminating || p.DeletionTimestamp is null) && InNamespaces(namespaces, p.Namespace) && selector.Matches(p.Labels))
                .GroupBy(p => p.NodeName!)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            matchCache[key] = counts;
        }

        return counts;
    }
}
