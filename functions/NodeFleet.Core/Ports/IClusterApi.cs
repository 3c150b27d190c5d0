using NodeFleet.Core.Contracts;
using NodeFleet.Core.Kubernetes;

namespace NodeFleet.Core.Ports;

/// <summary>The Kubernetes API subset the cluster steps use.</summary>
public interface IClusterApi
{
    Task<IReadOnlyList<ClusterNode>> ListNodesAsync(string? labelSelector, CancellationToken cancellationToken);

    /// <summary>The node, or null when it does not exist.</summary>
    Task<ClusterNode?> GetNodeAsync(string name, CancellationToken cancellationToken);

    /// <summary>Cordons: one PATCH sets <c>spec.unschedulable</c> and the mark's annotations (<see cref="CordonMark"/>).</summary>
    Task CordonAsync(string nodeName, CordonMark mark, CancellationToken cancellationToken);

    /// <summary>Uncordons: one PATCH removes <c>spec.unschedulable</c> and NodeFleet's cordon annotations.</summary>
    Task UncordonAsync(string nodeName, CancellationToken cancellationToken);

    /// <summary>Pods bound to the node (field selector <c>spec.nodeName</c>), every namespace.</summary>
    Task<IReadOnlyList<ClusterPod>> ListPodsOnNodeAsync(string nodeName, CancellationToken cancellationToken);

    /// <summary>Every pod of the cluster.</summary>
    Task<IReadOnlyList<ClusterPod>> ListPodsAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<DisruptionBudget>> ListDisruptionBudgetsAsync(CancellationToken cancellationToken);

    /// <summary>Every PersistentVolumeClaim (which volume each is bound to).</summary>
    Task<IReadOnlyList<ClaimInfo>> ListPersistentVolumeClaimsAsync(CancellationToken cancellationToken);

    /// <summary>Every PersistentVolume (the nodes, or zones, it can be reached from).</summary>
    Task<IReadOnlyList<VolumeInfo>> ListPersistentVolumesAsync(CancellationToken cancellationToken);

    /// <summary>Every DaemonSet: its pod template's requests and scheduling fields.</summary>
    Task<IReadOnlyList<DaemonSetSpec>> ListDaemonSetsAsync(CancellationToken cancellationToken);

    /// <summary>Evicts through the policy/v1 Eviction subresource, which honours PodDisruptionBudgets.</summary>
    Task<EvictionOutcome> EvictAsync(string podNamespace, string podName, CancellationToken cancellationToken);

    Task DeleteNodeAsync(string nodeName, CancellationToken cancellationToken);
}

public sealed record Taint(string Key, string Effect)
{
    /// <summary>The taint's value; null when it has none.</summary>
    public string? Value { get; init; }
}

public sealed record ClusterNode(
    string Name,
    string? ProviderId,
    bool Ready,
    bool Unschedulable,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<Taint> Taints,
    DateTimeOffset CreatedAt)
{
    /// <summary>status.allocatable; zero when the API did not report it.</summary>
    public Contracts.Resources Allocatable { get; init; }

    /// <summary>The Ready condition's lastTransitionTime; null when the API did not report it.</summary>
    public DateTimeOffset? ReadyChangedAt { get; init; }
    /// <summary>metadata.annotations (NodeFleet's cordon mark among them).</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
}

public sealed record ClusterPod(
    string Namespace,
    string Name,
    string? NodeName,
    string Phase,
    string? OwnerKind,
    bool IsMirror,
    bool HasLocalStorage,
    IReadOnlyDictionary<string, string> Annotations,
    IReadOnlyDictionary<string, string> Labels,
    long CpuMillis,
    long MemoryBytes)
{
    /// <summary>Succeeded and Failed pods hold no resources and need no eviction.</summary>
    public bool IsActive => Phase is "Pending" or "Running" or "Unknown";

    /// <summary>metadata.deletionTimestamp: the pod is terminating, and may run until then (its deletion plus its grace period).</summary>
    public DateTimeOffset? DeletionTimestamp { get; init; }

    /// <summary>spec.terminationGracePeriodSeconds (the API's default is 30).</summary>
    public long TerminationGracePeriodSeconds { get; init; } = 30;

    /// <summary>The scheduler gave up on it for now: condition PodScheduled is False with reason Unschedulable.</summary>
    public bool Unschedulable { get; init; }

    /// <summary>The scheduling fields of its spec, selectors not yet evaluated.</summary>
    public PodSchedulingSpec Scheduling { get; init; } = PodSchedulingSpec.None;

    /// <summary>The controller's name (metadata.ownerReferences with controller: true); null for a bare pod.</summary>
    public string? OwnerName { get; init; }
}

