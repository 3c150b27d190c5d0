using System.Text.Json;

namespace NodeFleet.Core.Contracts;

// Each Task's request, as its ASL Parameters shape it from the workflow state. A step reads
// only its request; the state machine never hands a step the whole state.

/// <summary>CollectMetrics: the execution input as EventBridge (or the fast path) delivered it.</summary>
public sealed record CollectMetricsRequest
{
    public required JsonElement Event { get; init; }
}

/// <summary>Decide: what CollectMetrics observed.</summary>
public sealed record DecideRequest
{
    public required Observation Observation { get; init; }
}

/// <summary>AcquireLock: who asks, for which route, which cooldown must have run out, and whether it takes the lease from a live holder.</summary>
public sealed record AcquireLockRequest
{
    public required string ExecutionId { get; init; }
    public required WorkflowRoute Route { get; init; }
    public required CooldownScope Cooldown { get; init; }

    /// <summary>An interruption (<see cref="Decision.Preempts"/>).</summary>
    public bool Preempt { get; init; }

    /// <summary>A scale-up for pending pods (<see cref="Decision.PreemptsDrain"/>): takes the lease from a scale-down drain.</summary>
    public bool PreemptDrain { get; init; }
}

/// <summary>LaunchNodes: how many workers, under whose lease.</summary>
public sealed record LaunchNodesRequest
{
    public required string ExecutionId { get; init; }
    public required int NodesToAdd { get; init; }
    public required LockResult Lock { get; init; }

    /// <summary>
    /// The decision's route: a <see cref="WorkflowRoute.Replace"/> launches while the instance it
    /// replaces still runs (terminated once the replacement joins), so that one does not count
    /// against maxNodes.
    /// </summary>
    public WorkflowRoute? Route { get; init; }

    /// <summary>The decision's zone shares: nodes that must be in a zone (their pods can run only there).</summary>
    // A setter, not init: the JSON source generator would overwrite an init-only default with null
    // when the member is absent (dotnet/runtime#84484).
    public IReadOnlyList<ZoneShare> Zones { get; set; } = [];
}

/// <summary>CheckNodesReady: the launch to check.</summary>
public sealed record CheckNodesReadyRequest
{
    public required LaunchOutcome Launch { get; init; }
}

/// <summary>
/// UpdateState: the results of the path taken (null where the path did not reach the step);
/// the outcome is derived from them (<see cref="Workflow.Outcomes"/>), not named by the state machine.
/// </summary>
public sealed record UpdateStateRequest
{
    public required Decision Decision { get; init; }
    public required LockResult Lock { get; init; }

    /// <summary>The Reconcile step's result; null when the plan had nothing to do (or the step failed).</summary>
    public ReconcileResult? Reconciled { get; init; }
    public LaunchOutcome? Launch { get; init; }
    public ReadinessReport? Readiness { get; init; }
    public DrainProgress? Drain { get; init; }
    public StepResult? Terminated { get; init; }
    public StepError? Error { get; init; }
}

/// <summary>Notify: what was decided, what was recorded, and what went wrong (each null when absent).</summary>
public sealed record NotifyRequest
{
    public Decision? Decision { get; init; }
    public RecordResult? Recorded { get; init; }
    public ReconcileResult? Reconciled { get; init; }
    public LaunchOutcome? Launch { get; init; }
    public DrainProgress? Drain { get; init; }
    public StepError? Error { get; init; }
}
