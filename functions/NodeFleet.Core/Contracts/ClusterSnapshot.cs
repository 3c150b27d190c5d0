namespace NodeFleet.Core.Contracts;

/// <summary>
/// What CollectMetrics measured: cluster utilisation, unschedulable pods and the nodes.
/// Metric figures are nullable on purpose: a missing series is <c>null</c>, never zero,
/// and the policy refuses to scale on missing data.
/// </summary>
public sealed record ClusterSnapshot
{
    /// <summary>The evaluation time of the queries (not the time Decide runs).</summary>
    public required DateTimeOffset CapturedAt { get; init; }

    /// <summary>Worker CPU and memory utilisation, now and over the sustained windows.</summary>
    public required UtilizationMetrics Utilization { get; init; }

    /// <summary>Every node of the cluster, the control plane included.</summary>
    public required IReadOnlyList<NodeInfo> Nodes { get; init; }

    /// <summary>Pods the scheduler marked unschedulable (PodScheduled=False, Unschedulable), grouped by identical requests, constraints and owner.</summary>
    public required IReadOnlyList<PodGroup> UnschedulablePods { get; init; }

    /// <summary>The DaemonSets whose pods would land on a new worker and shrink its free room (those whose constraints the template meets).</summary>
    // A setter, not init: the JSON source generator would overwrite an init-only default with null
    // when the member is absent (dotnet/runtime#84484).
    public IReadOnlyList<DaemonSetInfo> DaemonSets { get; set; } = [];

    /// <summary>The distinct constraints of the groups, each once (<see cref="Contracts.PodSets"/> packing); groups refer to them by index.</summary>
    public IReadOnlyList<PodConstraints> Constraints { get; set; } = [];

    /// <summary>The pod counts per node the constraints' spread and anti-affinity terms refer to, each once.</summary>
    public IReadOnlyList<PodSet> PodSets { get; set; } = [];

    /// <summary>Optional: worker CPU utilisation predicted at the predictive horizon (predict_linear).</summary>
    public double? PredictedCpuUtilization { get; init; }

    /// <summary>Optional: the value of the custom PromQL metric (e.g. queue depth).</summary>
    public double? CustomMetricValue { get; init; }

    /// <summary>
    /// How far the CPU requested by Pending and Running pods rose above its lowest point within
    /// the headroom window, in millicores: above 0 means the workload rose.
    /// </summary>
    public double? RequestedCpuRise { get; init; }

    /// <summary>
    /// In how many of the headroom window's four quarters the requested CPU ended above where it
    /// started (0 to 4): a trend rises in several, a single step (a burst arriving) in one.
    /// </summary>
    public int? RequestedCpuRisingQuarters { get; init; }

    /// <summary>Highest minus lowest requested CPU within the headroom window, in millicores: 0 means a flat workload.</summary>
    public double? RequestedCpuSwing { get; init; }
}

/// <summary>
/// Utilisation as fractions of allocatable (0.72 = 72 %). Windowed values come from PromQL
/// range functions: <c>min_over_time</c> for "above the threshold for the whole window",
/// <c>max_over_time</c> for "below the threshold for the whole window".
/// </summary>
public sealed record UtilizationMetrics
{
    public double? CpuNow { get; init; }

    /// <summary>Lowest CPU utilisation over the scale-up window: above the threshold means it held the whole window.</summary>
    public double? CpuMinOverUpWindow { get; init; }

    /// <summary>Highest CPU utilisation over the scale-down window: below the threshold means it held the whole window.</summary>
    public double? CpuMaxOverDownWindow { get; init; }

    public double? MemoryNow { get; init; }

    /// <summary>Highest memory utilisation over the scale-down window.</summary>
    public double? MemoryMaxOverDownWindow { get; init; }

    /// <summary>
    /// The memory the pods on a worker use (working set) as a share of the memory they request,
    /// the highest over the workers and over the scale-down window (1.1 = 10 % beyond the requests).
    /// At or below 1 the scheduler's accounting of requests bounds memory, and the memory rules count
    /// by requests (<see cref="Policy.MemoryAccounting"/>); null when unknown (no cAdvisor series).
    /// </summary>
    public double? MemoryUseOfRequests { get; init; }
}

public enum CapacityType
{
    OnDemand,
    Spot,
}

/// <summary>A node as Kubernetes and EC2 describe it, with the pod facts the scale-down rules need.</summary>
public sealed record NodeInfo
{
    public required string Name { get; init; }

    /// <summary>EC2 instance id from the provider id <c>aws:///zone/i-...</c>; null when the node maps to no instance.</summary>
    public string? InstanceId { get; init; }

    public string? Zone { get; init; }

    public string? InstanceType { get; init; }

