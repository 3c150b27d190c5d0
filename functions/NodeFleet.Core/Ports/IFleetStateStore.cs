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

    /// <summary>
    /// The fence, checked right before a side effect (launch, terminate, cordon, evict, delete): throws
    /// <see cref="LeaseNotHeldException"/> unless <paramref name="lease"/> is still the holder's and unexpired
    /// at <paramref name="now"/>, so a preempted or expired execution stops before it touches EC2 or Kubernetes.
    /// </summary>
    Task EnsureHeldAsync(Lease lease, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Remembers a launch whose instances are joining, so that a later execution counts them; only the holder may.</summary>
    Task RecordLaunchAsync(Lease lease, InFlightLaunch launch, CancellationToken cancellationToken);

    /// <summary>
    /// Remembers pools that answered a capacity error, as <see cref="Workflow.FleetTransitions.PoolsFailed"/>
    /// says (expired entries dropped); only the holder may.
    /// </summary>
    Task RecordUnavailablePoolsAsync(Lease lease, IReadOnlyList<Pool> failed, DateTimeOffset now, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>
    /// Records the outcome and releases the lease, in one write: the cooldown clocks and in-flight
    /// launches change as <see cref="Workflow.FleetTransitions.Recorded"/> says; the history keeps the outcome.
    /// </summary>
    Task RecordAndReleaseAsync(Lease lease, ScalingOutcome outcome, CancellationToken cancellationToken);

    /// <summary>
    /// A scale-up launched: records the launch in flight, stamps the scale-up time and releases the
    /// lease, in one write (<see cref="Workflow.FleetTransitions.LaunchReleased"/>); only the holder may.
    /// The boot that follows needs no lease: its cleanup and record are fenced by this launch record.
    /// </summary>
    Task ReleaseAfterLaunchAsync(Lease lease, InFlightLaunch launch, string summary, CancellationToken cancellationToken);

    /// <summary>
    /// The fence of a launch whose lease was released: throws <see cref="LaunchNotRecordedException"/>
    /// unless <paramref name="launchId"/> is still in flight (a later execution's reconcile may have expired it).
    /// </summary>
    Task EnsureLaunchRecordedAsync(string launchId, CancellationToken cancellationToken);

    /// <summary>
    /// Records the end of a launch whose lease was released, as <see cref="Workflow.FleetTransitions.Recorded"/>
    /// says, only while its launch record exists; false (nothing written) when it is gone.
    /// </summary>
    Task<bool> RecordLaunchEndAsync(string launchId, ScalingOutcome outcome, CancellationToken cancellationToken);

    /// <summary>
    /// Records, in the history only, the end of an execution whose lease another one took (a preempted
    /// drain); refused with <see cref="LeaseNotHeldException"/> if <paramref name="lease"/> is in fact still held.
    /// </summary>
    Task RecordPreemptedAsync(Lease lease, ScalingOutcome outcome, CancellationToken cancellationToken);
}

/// <summary>A launch's record is no longer in flight: its boot loop may not clean up or record as its own.</summary>
public sealed class LaunchNotRecordedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The state item kept changing under a write (every retry met a newer revision).</summary>
public sealed class StateConflictException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A held lease. <see cref="Fence"/> grows on every acquisition so a stale holder's writes are refused.</summary>
public sealed record Lease(string Owner, long Fence, DateTimeOffset ExpiresAt);

/// <summary>
/// Who asks, when, for how long, and which cooldown must have run out: for a scale-up the
/// scale-up cooldown; for a scale-down both (no removal right after a launch). With
/// <see cref="Preempt"/> (interruptions) the lease is taken even from a live holder: routine
/// scaling must not delay an interruption for minutes, and the fence stops the old holder's writes.
/// </summary>
/// With <see cref="PreemptDrain"/> (a scale-up for pending pods) it is taken from a holder draining a node for a scale-down, and only from that one.
public sealed record LeaseRequest(string Owner, DateTimeOffset Now, TimeSpan Duration, CooldownScope Cooldown, TimeSpan ScaleUpCooldown, TimeSpan ScaleDownCooldown, bool Preempt = false)
{
    /// <summary>The route the lease is taken for; kept with the lease so that a scale-up knows a drain holds it.</summary>
    public WorkflowRoute? Route { get; init; }

    public bool PreemptDrain { get; init; }
}

/// <summary>The caller does not hold the lease (another execution took it over, or it was never taken).</summary>
public sealed class LeaseNotHeldException(string message, Exception? inner = null) : Exception(message, inner);

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

    /// <summary>An interrupted or broken worker was drained and a replacement launched; starts no cooldown.</summary>
    Replaced,
    Failed,

    /// <summary>Nothing was scaled; the reconcile pass put EC2, Kubernetes and the memory back in step.</summary>
    Reconciled,

    /// <summary>Repairs and scaling are held (too many workers NotReady); operators were told.</summary>
    RepairsHeld,

    /// <summary>Nothing was scaled; operators were told of pending pods no new node could host (once per owner and reason).</summary>
    NoScaleUpReported,
    /// <summary>
    /// A rebalance or <c>stopping</c> interruption whose pods could not all be evicted: the replacement
    /// was launched (when there was room) and the node kept, cordoned, until the spot warning.
    /// </summary>
    AwaitingInterruption,

    /// <summary>A scale-up launched and released the lease; its nodes are joining (the boot's own outcome follows).</summary>
    Launching,

    /// <summary>A scale-down drain another execution took the lease from (pending pods, or an interruption); stamps nothing.</summary>
    DrainPreempted,
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

    /// <summary>The node whose scale-down drain this execution aborted (blocked, overdue, failed); it is backed off.</summary>
    public DrainBackoff? DrainAborted { get; init; }

    /// <summary>The nodes this execution removed (the drained one and the empty workers that went with it): any backoff for them is forgotten.</summary>
    public IReadOnlyList<string> RemovedNodes { get; init; } = [];

    /// <summary>The decision's pending pods that no new node could host: what operators now know of (null: leave the record as it is).</summary>
    public IReadOnlyList<NoScaleUpPods>? NoScaleUp { get; init; }
}
