namespace NodeFleet.Core.Ports;

/// <summary>The cluster's EC2 workers (EC2 Fleet in production). Only instances tagged as ours are touched.</summary>
public interface IComputeFleet
{
    /// <summary>
    /// Launches workers. Idempotent per <see cref="LaunchRequest.LaunchId"/>: a retry returns the
    /// instances already launched under that id instead of launching again.
    /// </summary>
    Task<LaunchResult> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken);

    /// <summary>Every running or pending instance tagged for this cluster.</summary>
    Task<IReadOnlyList<ManagedInstance>> DescribeManagedAsync(CancellationToken cancellationToken);

    /// <summary>Terminates our instances; refuses any instance not tagged for this cluster, the master above all.</summary>
    Task TerminateAsync(IReadOnlyList<string> instanceIds, CancellationToken cancellationToken);
}

/// <summary>
/// Launch <see cref="Count"/> workers tagged with <see cref="LaunchId"/>; zones are balanced against
/// the workers already running. Pools in <see cref="TryLast"/> (lately out of capacity) are asked
/// only when the others could not supply the launch.
/// </summary>
public sealed record LaunchRequest(string LaunchId, int Count)
{
    public IReadOnlyList<Pool> TryLast { get; init; } = [];

    /// <summary>Of <see cref="Count"/>, the nodes that must be in a zone (by zone name); they are never launched elsewhere.</summary>
    public IReadOnlyDictionary<string, int> Zones { get; init; } = new Dictionary<string, int>();
}

/// <summary>Where EC2 capacity comes from: an instance type in a zone, as spot or on demand.</summary>
public sealed record Pool(string InstanceType, string Zone, Contracts.CapacityType CapacityType)
{
    public override string ToString() => $"{InstanceType} {(CapacityType == Contracts.CapacityType.Spot ? "spot" : "on-demand")} in {Zone}";
}

/// <summary>A pool EC2 could not fill: its error code and message; <see cref="Capacity"/> when the code means no capacity there now.</summary>
public sealed record PoolFailure(Pool Pool, string Code, string Message, bool Capacity);

public sealed record ManagedInstance(string InstanceId, string Zone, string InstanceType, Contracts.CapacityType CapacityType, string State, string? LaunchId, DateTimeOffset LaunchedAt);

/// <summary>What a launch achieved: the instances (those of an earlier attempt included), and per pool what EC2 could not supply.</summary>
public sealed record LaunchResult(IReadOnlyList<ManagedInstance> Instances, IReadOnlyList<string> Errors)
{
    /// <summary>The pools that refused, in the order they were asked.</summary>
    public IReadOnlyList<PoolFailure> FailedPools { get; init; } = [];
}

/// <summary>The tags that mark an instance as NodeFleet's.</summary>
public static class FleetTags
{
    public const string Managed = "nodefleet.io/managed";
    public const string Cluster = "nodefleet.io/cluster";
    public const string LaunchId = "nodefleet.io/launch-id";

    /// <summary>Carried by the control-plane instance; such an instance is never terminated.</summary>
    public const string Role = "nodefleet.io/role";
}
