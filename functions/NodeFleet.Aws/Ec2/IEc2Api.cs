namespace NodeFleet.Aws.Ec2;

/// <summary>The EC2 operations NodeFleet calls, and nothing else.</summary>
public interface IEc2Api
{
    /// <summary>CreateFleet of type <c>instant</c>: one synchronous request, per-pool errors in the result.</summary>
    Task<FleetLaunch> CreateInstantFleetAsync(FleetLaunchRequest request, CancellationToken cancellationToken);

    /// <summary>DescribeInstances, every page.</summary>
    Task<IReadOnlyList<Ec2Instance>> DescribeInstancesAsync(IReadOnlyList<Ec2Filter> filters, IReadOnlyList<string> instanceIds, CancellationToken cancellationToken);

    Task TerminateInstancesAsync(IReadOnlyList<string> instanceIds, CancellationToken cancellationToken);

    /// <summary>DescribeSpotPriceHistory (Linux) at one instant, every page: the price each pool of these types and zones had then.</summary>
    Task<IReadOnlyList<SpotPriceRecord>> DescribeSpotPricesAsync(IReadOnlyList<string> instanceTypes, IReadOnlyList<string> zones, DateTimeOffset at, CancellationToken cancellationToken);
}

public sealed record Ec2Filter(string Name, params string[] Values);

public sealed record FleetOverride(string InstanceType, string SubnetId);

public sealed record FleetLaunchRequest(
    string ClientToken,
    string LaunchTemplateId,
    string LaunchTemplateVersion,
    IReadOnlyList<FleetOverride> Overrides,
    int SpotCount,
    int OnDemandCount,
    IReadOnlyDictionary<string, string> Tags);

public sealed record FleetInstance(string InstanceId, string InstanceType, string Lifecycle);

/// <summary>A pool EC2 could not fill: the error code (e.g. InsufficientInstanceCapacity) and where.</summary>
public sealed record FleetPoolError(string Code, string Message, string Lifecycle, string? InstanceType, string? SubnetId);

public sealed record FleetLaunch(IReadOnlyList<FleetInstance> Instances, IReadOnlyList<FleetPoolError> Errors);

public sealed record Ec2Instance(
    string InstanceId,
    string InstanceType,
    string Zone,
    string State,
    bool Spot,
    IReadOnlyDictionary<string, string> Tags,
    DateTimeOffset LaunchTime);

/// <summary>One line of the spot price history: the price per hour (USD) of a pool since <see cref="Since"/>.</summary>
public sealed record SpotPriceRecord(string InstanceType, string Zone, decimal PricePerHour, DateTimeOffset Since);
