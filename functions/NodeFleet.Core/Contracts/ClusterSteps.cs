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
    public IReadOnlyList<JoinedNode> Ready { get; init; } = [];

    /// <summary>Instances not Ready yet, before the deadline.</summary>
    public IReadOnlyList<string> Pending { get; init; } = [];

    /// <summary>Instances not Ready at the deadline: to terminate.</summary>
    public IReadOnlyList<string> Overdue { get; init; } = [];
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

/// <summary>DrainNode's input, shaped by the state machine.</summary>
public sealed record DrainRequest
{
    public required DrainAction Action { get; init; }
    public required string Node { get; init; }

    /// <summary>When the drain started (from the Start call's output); the drain timeout counts from it.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>The lease the drain acts under: every action is fenced (DrainNode refuses a request without it).</summary>
    public LockResult? Lock { get; init; }
}

public enum DrainStatus
{
    /// <summary>No evictable pod is left: the node may go.</summary>
    Drained,

    /// <summary>Pods remain that a disruption budget refused for now: wait and continue.</summary>
    Draining,

    /// <summary>A pod may never be evicted (no controller, local storage, safe-to-evict "false", ...): abort.</summary>
    Blocked,

    /// <summary>The drain timeout passed with pods left: abort.</summary>
    Overdue,

    Aborted,
    Deleted,
}

public sealed record DrainProgress
{
    public required string Node { get; init; }
    public required DrainStatus Status { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public int Evicted { get; init; }

    /// <summary>Pods still on the node that must leave before it can go.</summary>
    public IReadOnlyList<string> Remaining { get; init; } = [];

    /// <summary>Why pods remain: the budget that refused, or the rule that forbids eviction.</summary>
    public IReadOnlyList<EvictionBlocker> Blockers { get; init; } = [];
}
