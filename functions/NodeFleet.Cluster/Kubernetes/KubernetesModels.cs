using k8s.Models;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Kubernetes;
using NodeFleet.Core.Ports;

namespace NodeFleet.Cluster.Kubernetes;

/// <summary>
/// The official client's models mapped to Core's records, reading only the fields the steps use.
/// Quantities are the client's <see cref="ResourceQuantity"/> (exact fractions), rounded up as the
/// scheduler rounds requests.
/// </summary>
public static class KubernetesModels
{
    public const string MirrorAnnotation = "kubernetes.io/config.mirror";

    public static ClusterNode ToNode(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var allocatable = node.Status?.Allocatable;
        var ready = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        return new ClusterNode(
            Required(node.Metadata?.Name, "a node", "metadata.name"),
            node.Spec?.ProviderID,
            ready?.Status == "True",
            node.Spec?.Unschedulable ?? false,
            Map(node.Metadata?.Labels),
            (node.Spec?.Taints ?? []).Select(t => new Taint(t.Key ?? "", t.Effect ?? "") { Value = string.IsNullOrEmpty(t.Value) ? null : t.Value }).ToList(),
            new DateTimeOffset(DateTime.SpecifyKind(
                node.Metadata?.CreationTimestamp ?? throw Missing($"node {node.Metadata?.Name}", "metadata.creationTimestamp"), DateTimeKind.Utc)))
        {
            Allocatable = new Core.Contracts.Resources(
                CpuMillis(Get(allocatable, "cpu")),
                Bytes(Get(allocatable, "memory")),
                (int)Whole(Get(allocatable, "pods"))),
            ReadyChangedAt = ready?.LastTransitionTime is { } changed ? new DateTimeOffset(DateTime.SpecifyKind(changed, DateTimeKind.Utc)) : null,
            Annotations = Map(node.Metadata?.Annotations),
        };
    }

    /// <summary>
    /// A pod with its requests as the scheduler counts them (<see cref="Requests"/>), its
    /// scheduling fields and whether the scheduler marked it unschedulable.
    /// </summary>
    public static ClusterPod ToPod(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var metadata = pod.Metadata;
        var name = Required(metadata?.Name, "a pod", "metadata.name");
        var annotations = Map(metadata?.Annotations);
        var controller = metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        var (cpu, memory) = Requests(pod.Spec);
        return new ClusterPod(
            Required(metadata?.NamespaceProperty, $"pod {name}", "metadata.namespace"),
            name,
            pod.Spec?.NodeName,
            pod.Status?.Phase ?? "Unknown",
            controller?.Kind,
            annotations.ContainsKey(MirrorAnnotation),
            pod.Spec?.Volumes?.Any(v => v.EmptyDir is not null || v.HostPath is not null) ?? false,
            annotations,
            Map(metadata?.Labels),
            cpu,
            memory)
        {
            DeletionTimestamp = metadata?.DeletionTimestamp is { } deletion ? new DateTimeOffset(DateTime.SpecifyKind(deletion, DateTimeKind.Utc)) : null,
            // The API defaults it to 30 on create, so a served pod always has it; 30 stands in for a sparse test object.
            TerminationGracePeriodSeconds = pod.Spec?.TerminationGracePeriodSeconds ?? 30,
            Unschedulable = pod.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable") ?? false,
            Scheduling = ToScheduling(pod.Spec, $"pod {name}"),
            OwnerName = controller?.Name,
        };
    }

