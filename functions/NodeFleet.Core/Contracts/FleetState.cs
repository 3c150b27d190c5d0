namespace NodeFleet.Core.Contracts;

/// <summary>
/// What NodeFleet remembers between executions (kept in DynamoDB): the cooldown clocks,
/// the launches whose instances have not joined yet, and the pools EC2 lately had no capacity in. EC2 and Kubernetes stay the truth
/// about nodes; this is only what they cannot tell.
/// </summary>
public sealed record FleetState
{
    public DateTimeOffset? LastScaleUpAt { get; init; }

    public DateTimeOffset? LastScaleDownAt { get; init; }

    /// <summary>Launches still waiting for their nodes to become Ready.</summary>
    // A setter, not init: the JSON source generator would overwrite an init-only default with null
    // when the member is absent (dotnet/runtime#84484).
    public IReadOnlyList<InFlightLaunch> InFlight { get; set; } = [];

    /// <summary>Pools that answered a capacity error lately: later launches try them last (<see cref="Workflow.FleetTransitions.PoolsFailed"/>).</summary>
    public IReadOnlyList<UnavailablePool> UnavailablePools { get; set; } = [];

    public static FleetState Empty { get; } = new();
}

public sealed record InFlightLaunch
{
    /// <summary>The launch id tagged on the instances (derived from the execution).</summary>
    public required string LaunchId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required IReadOnlyList<string> InstanceIds { get; init; }
}

/// <summary>
/// A pool (instance type, zone, capacity type) that answered a capacity error: tried last by
/// launches until <see cref="Until"/>.
/// </summary>
public sealed record UnavailablePool
{
    public required string InstanceType { get; init; }
    public required string Zone { get; init; }
    public required CapacityType CapacityType { get; init; }
    public required DateTimeOffset Until { get; init; }
}
