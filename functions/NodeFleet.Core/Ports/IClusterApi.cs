namespace NodeFleet.Core.Ports;

/// <summary>The Kubernetes API subset the cluster steps use.</summary>
public interface IClusterApi
{
    Task<IReadOnlyList<ClusterNode>> ListNodesAsync(string? labelSelector, CancellationToken cancellationToken);

    /// <summary>The node, or null when it does not exist.</summary>
    Task<ClusterNode?> GetNodeAsync(string name, CancellationToken cancellationToken);

    /// <summary>Cordons (<c>true</c>) or uncordons (<c>false</c>) by patching <c>spec.unschedulable</c>.</summary>
    Task SetUnschedulableAsync(string nodeName, bool unschedulable, CancellationToken cancellationToken);

    Task<IReadOnlyList<ClusterPod>> ListPodsOnNodeAsync(string nodeName, CancellationToken cancellationToken);

    /// <summary>Evicts through the policy/v1 Eviction subresource, which honours PodDisruptionBudgets.</summary>
    Task<EvictionResult> EvictAsync(string podNamespace, string podName, CancellationToken cancellationToken);

    Task DeleteNodeAsync(string nodeName, CancellationToken cancellationToken);
}

public sealed record ClusterNode(
    string Name,
    string? ProviderId,
    bool Ready,
    bool Unschedulable,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string> TaintKeys,
    DateTimeOffset CreatedAt);

public sealed record ClusterPod(
    string Namespace,
    string Name,
    string? OwnerKind,
    bool IsMirror,
    bool HasLocalStorage,
    IReadOnlyDictionary<string, string> Annotations,
    string Phase);

public enum EvictionResult
{
    /// <summary>201: the eviction was accepted.</summary>
    Evicted,

    /// <summary>429: a PodDisruptionBudget refuses it for now; try again later.</summary>
    BlockedByDisruptionBudget,

    /// <summary>404: the pod is already gone.</summary>
    AlreadyGone,
}