    public CapacityType? CapacityType { get; init; }

    /// <summary>The Ready condition is True.</summary>
    public required bool Ready { get; init; }

    /// <summary>When the Ready condition last changed (its lastTransitionTime); null when not reported.</summary>
    public DateTimeOffset? ReadyChangedAt { get; init; }

    /// <summary>Cordoned (spec.unschedulable): no new pod lands on it. Its taints are <see cref="Taints"/>, which pods may tolerate.</summary>
    public bool Unschedulable { get; init; }

    /// <summary>Carries the control-plane/master role: never a scale-down candidate.</summary>
    public bool ControlPlane { get; init; }

    /// <summary>Labelled <c>nodefleet.io/managed=true</c>: launched by NodeFleet and ours to remove.</summary>
    public bool Managed { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>NodeFleet's cordon mark when NodeFleet cordoned the node; null otherwise (not cordoned, or by someone else).</summary>
    public CordonMark? Cordon { get; init; }

    /// <summary>Allocatable capacity; <see cref="Resources.Pods"/> is the max-pods limit.</summary>
    public required Resources Allocatable { get; init; }

    /// <summary>
    /// The node's labels that scheduling reads: those some pending or movable pod's constraints
    /// name, and the zone, hostname, instance type and architecture (kept few for the payload).
    /// </summary>
    // Setters, not init, for the same reason as MovablePods.
    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();

    /// <summary>The node's NoSchedule and NoExecute taints (PreferNoSchedule never keeps a pod away).</summary>
    public IReadOnlyList<NodeTaint> Taints { get; set; } = [];

    /// <summary>Sum of requests of the pods bound to the node; <see cref="Resources.Pods"/> is the pod count.</summary>
    public required Resources Requested { get; init; }

    /// <summary>Pods a drain would move to other nodes (DaemonSet and mirror pods excluded), grouped by requests.</summary>
    // A setter, not init: the JSON source generator would overwrite an init-only default with null
    // when the member is absent (dotnet/runtime#84484).
    public IReadOnlyList<PodGroup> MovablePods { get; set; } = [];

    /// <summary>Pods that may not be evicted; any entry makes the node ineligible for removal.</summary>
    // A setter, not init: the JSON source generator would overwrite an init-only default with null
    // when the member is absent (dotnet/runtime#84484).
    public IReadOnlyList<EvictionBlocker> Blockers { get; set; } = [];

    public bool IsWorker => !ControlPlane;
}

/// <summary><see cref="Count"/> pods with identical requests and constraints (usually one controller's replicas).</summary>
public sealed record PodGroup
{
    /// <summary>What the scheduler requires of a node besides room; null for a pod with no constraint.</summary>
    /// <remarks>Travels once per snapshot in <see cref="ClusterSnapshot.Constraints"/> (<see cref="ConstraintsId"/>): a Deployment's groups on every node share it.</remarks>
    [System.Text.Json.Serialization.JsonIgnore]
    public PodConstraints? Constraints { get; init; }

    /// <summary>The index of <see cref="Constraints"/> in <see cref="ClusterSnapshot.Constraints"/> (the payload's form); null without constraints.</summary>
    public int? ConstraintsId { get; init; }

    public required long CpuMillis { get; init; }

    public required long MemoryBytes { get; init; }

    public required int Count { get; init; }

    /// <summary>Optional label for reports, e.g. <c>default/Deployment/web</c>.</summary>
    public string? Owner { get; init; }

    public Resources PerPod => new(CpuMillis, MemoryBytes, 1);
}

/// <summary>Why a pod may not be evicted by a scale-down.</summary>
public enum EvictionBlockReason
{
    /// <summary>A bare pod: no controller would recreate it.</summary>
    NoController,

    /// <summary>Uses emptyDir or hostPath storage that would be lost.</summary>
    LocalStorage,

    /// <summary>Annotated <c>cluster-autoscaler.kubernetes.io/safe-to-evict: "false"</c>.</summary>
    SafeToEvictFalse,

    /// <summary>Annotated <c>karpenter.sh/do-not-disrupt: "true"</c>.</summary>
    DoNotDisrupt,

    /// <summary>A kube-system pod not run by a DaemonSet.</summary>
    KubeSystem,

    /// <summary>Evicting it would exceed its PodDisruptionBudget's allowed disruptions.</summary>
    PodDisruptionBudget,
}

public sealed record EvictionBlocker
{
    /// <summary><c>namespace/name</c> of the pod.</summary>
    public required string Pod { get; init; }

    public required EvictionBlockReason Reason { get; init; }

    /// <summary>Optional detail, e.g. the PodDisruptionBudget's name.</summary>
    public string? Detail { get; init; }
}
