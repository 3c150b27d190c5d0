using System.Text.Json.Serialization;

namespace NodeFleet.Core.Contracts;

/// <summary>
/// What the scheduler checks before it binds a pod to a node, as CollectMetrics read it from the
/// pod, its bound volumes and the pods already running. Selectors over other pods are evaluated
/// when the snapshot is taken (<see cref="TopologySpread.MatchingByNode"/>,
/// <see cref="PodAntiAffinity.Nodes"/>), so Decide needs only node names, labels and taints.
/// An empty record is an unconstrained pod; a <see cref="PodGroup"/> without constraints carries null.
/// </summary>
public sealed record PodConstraints
{
    // Setters, not init, on every defaulted member: the JSON source generator would overwrite an
    // init-only default with null when the member is absent (dotnet/runtime#84484).

    /// <summary>spec.nodeSelector: every label must be on the node with exactly this value.</summary>
    public IReadOnlyDictionary<string, string> NodeSelector { get; set; } = new Dictionary<string, string>();

    /// <summary>
    /// Required node selectors that must all hold: the pod's
    /// <c>requiredDuringSchedulingIgnoredDuringExecution</c>, and each bound PersistentVolume's
    /// <c>spec.nodeAffinity.required</c> (how a zonal volume pins its pod to a zone).
    /// </summary>
    public IReadOnlyList<RequiredNodeSelector> NodeAffinity { get; set; } = [];

    /// <summary>spec.tolerations: a node's NoSchedule and NoExecute taints must all be tolerated.</summary>
    public IReadOnlyList<Toleration> Tolerations { get; set; } = [];

    /// <summary>spec.topologySpreadConstraints with <c>whenUnsatisfiable: DoNotSchedule</c> on the zone or hostname key.</summary>
    public IReadOnlyList<TopologySpread> Spread { get; set; } = [];

    /// <summary>Required pod anti-affinity on <c>kubernetes.io/hostname</c>, the pod's own terms and the running pods' terms that repel it.</summary>
    public IReadOnlyList<PodAntiAffinity> AntiAffinity { get; set; } = [];

    /// <summary>Host ports the pod's containers bind: two pods may not bind the same one on a node.</summary>
    public IReadOnlyList<HostPort> HostPorts { get; set; } = [];

    /// <summary>Nodes where a running pod binds one of <see cref="HostPorts"/> already.</summary>
    public IReadOnlyList<string> HostPortNodes { get; set; } = [];

    /// <summary>
    /// Required constraints NodeFleet does not model (for example required pod affinity, or
    /// anti-affinity on a key other than the hostname), one line each. A pod with any is never a
    /// reason to launch, and a node running one is not removed: NodeFleet cannot tell where it fits.
    /// </summary>
    public IReadOnlyList<string> Unmodelled { get; set; } = [];
}

/// <summary>One required node selector: its terms are ORed, each term's requirements ANDed.</summary>
public sealed record RequiredNodeSelector
{
    /// <summary>Where it comes from, for reasons: <c>nodeAffinity</c>, or <c>volume &lt;claim&gt;</c> for a bound PersistentVolume.</summary>
    public required string Source { get; init; }

    /// <summary>nodeSelectorTerms; an empty list matches no node (the API rejects it for pods).</summary>
    public required IReadOnlyList<NodeSelectorTerm> Terms { get; init; }
}

/// <summary>One nodeSelectorTerm: every matchExpressions and matchFields requirement must hold; a term with none matches no node.</summary>
public sealed record NodeSelectorTerm
{
    public IReadOnlyList<NodeSelectorRequirement> MatchExpressions { get; set; } = [];

    /// <summary>Over node fields; Kubernetes defines only <c>metadata.name</c>, which no node yet to launch can be known to match.</summary>
    public IReadOnlyList<NodeSelectorRequirement> MatchFields { get; set; } = [];
}

