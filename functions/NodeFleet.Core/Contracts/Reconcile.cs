namespace NodeFleet.Core.Contracts;

/// <summary>
/// What the reconcile pass found out of step between EC2, the Kubernetes API and NodeFleet's
/// memory, and will put right under the lease before the decision's action: part of the decision,
/// so the console and the notification show it.
/// </summary>
public sealed record ReconcilePlan
{
    /// <summary>Managed instances that are not a Ready node past <c>nodeJoinTimeout</c>: terminated, and their Node objects (registered, never Ready) deleted.</summary>
    // Setters, not init: the JSON source generator would overwrite an init-only default with null
    // when the member is absent (dotnet/runtime#84484).
    public IReadOnlyList<OrphanInstance> Orphans { get; set; } = [];

    /// <summary>Managed Node objects whose instance is gone: deleted.</summary>
    public IReadOnlyList<string> Ghosts { get; set; } = [];

    /// <summary>Nodes NodeFleet cordoned for an execution that no longer drains them: uncordoned.</summary>
    public IReadOnlyList<StrayCordon> StrayCordons { get; set; } = [];

    /// <summary>Remembered launches past <c>nodeJoinTimeout</c>: forgotten when the outcome is recorded (their instances are orphans, or gone).</summary>
    public IReadOnlyList<string> ExpiredLaunches { get; set; } = [];

    /// <summary>Something is to be done (a Choice state matches it).</summary>
    public bool HasWork => Orphans.Count > 0 || Ghosts.Count > 0 || StrayCordons.Count > 0 || ExpiredLaunches.Count > 0;

    public static ReconcilePlan Nothing { get; } = new();
}

public sealed record OrphanInstance
{
    public required string InstanceId { get; init; }

    /// <summary>Its Node object when it registered but never became Ready; null when it never registered.</summary>
    public string? Node { get; init; }

    public required DateTimeOffset LaunchedAt { get; init; }

    public string? LaunchId { get; init; }
}

public sealed record StrayCordon
{
    public required string Node { get; init; }

    /// <summary>The execution whose cordon it is.</summary>
    public required string CordonedBy { get; init; }

    public required DateTimeOffset At { get; init; }
}

/// <summary>Reconcile: the plan Decide made, under whose lease.</summary>
public sealed record ReconcileRequest
{
    public required ReconcilePlan Plan { get; init; }
    public required LockResult Lock { get; init; }
}

/// <summary>What the Reconcile step did; <see cref="Skipped"/> says what it left because the world had moved on since Decide.</summary>
public sealed record ReconcileResult
{
    public IReadOnlyList<string> Terminated { get; set; } = [];
    public IReadOnlyList<string> DeletedNodes { get; set; } = [];
    public IReadOnlyList<string> Uncordoned { get; set; } = [];
    public IReadOnlyList<string> Skipped { get; set; } = [];

    /// <summary>Each list with the figure key and the verb the record and the notification name it by (a method, so the contract does not carry it).</summary>
    public IEnumerable<(string Key, string Verb, IReadOnlyList<string> Items)> Parts() =>
    [
        ("reconcileTerminated", "terminated", Terminated),
        ("reconcileDeletedNodes", "deleted", DeletedNodes),
        ("reconcileUncordoned", "uncordoned", Uncordoned),
        ("reconcileLeft", "left", Skipped),
    ];
}
