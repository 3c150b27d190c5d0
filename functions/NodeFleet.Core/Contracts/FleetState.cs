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

    /// <summary>When operators were last told that repairs are held (a cluster-wide fault); told again after <see cref="Policy.Repairs.HeldReminder"/>.</summary>
    public DateTimeOffset? RepairsHeldNotifiedAt { get; init; }
    /// <summary>Nodes whose scale-down drain was aborted: the scale-down rule does not choose them again for <c>drainBackoff</c>.</summary>
    // A setter, not init, for the same reason as InFlight.
    public IReadOnlyList<DrainBackoff> DrainBackoffs { get; set; } = [];
    /// <summary>Pools that answered a capacity error lately: later launches try them last (<see cref="Workflow.FleetTransitions.PoolsFailed"/>).</summary>
    public IReadOnlyList<UnavailablePool> UnavailablePools { get; set; } = [];

    /// <summary>
    /// Pending pods no new node could host that operators were told of (owner and reason): told
    /// once, not every tick; an owner that stops being listed is forgotten, so a later spell is told again.
    /// </summary>
    public IReadOnlyList<NoScaleUpNotice> NoScaleUpNotified { get; set; } = [];

    public static FleetState Empty { get; } = new();
}

/// <summary>An owner whose pending pods no new node could host, and why, as operators were told.</summary>
public sealed record NoScaleUpNotice
{
    public required string Owner { get; init; }

    public required NoScaleUpReason Reason { get; init; }
}

/// <summary>A node whose scale-down drain was aborted, when and why; the backoff runs from <see cref="At"/>.</summary>
public sealed record DrainBackoff
{
    public required string Node { get; init; }

    public string? InstanceId { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>How the drain ended: Blocked, Overdue, or the step's error.</summary>
    public required string Reason { get; init; }
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