/// <summary>
/// A node selector requirement: <c>In</c>, <c>NotIn</c>, <c>Exists</c>, <c>DoesNotExist</c>,
/// <c>Gt</c>, <c>Lt</c> (these two compare the label as an integer with the single value).
/// </summary>
public sealed record NodeSelectorRequirement
{
    public required string Key { get; init; }

    public required string Operator { get; init; }

    public IReadOnlyList<string> Values { get; set; } = [];
}

/// <summary>
/// A toleration. An empty <see cref="Key"/> with <c>Exists</c> tolerates every taint; a null
/// <see cref="Effect"/> matches every effect; <c>Equal</c> (the default) compares the value.
/// </summary>
public sealed record Toleration
{
    public string? Key { get; init; }

    public string Operator { get; init; } = "Equal";

    public string? Value { get; init; }

    public string? Effect { get; init; }
}

/// <summary>A node taint; <see cref="Effect"/> is NoSchedule, PreferNoSchedule or NoExecute.</summary>
public sealed record NodeTaint
{
    public required string Key { get; init; }

    public string? Value { get; init; }

    public required string Effect { get; init; }
}

/// <summary>
/// A topology spread constraint with <c>whenUnsatisfiable: DoNotSchedule</c>: placing the pod in a
/// domain (zone or node) may not make that domain's matching pods exceed the fewest in any eligible
/// domain by more than <see cref="MaxSkew"/>.
/// </summary>
public sealed record TopologySpread
{
    /// <summary><c>topology.kubernetes.io/zone</c> or <c>kubernetes.io/hostname</c>.</summary>
    public required string TopologyKey { get; init; }

    public required int MaxSkew { get; init; }

    /// <summary>With fewer eligible domains than this, the global minimum counts as 0.</summary>
    public int? MinDomains { get; init; }

    /// <summary>The group's own pods match the selector (a Deployment spreading itself): each one placed counts.</summary>
    public bool SelfMatch { get; init; }

    /// <summary>nodeAffinityPolicy: Ignore (true) counts domains of nodes the pod's node selectors reject; Honor (false, the default) does not.</summary>
    public bool IgnoreNodeAffinity { get; init; }

    /// <summary>nodeTaintsPolicy: Honor (true) leaves out nodes with taints the pod does not tolerate; Ignore (false, the default) counts them.</summary>
    public bool HonorTaints { get; init; }

    /// <summary>Running pods the selector matches, per node name; nodes with none are absent.</summary>
    /// <remarks>Travels once per snapshot in <see cref="ClusterSnapshot.PodSets"/> (<see cref="PodSet"/>): a Deployment's groups on every node share it.</remarks>
    [JsonIgnore]
    public IReadOnlyDictionary<string, int> MatchingByNode { get; set; } = new Dictionary<string, int>();

    /// <summary>The index of <see cref="MatchingByNode"/> in <see cref="ClusterSnapshot.PodSets"/> (the payload's form).</summary>
    public int? PodSet { get; init; }
}

/// <summary>Required anti-affinity on <c>kubernetes.io/hostname</c>: the pod may not run on a node in <see cref="Nodes"/>.</summary>
public sealed record PodAntiAffinity
{
    /// <summary>The group's own pods match the term (replicas repelling each other): one per node.</summary>
    public bool SelfMatch { get; init; }

    /// <summary>Nodes running a pod the term matches, or a pod whose own term matches this one.</summary>
    /// <remarks>Travels in <see cref="ClusterSnapshot.PodSets"/> (<see cref="PodSet"/>), as <see cref="TopologySpread.MatchingByNode"/> does.</remarks>
    [JsonIgnore]
    public IReadOnlyList<string> Nodes { get; set; } = [];

    /// <summary>The index of <see cref="Nodes"/> in <see cref="ClusterSnapshot.PodSets"/> (the payload's form).</summary>
    public int? PodSet { get; init; }
}

/// <summary>
/// Pods counted per node (a selector's matches), once per snapshot however many groups refer to it:
/// <see cref="Nodes"/> are indexes into <see cref="ClusterSnapshot.Nodes"/>, <see cref="Counts"/> the counts in the same order.
/// </summary>
public sealed record PodSet
{
    public required IReadOnlyList<int> Nodes { get; init; }

