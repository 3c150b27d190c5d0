namespace NodeFleet.Core.Contracts;

public enum ScalingAction
{
    None,
    ScaleUp,
    ScaleDown,

    /// <summary>An interrupted worker: drain it at once and launch a replacement (no cooldown, within the maximum).</summary>
    Replace,
}

/// <summary>The rule that produced a decision; stable names for dashboards, alarms and tests.</summary>
public enum DecisionReason
{
    /// <summary>A required figure is missing: no data means no scaling.</summary>
    MetricsMissing,

    /// <summary>The snapshot is older than <c>maxSnapshotAge</c>.</summary>
    SnapshotStale,

    /// <summary>Fewer managed workers (Ready or launching) than the minimum.</summary>
    BelowMinimum,

    /// <summary>Unschedulable pods need more nodes than are launching.</summary>
    PendingPods,

    /// <summary>Less room is unrequested on the workers than the headroom setting keeps: one node ahead of the pods.</summary>
    Headroom,

    CpuHigh,
    MemoryHigh,
    CustomMetricHigh,
    PredictedCpuHigh,

    /// <summary>A scale-up is wanted but the managed workers are already at the maximum.</summary>
    AtMaximum,

    /// <summary>A utilisation-driven scale-up is wanted but the scale-up cooldown runs.</summary>
    ScaleUpCooldown,

    /// <summary>No new node could host any unschedulable pod (too large, or constraints no template meets): new nodes would not help.</summary>
    PodsUnplaceable,

    /// <summary>Every scale-down condition held for its window and a node can go.</summary>
    Underutilized,

    /// <summary>A worker runs no pod that would have to move, and the others carry the load without it.</summary>
    EmptyNode,

    ScaleDownCooldown,
    AtMinimum,

    /// <summary>Scale-down is due but no node qualifies (pods would not fit elsewhere or may not be evicted).</summary>
    NoRemovableNode,

    /// <summary>Nodes are still launching: scale-down waits for them.</summary>
    LaunchInProgress,

    /// <summary>Nothing to do.</summary>
    WithinThresholds,

    /// <summary>EC2 is taking one of our workers away (spot interruption, rebalance, or it stopped).</summary>
    Interrupted,

    /// <summary>An EC2 event about an instance that is not one of this cluster's managed workers.</summary>
    NotManaged,

    /// <summary>An EC2 event older than <c>eventMaxAge</c> (delivered late, or retried): recorded and ignored.</summary>
    StaleEvent,

    /// <summary>An EC2 event about a managed worker that is cordoned: it is already being removed, so it is not replaced.</summary>
    AlreadyCordoned,

    /// <summary>A managed worker that had been Ready is NotReady for longer than <c>repairAfter</c>: it is replaced.</summary>
    Unhealthy,

    /// <summary>More than <c>maxUnhealthyShare</c> of the managed workers are NotReady: repairs stop (a cluster-wide fault).</summary>
    RepairsHeld,
}

/// <summary>Which cooldown an action must respect when the lock is taken.</summary>
public enum CooldownScope
{
    None,
    ScaleUp,
    ScaleDown,
}

/// <summary>
/// Decide's output: what to do, one line saying why, and the figures that led to it.
/// </summary>
public sealed record Decision
{
    public required ScalingAction Action { get; init; }

    public required DecisionReason ReasonCode { get; init; }

    /// <summary>One human-readable line, shown in the console and in notifications.</summary>
    public required string Reason { get; init; }

    /// <summary>Dry-run: the action is what would be done; the workflow only notifies.</summary>
    public bool DryRun { get; init; }

    /// <summary>Nodes to launch (ScaleUp only).</summary>
    public int NodesToAdd { get; init; }

    /// <summary>
    /// Of <see cref="NodesToAdd"/>, those that must be in a given zone (the pods they are for can run
    /// only there); LaunchNodes never moves them to another zone. The rest are spread by zone balance.
    /// </summary>
    // Setters, not init, for the same reason as Notes.
    public IReadOnlyList<ZoneShare> Zones { get; set; } = [];

    /// <summary>Pending pods no new node could host, by owner with the reason: never a reason to launch.</summary>
    public IReadOnlyList<NoScaleUpPods> NoScaleUp { get; set; } = [];

    /// <summary>The node to drain and terminate (ScaleDown only).</summary>
    public NodeRef? NodeToRemove { get; init; }

