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

/// <summary>Launch <see cref="Count"/> workers tagged with <see cref="LaunchId"/>; zones are balanced against the workers already running.</summary>
public sealed record LaunchRequest(string LaunchId, int Count);

public sealed record ManagedInstance(string InstanceId, string Zone, string InstanceType, Contracts.CapacityType CapacityType, string State, string? LaunchId, DateTimeOffset LaunchedAt);

/// <summary>What a launch achieved: the instances (those of an earlier attempt included), and per pool what EC2 could not supply.</summary>
public sealed record LaunchResult(IReadOnlyList<ManagedInstance> Instances, IReadOnlyList<string> Errors);

/// <summary>The tags that mark an instance as NodeFleet's.</summary>
public static class FleetTags
{
    public const string Managed = "nodefleet.io/managed";
    public const string Cluster = "nodefleet.io/cluster";
    public const string LaunchId = "nodefleet.io/launch-id";

    /// <summary>Carried by the control-plane instance; such an instance is never terminated.</summary>
    public const string Role = "nodefleet.io/role";
}