/// <summary>
/// A pod spec's scheduling fields as the API serves them (only required terms: preferred ones
/// never keep a pod from a node). CPU and memory are on <see cref="ClusterPod"/>, counted as the
/// scheduler counts them: the larger of the containers' sum and the largest init container, plus overhead.
/// </summary>
public sealed record PodSchedulingSpec
{
    public static PodSchedulingSpec None { get; } = new();

    public IReadOnlyDictionary<string, string> NodeSelector { get; init; } = new Dictionary<string, string>();

    /// <summary>affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms; null when absent.</summary>
    public IReadOnlyList<NodeSelectorTerm>? RequiredNodeAffinity { get; init; }

    public IReadOnlyList<Toleration> Tolerations { get; init; } = [];

    public IReadOnlyList<SpreadSpec> TopologySpread { get; init; } = [];

    /// <summary>affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.</summary>
    public IReadOnlyList<PodAffinityTermSpec> RequiredPodAntiAffinity { get; init; } = [];

    /// <summary>affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution (not modelled; its presence is reported).</summary>
    public IReadOnlyList<PodAffinityTermSpec> RequiredPodAffinity { get; init; } = [];

    /// <summary>containers[].ports[] with a hostPort, and the sidecars' (init containers with restartPolicy Always), as the scheduler counts them.</summary>
    public IReadOnlyList<HostPort> HostPorts { get; init; } = [];

    /// <summary>volumes[].persistentVolumeClaim.claimName, in the pod's namespace.</summary>
    public IReadOnlyList<string> ClaimNames { get; init; } = [];
}

/// <summary>One topologySpreadConstraints entry, as served.</summary>
public sealed record SpreadSpec(string TopologyKey, int MaxSkew, string WhenUnsatisfiable, LabelSelector? Selector)
{
    public int? MinDomains { get; init; }

    /// <summary>Label keys whose values, taken from the pod, are ANDed to the selector.</summary>
    public IReadOnlyList<string> MatchLabelKeys { get; init; } = [];

    /// <summary>Honor (the default) or Ignore.</summary>
    public string NodeAffinityPolicy { get; init; } = "Honor";

    /// <summary>Ignore (the default) or Honor.</summary>
    public string NodeTaintsPolicy { get; init; } = "Ignore";
}

/// <summary>
/// A required pod (anti-)affinity term. An empty <see cref="Namespaces"/> with a null
/// <see cref="NamespaceSelector"/> means the pod's own namespace; a null <see cref="Selector"/> matches no pod.
/// </summary>
public sealed record PodAffinityTermSpec(string TopologyKey, LabelSelector? Selector)
{
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    public LabelSelector? NamespaceSelector { get; init; }
}

/// <summary>A PersistentVolumeClaim and the volume it is bound to (null while unbound).</summary>
public sealed record ClaimInfo(string Namespace, string Name, string? VolumeName);

/// <summary>A PersistentVolume and its spec.nodeAffinity.required terms (null: reachable from every node).</summary>
public sealed record VolumeInfo(string Name, IReadOnlyList<NodeSelectorTerm>? RequiredNodeAffinity);

/// <summary>A DaemonSet's pod template: requests as the scheduler counts them, and its scheduling fields.</summary>
public sealed record DaemonSetSpec(string Namespace, string Name, long CpuMillis, long MemoryBytes, PodSchedulingSpec Scheduling);

/// <summary>
/// A PodDisruptionBudget: which pods it selects and how many may be disrupted now. A null
/// selector selects no pod (policy/v1); an empty one every pod of the budget's namespace.
/// </summary>
public sealed record DisruptionBudget(string Namespace, string Name, LabelSelector? Selector, int DisruptionsAllowed)
{
    public bool Selects(ClusterPod pod) => pod.Namespace == Namespace && Selector?.Matches(pod.Labels) == true;
}

public enum EvictionResult
{
    /// <summary>201: the eviction was accepted.</summary>
    Evicted,

    /// <summary>429: a PodDisruptionBudget refuses it for now; try again later.</summary>
    BlockedByDisruptionBudget,

    /// <summary>404: the pod is already gone.</summary>
    AlreadyGone,
}

/// <summary>An eviction's result; for a refusal, the API's message (which budget, how many healthy pods).</summary>
public sealed record EvictionOutcome(EvictionResult Result, string? Detail = null);

/// <summary>The API refused the request for lack of permission; the message names the verb and resource the ClusterRole must grant.</summary>
public sealed class ClusterPermissionException(string message) : Exception(message);

/// <summary>The API server could not be reached, timed out, or answered with an error that is not the caller's fault (retry).</summary>
public sealed class ClusterUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
