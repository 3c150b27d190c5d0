namespace NodeFleet.Core.Contracts;

/// <summary>
/// What exists right now, from EC2 and the Kubernetes API (never from what NodeFleet recorded):
/// the truth the reconcile pass holds its memory against, and what the maximum counts.
/// </summary>
public sealed record Inventory
{
    /// <summary>Every pending or running instance tagged as a managed worker of this cluster.</summary>
    public required IReadOnlyList<InstanceInfo> Instances { get; init; }

    /// <summary>Every Node object, as the API server has it (Prometheus may lag behind it by a scrape).</summary>
    public required IReadOnlyList<NodeInfo> Nodes { get; init; }
}

/// <summary>One of the cluster's managed instances, as EC2 describes it.</summary>
public sealed record InstanceInfo
{
    public required string InstanceId { get; init; }
    public required string Zone { get; init; }
    public required string State { get; init; }
    public required DateTimeOffset LaunchedAt { get; init; }
    public string? LaunchId { get; init; }
}
