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

public sealed record LaunchRequest(string LaunchId, int Count, IReadOnlyDictionary<string, int> ManagedCountByZone);

public sealed record ManagedInstance(string InstanceId, string Zone, string InstanceType, string CapacityType, string State, string? LaunchId, DateTimeOffset LaunchedAt);

/// <summary>What a launch achieved: the instances, and per pool what EC2 could not supply.</summary>
public sealed record LaunchResult(IReadOnlyList<ManagedInstance> Instances, IReadOnlyList<string> Errors);
