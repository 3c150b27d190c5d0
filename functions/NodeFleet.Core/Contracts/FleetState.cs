namespace NodeFleet.Core.Contracts;

/// <summary>
/// What NodeFleet remembers between executions (kept in DynamoDB): the cooldown clocks and
/// the launches whose instances have not joined yet. EC2 and Kubernetes stay the truth
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

    public static FleetState Empty { get; } = new();
}

public sealed record InFlightLaunch
{
    /// <summary>The launch id tagged on the instances (derived from the execution).</summary>
    public required string LaunchId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required IReadOnlyList<string> InstanceIds { get; init; }
}