    /// <summary>
    /// Empty workers removed with <see cref="NodeToRemove"/> (itself empty) in the same scale-down: nothing has
    /// to move, so they need not go one per cooldown. DrainNode re-checks each after cordoning it; at most maxEmptyRemovals − 1.
    /// </summary>
    // A setter, not init, for the same reason as Notes.
    public IReadOnlyList<NodeRef> AlsoEmpty { get; set; } = [];

    /// <summary>For an interruption (Replace, Retire): what EC2 announced and when it takes the instance; the interruption drain's terms.</summary>
    public InterruptionNotice? Interruption { get; init; }

    /// <summary>The cooldown the lock must check before acting; None for below-minimum and pending-pod launches.</summary>
    public CooldownScope Cooldown { get; init; }

    public required DateTimeOffset DecidedAt { get; init; }

    /// <summary>The path the workflow takes for this decision; derived here, once, for every Choice to match.</summary>
    public WorkflowRoute Route => WorkflowRoutes.Of(this);

    /// <summary>
    /// Takes the lease even from a live holder: only an interruption, which cannot wait for routine
    /// scaling (the instance is going anyway); the fence stops the old holder's side effects.
    /// </summary>
    public bool Preempts => Action == ScalingAction.Replace && ReasonCode == DecisionReason.Interrupted && !DryRun;

    /// <summary>
    /// Takes the lease from a scale-down drain (never from another holder): pods are pending, and a
    /// node being emptied is capacity the cluster needs; the drain is aborted, the scale-up goes on at once.
    /// </summary>
    public bool PreemptsDrain => Action == ScalingAction.ScaleUp && ReasonCode == DecisionReason.PendingPods && !DryRun;

    /// <summary>The reconcile pass: what is put right under the lease before the action; null for interruptions (they do not wait for it).</summary>
    public ReconcilePlan? Reconcile { get; init; }

    /// <summary>The plan has work: the Reconcile step runs once the lease is held (a Choice matches this, never the plan).</summary>
    public bool Reconciles => Reconcile?.HasWork == true;

    /// <summary>Worth a notification although nothing is scaled (repairs held); the workflow records and notifies it.</summary>
    public bool Alert { get; init; }

    public required DecisionFigures Figures { get; init; }

    /// <summary>Short extra facts: unplaceable pods, why candidates were skipped.</summary>
    // A setter, not init: the JSON source generator would overwrite an init-only default with null
    // when the member is absent (dotnet/runtime#84484).
    public IReadOnlyList<string> Notes { get; set; } = [];
}

public sealed record NodeRef
{
    public required string Name { get; init; }

    public required string InstanceId { get; init; }

    public string? Zone { get; init; }

    /// <summary>The node's requested share of allocatable (the larger of CPU and memory).</summary>
    public double Utilization { get; init; }
}

/// <summary>The numbers behind a decision. Utilisations are fractions; null means not measured.</summary>
public sealed record DecisionFigures
{
    /// <summary>Ready workers NodeFleet manages (unmanaged workers are not counted).</summary>
    public int ReadyManagedWorkers { get; init; }
    public int LaunchingWorkers { get; init; }
    public int ManagedWorkers { get; init; }
    public int MinNodes { get; init; }
    public int MaxNodes { get; init; }
    public double? CpuNow { get; init; }
    public double? CpuMinOverUpWindow { get; init; }
    public double? CpuMaxOverDownWindow { get; init; }
    public double? MemoryNow { get; init; }
    public double? MemoryMaxOverDownWindow { get; init; }
    public double? MemoryUseOfRequests { get; init; }
    public double? PredictedCpu { get; init; }
    public double? CustomMetric { get; init; }
    public int UnschedulablePods { get; init; }
    public int UnplaceablePods { get; init; }

    /// <summary>Managed workers (with a live instance) that were Ready once and are not now.</summary>
    public int NotReadyWorkers { get; init; }

    /// <summary>Nodes each scale-up signal asked for, after subtracting capacity already launching.</summary>
    public int NodesForPendingPods { get; init; }

    /// <summary>1 when the workers' unrequested room is below the headroom setting.</summary>
    public int NodesForHeadroom { get; init; }
    public int NodesForCpu { get; init; }
    public int NodesForMemory { get; init; }
    public int NodesForCustomMetric { get; init; }
    public int NodesForPrediction { get; init; }

    public DateTimeOffset? CooldownEndsAt { get; init; }
}
