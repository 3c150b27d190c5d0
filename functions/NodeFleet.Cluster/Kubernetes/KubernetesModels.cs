using k8s.Models;
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
            (node.Spec?.Taints ?? []).Select(t => new Taint(t.Key ?? "", t.Effect ?? "")).ToList(),
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

    /// <summary>Requests are the sum over the pod's containers (init containers and overhead are not counted).</summary>
    public static ClusterPod ToPod(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var metadata = pod.Metadata;
        var name = Required(metadata?.Name, "a pod", "metadata.name");
        var annotations = Map(metadata?.Annotations);
        var containers = pod.Spec?.Containers ?? [];
        return new ClusterPod(
            Required(metadata?.NamespaceProperty, $"pod {name}", "metadata.namespace"),
            name,
            pod.Spec?.NodeName,
            pod.Status?.Phase ?? "Unknown",
            metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true)?.Kind,
            annotations.ContainsKey(MirrorAnnotation),
            pod.Spec?.Volumes?.Any(v => v.EmptyDir is not null || v.HostPath is not null) ?? false,
            annotations,
            Map(metadata?.Labels),
            containers.Sum(c => CpuMillis(Get(c.Resources?.Requests, "cpu"))),
            containers.Sum(c => Bytes(Get(c.Resources?.Requests, "memory"))))
        {
            DeletionTimestamp = metadata?.DeletionTimestamp is { } deletion ? new DateTimeOffset(DateTime.SpecifyKind(deletion, DateTimeKind.Utc)) : null,
            // The API defaults it to 30 on create, so a served pod always has it; 30 stands in for a sparse test object.
            TerminationGracePeriodSeconds = pod.Spec?.TerminationGracePeriodSeconds ?? 30,
        };
    }

    /// <summary>In policy/v1 a budget without a selector selects no pod; an empty one selects every pod of its namespace.</summary>
    public static DisruptionBudget ToBudget(V1PodDisruptionBudget budget)
    {
        ArgumentNullException.ThrowIfNull(budget);
        var name = Required(budget.Metadata?.Name, "a PodDisruptionBudget", "metadata.name");
        var selector = budget.Spec?.Selector;
        return new DisruptionBudget(
            Required(budget.Metadata?.NamespaceProperty, $"PodDisruptionBudget {name}", "metadata.namespace"),
            name,
            selector is null ? null : new LabelSelector(
                Map(selector.MatchLabels),
                (selector.MatchExpressions ?? []).Select(e => new SelectorRequirement(
                    Required(e.Key, $"PodDisruptionBudget {name}", "spec.selector.matchExpressions[].key"),
                    Required(e.OperatorProperty, $"PodDisruptionBudget {name}", "spec.selector.matchExpressions[].operator"),
                    e.Values?.ToList() ?? [])).ToList()),
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
