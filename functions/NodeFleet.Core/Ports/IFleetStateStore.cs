using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Ports;

/// <summary>
/// What NodeFleet remembers (DynamoDB in production): the per-cluster lease, cooldown clocks,
/// in-flight launches and a short decision history.
/// </summary>
public interface IFleetStateStore
{
    Task<FleetState> LoadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes the lease for <see cref="LeaseRequest.Owner"/> if it is free or expired and the
    /// requested cooldown does not run; one conditional write, so two callers never both win.
    /// </summary>
    Task<LeaseGrant> AcquireAsync(LeaseRequest request, CancellationToken cancellationToken);

    /// <summary>Extends the lease; only its owner with the current fence may.</summary>
    Task<Lease> RenewAsync(Lease lease, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Records the outcome (cooldown clocks, in-flight launches, history) and releases the lease, in one write.</summary>
    Task RecordAndReleaseAsync(Lease lease, ScalingOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Releases without recording; only the owner with the current fence may.</summary>
    Task ReleaseAsync(Lease lease, CancellationToken cancellationToken);
}

/// <summary>A held lease. <see cref="Fence"/> grows on every acquisition so a stale holder's writes are refused.</summary>
public sealed record Lease(string Owner, long Fence, DateTimeOffset ExpiresAt);

public sealed record LeaseRequest(string Owner, DateTimeOffset Now, TimeSpan Duration, CooldownScope Cooldown);

/// <summary>Either a lease, or the reason it was refused (held by another execution, or a cooldown).</summary>
public sealed record LeaseGrant(Lease? Lease, string? RefusedBecause)
{
    public bool Acquired => Lease is not null;
}

public enum OutcomeKind
{
    ScaledUp,
    LaunchFailed,
    ScaledDown,
    ScaleDownAborted,
    Failed,
}

/// <summary>What an execution did, for the history and the cooldown clocks.</summary>
public sealed record ScalingOutcome
{
    public required OutcomeKind Kind { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string Summary { get; init; }

    /// <summary>A launch whose instances are still joining (kept as in-flight), or null.</summary>
    public InFlightLaunch? Launch { get; init; }

    /// <summary>Launch ids to forget: joined, or cleaned up after their deadline.</summary>
    public IReadOnlyList<string> CompletedLaunches { get; init; } = [];
}