    public required IReadOnlyList<int> Counts { get; init; }
}

/// <summary>A host port; an empty or 0.0.0.0 <see cref="HostIp"/> takes the port on every address.</summary>
public sealed record HostPort
{
    public required int Port { get; init; }

    public string Protocol { get; init; } = "TCP";

    public string? HostIp { get; init; }
}

/// <summary>
/// What a new worker will look like: the resources it offers, its labels and taints. A label with
/// several possible values (the instance type EC2 Fleet picks among <c>instanceTypes</c>, the
/// capacity type a launch splits) is one of them, and a pod is placed on the template only if
/// every possible value satisfies it. The zone label is per zone (<see cref="Zones"/>).
/// </summary>
public sealed record WorkerTemplate
{
    /// <summary>The pool's name (<c>default</c>); a second template is another pool.</summary>
    public required string Name { get; init; }

    /// <summary>The node's allocatable before DaemonSet pods take their share.</summary>
    public required Resources Allocatable { get; init; }

    /// <summary>Labels every new worker of the pool carries, whatever the zone, with their possible values.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Labels { get; init; }

    public IReadOnlyList<NodeTaint> Taints { get; set; } = [];

    /// <summary>Zones the pool launches in; a worker there carries <c>topology.kubernetes.io/zone</c>.</summary>
    public required IReadOnlyList<string> Zones { get; init; }
}

/// <summary>A DaemonSet's pod as it would land on a new node: its requests and the constraints that say whether it lands.</summary>
public sealed record DaemonSetInfo
{
    /// <summary><c>namespace/name</c>.</summary>
    public required string Name { get; init; }

    public required long CpuMillis { get; init; }

    public required long MemoryBytes { get; init; }

    /// <summary>Null when the DaemonSet's pods have no node selector, affinity or tolerations.</summary>
    public PodConstraints? Constraints { get; init; }
}

/// <summary>Nodes of a launch that must be in one zone (the pods they are for are bound to it); the rest go where the zone balance puts them.</summary>
public sealed record ZoneShare
{
    public required string Zone { get; init; }

    public required int Nodes { get; init; }
}

/// <summary>Why no new node could host a pod, the way Cluster Autoscaler's NotTriggerScaleUp event says it.</summary>
public enum NoScaleUpReason
{
    /// <summary>Its requests exceed a new worker's allocatable (less the DaemonSets' share).</summary>
    TooLarge,

    /// <summary>spec.nodeSelector names a label or value no template has.</summary>
    NodeSelector,

    /// <summary>Its required node affinity matches no template in any zone.</summary>
    NodeAffinity,

    /// <summary>A bound volume restricts it to nodes (zones) no template launches in.</summary>
    VolumeZone,

    /// <summary>The templates carry a taint it does not tolerate.</summary>
    Taint,

    /// <summary>It selects a label the template may or may not get (an instance or capacity type among several).</summary>
    UncertainLabel,

    /// <summary>Its topology spread cannot be kept in the zones a template launches in.</summary>
    TopologySpread,

    /// <summary>A required constraint NodeFleet does not model.</summary>
    Unmodelled,
}

/// <summary>Pending pods of one owner that no new node could host, and why (reported, never launched for).</summary>
public sealed record NoScaleUpPods
{
    /// <summary><c>namespace/kind/name</c> of the owner, or <c>namespace/pod</c> for a bare pod.</summary>
    public required string Owner { get; init; }

    public required int Count { get; init; }

    public required NoScaleUpReason Reason { get; init; }

    /// <summary>The failing label, taint or volume, e.g. <c>gpu=true</c>.</summary>
    public string? Detail { get; init; }

    /// <summary>Operators have not been told yet (<see cref="FleetState.NoScaleUpNotified"/>): the notification says it, once.</summary>
    public bool New { get; init; }
}
