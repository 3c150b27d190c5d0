namespace NodeFleet.Core.Contracts;

/// <summary>CollectMetrics' output: what was measured, and what NodeFleet remembers.</summary>
public sealed record Observation
{
    public required Trigger Trigger { get; init; }

    /// <summary>For an interruption, only the nodes (from the Kubernetes API): Prometheus is not needed, so cannot delay it.</summary>
    public required ClusterSnapshot Snapshot { get; init; }
    public required FleetState Fleet { get; init; }

    /// <summary>EC2's instances and the API's nodes, for the reconcile pass and the maximum; null from a CollectMetrics that predates it.</summary>
    public Inventory? Inventory { get; init; }
}

public enum ReadinessStatus
{
    /// <summary>Every launched instance is a Ready, schedulable node free of startup taints.</summary>
    AllReady,

    /// <summary>Some are still coming and the deadline has not passed: wait and ask again.</summary>
    Waiting,

    /// <summary>The deadline passed with instances not Ready: clean those up.</summary>
    Overdue,
}

public sealed record JoinedNode
{
    public required string InstanceId { get; init; }
    public required string Node { get; init; }
}

/// <summary>CheckNodesReady's answer for one launch.</summary>
public sealed record ReadinessReport
{
    public required ReadinessStatus Status { get; init; }
    public required DateTimeOffset Deadline { get; init; }
    public IReadOnlyList<JoinedNode> Ready { get; set; } = [];

    /// <summary>Instances not Ready yet, before the deadline.</summary>
    public IReadOnlyList<string> Pending { get; set; } = [];

    /// <summary>Instances not Ready at the deadline: to terminate.</summary>
    public IReadOnlyList<string> Overdue { get; set; } = [];
}

public enum DrainAction
{
    /// <summary>Cordon the node, then evict what may be evicted.</summary>
    Start,

    /// <summary>Evict what remains (pods a budget refused before).</summary>
    Continue,

    /// <summary>Give up: uncordon.</summary>
    Abort,

    /// <summary>After the instance is terminated: delete the Node object.</summary>
    Delete,
}

/// <summary>
/// An interruption drain's terms (<see cref="Decision.Interruption"/>): what EC2 announced and, for a
/// spot warning, when the instance is taken whatever NodeFleet does.
/// </summary>
public sealed record InterruptionNotice
{
    /// <summary>How long EC2 gives after a spot interruption warning.</summary>
    public static readonly TimeSpan SpotWarning = TimeSpan.FromMinutes(2);

    public required TriggerKind Kind { get; init; }

    /// <summary>When EC2 reclaims the instance (spot warning only); null when nothing forces the node out (rebalance, stopping).</summary>
    public DateTimeOffset? NotAfter { get; init; }

    /// <summary>The execution that launched the node's replacement already (a rebalance that left it awaiting this warning); null otherwise.</summary>
    public string? ReplacedBy { get; init; }

    /// <summary>The instance goes at <see cref="NotAfter"/> whatever happens: pods that cannot leave in time are lost with it.</summary>
    public bool Forced => NotAfter is not null;

    public static InterruptionNotice For(Trigger trigger, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        return new InterruptionNotice
        {
            Kind = trigger.Kind,
            NotAfter = trigger.Kind == TriggerKind.SpotInterruption ? (trigger.Time ?? now) + SpotWarning : null,
        };
    }
}

/// <summary>DrainNode's input, shaped by the state machine.</summary>
public sealed record DrainRequest
{
    public required DrainAction Action { get; init; }
    public required string Node { get; init; }

    /// <summary>When the drain started (from the Start call's output); the drain timeout counts from it.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>The lease the drain acts under: every action is fenced (DrainNode refuses a request without it).</summary>
    public LockResult? Lock { get; init; }
    /// <summary>The execution draining: written into the cordon mark, and an abort uncordons only a node its own execution cordoned.</summary>
    public string? ExecutionId { get; init; }

    /// <summary>Set for an interruption drain; null for a scale-down.</summary>
    public InterruptionNotice? Interruption { get; init; }

    /// <summary>
    /// A scale-down's empty workers that go with <see cref="Node"/> (<see cref="Decision.AlsoEmpty"/>, then the
    /// previous call's <see cref="DrainProgress.Also"/>): each is cordoned and kept only while it stays empty.
    /// </summary>
    // A setter, not init: the JSON source generator would overwrite an init-only default with null (dotnet/runtime#84484).
    public IReadOnlyList<NodeRef> Also { get; set; } = [];

    public CordonReason Reason => Interruption is null ? CordonReason.ScaleDown : CordonReason.Interruption;
}

public enum DrainStatus
{
    /// <summary>No evictable pod is left and the evicted ones are gone (or their grace period plus the margin passed): the node may go.</summary>
    Drained,

    /// <summary>Pods remain that a disruption budget refused for now: wait and continue.</summary>
    Draining,

    /// <summary>Every eviction was accepted; evicted pods are still shutting down within their grace period: wait and continue.</summary>
    Terminating,

    /// <summary>A pod may never be evicted (no controller, local storage, safe-to-evict "false", ...): abort.</summary>
    Blocked,

    /// <summary>The drain timeout passed with pods left (refused, or still terminating): abort.</summary>
    Overdue,

    /// <summary>
    /// A rebalance or <c>stopping</c> drain whose pods could not all be evicted: the node is not
    /// terminated; it stays cordoned (marked <see cref="CordonReason.AwaitingInterruption"/>) until the spot warning.
    /// </summary>
    AwaitingInterruption,

    Aborted,
    Deleted,

    /// <summary>
    /// Another execution took the lease (a scale-up for pending pods preempts a scale-down drain, an
    /// interruption preempts anything): this drain stops where it is, the node's remaining pods stay,
    /// and the new holder's reconcile lifts the cordon.
    /// </summary>
    Preempted,
}

/// <summary>An evicted pod still shutting down, and until when the drain waits for it (its deletionTimestamp plus the margin, capped).</summary>
public sealed record TerminatingPod
{
    public required string Pod { get; init; }
    public required DateTimeOffset Until { get; init; }
}

public sealed record DrainProgress
{
    public required string Node { get; init; }
    public required DrainStatus Status { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public int Evicted { get; init; }

    /// <summary>Pods still on the node that must leave before it can go.</summary>
    public IReadOnlyList<string> Remaining { get; set; } = [];

    /// <summary>Why pods remain: the budget that refused, or the rule that forbids eviction.</summary>
    public IReadOnlyList<EvictionBlocker> Blockers { get; set; } = [];

    /// <summary>Evicted pods still shutting down, each with the time the drain waits for it until.</summary>
    public IReadOnlyList<TerminatingPod> Terminating { get; set; } = [];

    /// <summary>Why the step did not do what it was asked (e.g. an abort that left another execution's cordon alone).</summary>
    public string? Note { get; init; }

    /// <summary>The empty workers that go with <see cref="Node"/>: cordoned by this drain and still empty (those that were not are uncordoned and dropped).</summary>
    // A setter, not init, for the same reason as DrainRequest.Also.
    public IReadOnlyList<NodeRef> Also { get; set; } = [];
}