    /// <summary>
    /// CPU and memory requests as the scheduler counts them: the larger of the app containers plus
    /// the sidecars (init containers with restartPolicy Always) and the largest init container
    /// (plus the sidecars started before it), then the pod overhead.
    /// </summary>
    public static (long CpuMillis, long MemoryBytes) Requests(V1PodSpec? spec)
    {
        if (spec is null)
        {
            return (0, 0);
        }

        static (long Cpu, long Memory) Of(V1Container c) => (CpuMillis(Get(c.Resources?.Requests, "cpu")), Bytes(Get(c.Resources?.Requests, "memory")));
        var (appCpu, appMemory) = (0L, 0L);
        foreach (var container in spec.Containers ?? [])
        {
            var (c, m) = Of(container);
            (appCpu, appMemory) = (appCpu + c, appMemory + m);
        }

        var (sidecarCpu, sidecarMemory, initCpu, initMemory) = (0L, 0L, 0L, 0L);
        foreach (var init in spec.InitContainers ?? [])
        {
            var (c, m) = Of(init);
            if (init.RestartPolicy == "Always")
            {
                (sidecarCpu, sidecarMemory) = (sidecarCpu + c, sidecarMemory + m);
                (initCpu, initMemory) = (Math.Max(initCpu, sidecarCpu), Math.Max(initMemory, sidecarMemory));
            }
            else
            {
                (initCpu, initMemory) = (Math.Max(initCpu, sidecarCpu + c), Math.Max(initMemory, sidecarMemory + m));
            }
        }

        return (
            Math.Max(appCpu + sidecarCpu, initCpu) + CpuMillis(Get(spec.Overhead, "cpu")),
            Math.Max(appMemory + sidecarMemory, initMemory) + Bytes(Get(spec.Overhead, "memory")));
    }

    /// <summary>The spec's scheduling fields; only required terms (preferred ones never keep a pod off a node).</summary>
    public static PodSchedulingSpec ToScheduling(V1PodSpec? spec, string what)
    {
        if (spec is null)
        {
            return PodSchedulingSpec.None;
        }

        var affinity = spec.Affinity;
        return new PodSchedulingSpec
        {
            NodeSelector = Map(spec.NodeSelector),
            RequiredNodeAffinity = affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is { } required ? Terms(required, what) : null,
            Tolerations = (spec.Tolerations ?? []).Select(t => new Toleration
            {
                Key = string.IsNullOrEmpty(t.Key) ? null : t.Key,
                Operator = string.IsNullOrEmpty(t.OperatorProperty) ? "Equal" : t.OperatorProperty,
                Value = t.Value,
                Effect = string.IsNullOrEmpty(t.Effect) ? null : t.Effect,
            }).ToList(),
            TopologySpread = (spec.TopologySpreadConstraints ?? []).Select(t => new SpreadSpec(
                Required(t.TopologyKey, what, "topologySpreadConstraints[].topologyKey"),
                t.MaxSkew,
                Required(t.WhenUnsatisfiable, what, "topologySpreadConstraints[].whenUnsatisfiable"),
                Selector(t.LabelSelector, what))
            {
                MinDomains = t.MinDomains,
                MatchLabelKeys = t.MatchLabelKeys?.ToList() ?? [],
                NodeAffinityPolicy = string.IsNullOrEmpty(t.NodeAffinityPolicy) ? "Honor" : t.NodeAffinityPolicy,
                NodeTaintsPolicy = string.IsNullOrEmpty(t.NodeTaintsPolicy) ? "Ignore" : t.NodeTaintsPolicy,
            }).ToList(),
            RequiredPodAntiAffinity = AffinityTerms(affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, what),
            RequiredPodAffinity = AffinityTerms(affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution, what),
            // The ports a pod holds for its lifetime, as the scheduler's NodePorts counts them: the app
            // containers' and the sidecars' (an ordinary init container has exited before they start).
            HostPorts = (spec.InitContainers ?? []).Where(c => c.RestartPolicy == "Always").Concat(spec.Containers ?? [])
                .SelectMany(c => c.Ports ?? [])
                .Where(p => p.HostPort is > 0)
                .Select(p => new HostPort { Port = p.HostPort!.Value, Protocol = string.IsNullOrEmpty(p.Protocol) ? "TCP" : p.Protocol, HostIp = string.IsNullOrEmpty(p.HostIP) ? null : p.HostIP })
                .Distinct()
                .ToList(),
            ClaimNames = (spec.Volumes ?? []).Select(v => v.PersistentVolumeClaim?.ClaimName).OfType<string>().ToList(),
        };
    }

    public static ClaimInfo ToClaim(V1PersistentVolumeClaim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        var name = Required(claim.Metadata?.Name, "a PersistentVolumeClaim", "metadata.name");
        return new ClaimInfo(
            Required(claim.Metadata?.NamespaceProperty, $"PersistentVolumeClaim {name}", "metadata.namespace"),
            name,
            string.IsNullOrEmpty(claim.Spec?.VolumeName) ? null : claim.Spec.VolumeName);
    }

    public static VolumeInfo ToVolume(V1PersistentVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var name = Required(volume.Metadata?.Name, "a PersistentVolume", "metadata.name");
        return new VolumeInfo(name, volume.Spec?.NodeAffinity?.Required is { } required ? Terms(required, $"PersistentVolume {name}") : null);
    }

    public static DaemonSetSpec ToDaemonSet(V1DaemonSet daemonSet)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        var name = Required(daemonSet.Metadata?.Name, "a DaemonSet", "metadata.name");
        var spec = daemonSet.Spec?.Template?.Spec;
        var (cpu, memory) = Requests(spec);
        return new DaemonSetSpec(
            Required(daemonSet.Metadata?.NamespaceProperty, $"DaemonSet {name}", "metadata.namespace"),
            name,
            cpu,
            memory,
            ToScheduling(spec, $"DaemonSet {name}"));
    }

    private static List<NodeSelectorTerm> Terms(V1NodeSelector selector, string what) =>
        (selector.NodeSelectorTerms ?? []).Select(t => new NodeSelectorTerm
        {
            MatchExpressions = Requirements(t.MatchExpressions, what),
            MatchFields = Requirements(t.MatchFields, what),
        }).ToList();

    private static List<NodeSelectorRequirement> Requirements(IList<V1NodeSelectorRequirement>? requirements, string what) =>
        (requirements ?? []).Select(r => new NodeSelectorRequirement
        {
            Key = Required(r.Key, what, "nodeSelectorTerms[].key"),
            Operator = Required(r.OperatorProperty, what, "nodeSelectorTerms[].operator"),
            Values = r.Values?.ToList() ?? [],
        }).ToList();

    private static List<PodAffinityTermSpec> AffinityTerms(IList<V1PodAffinityTerm>? terms, string what) =>
        (terms ?? []).Select(t => new PodAffinityTermSpec(Required(t.TopologyKey, what, "podAffinityTerm.topologyKey"), Selector(t.LabelSelector, what))
        {
            Namespaces = t.Namespaces?.ToList() ?? [],
            NamespaceSelector = Selector(t.NamespaceSelector, what),
        }).ToList();

    private static LabelSelector? Selector(V1LabelSelector? selector, string what) => selector is null ? null : new LabelSelector(
        Map(selector.MatchLabels),
        (selector.MatchExpressions ?? []).Select(e => new SelectorRequirement(
            Required(e.Key, what, "matchExpressions[].key"),
            Required(e.OperatorProperty, what, "matchExpressions[].operator"),
            e.Values?.ToList() ?? [])).ToList());

    /// <summary>In policy/v1 a budget without a selector selects no pod; an empty one selects every pod of its namespace.</summary>
    public static DisruptionBudget ToBudget(V1PodDisruptionBudget budget)
    {
        ArgumentNullException.ThrowIfNull(budget);
        var name = Required(budget.Metadata?.Name, "a PodDisruptionBudget", "metadata.name");
        var selector = budget.Spec?.Selector;
        return new DisruptionBudget(
            Required(budget.Metadata?.NamespaceProperty, $"PodDisruptionBudget {name}", "metadata.namespace"),
            name,
            Selector(selector, $"PodDisruptionBudget {name}"),
            budget.Status?.DisruptionsAllowed ?? 0);
    }

    public static long CpuMillis(ResourceQuantity? quantity) => quantity is null ? 0 : (long)decimal.Ceiling(quantity.ToDecimal() * 1000);

    public static long Bytes(ResourceQuantity? quantity) => Whole(quantity);

    private static long Whole(ResourceQuantity? quantity) => quantity is null ? 0 : (long)decimal.Ceiling(quantity.ToDecimal());

    private static ResourceQuantity? Get(IDictionary<string, ResourceQuantity>? quantities, string name) =>
        quantities is not null && quantities.TryGetValue(name, out var quantity) ? quantity : null;

    private static Dictionary<string, string> Map(IDictionary<string, string>? values) =>
        values is null ? [] : new Dictionary<string, string>(values, StringComparer.Ordinal);

    private static string Required(string? value, string what, string field) => value ?? throw Missing(what, field);

    private static ClusterRequestRejectedException Missing(string what, string field) =>
        new($"the Kubernetes API returned {what} without {field}");
}
