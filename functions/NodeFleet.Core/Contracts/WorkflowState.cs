namespace NodeFleet.Core.Contracts;

/// <summary>
/// The one record that flows through the state machine. Each step reads what it needs and
/// writes its own part (ASL <c>ResultPath</c>). Kept small: the Step Functions payload limit
/// is 256 KB, so pods travel grouped by request shape and the snapshot is dropped after Decide.
/// </summary>
public sealed record WorkflowState
{
    public const int CurrentVersion = 1;

    /// <summary>Contract version; a step refuses a version it does not know.</summary>
    public required int Version { get; init; }

    /// <summary>What started the execution; set by CollectMetrics from the execution input.</summary>
    public Trigger? Trigger { get; init; }

    /// <summary>Set by CollectMetrics.</summary>
    public ClusterSnapshot? Snapshot { get; init; }

    /// <summary>The remembered state (cooldowns, in-flight launches), read with the snapshot.</summary>
    public FleetState? Fleet { get; init; }

    /// <summary>Set by Decide.</summary>
    public Decision? Decision { get; init; }

    /// <summary>The Step Functions execution (ARN): the lease owner, and the source of the launch id.</summary>
    public string? ExecutionId { get; init; }

    /// <summary>Set by AcquireLock.</summary>
    public LockResult? Lock { get; init; }

    /// <summary>Set by LaunchNodes.</summary>
    public LaunchOutcome? Launch { get; init; }

    /// <summary>Set by CheckNodesReady.</summary>
    public ReadinessReport? Readiness { get; init; }

    /// <summary>Set by DrainNode.</summary>
    public DrainProgress? Drain { get; init; }

    /// <summary>Set by the state machine on the path taken: what UpdateState records and Notify reports.</summary>
    public OutcomeReport? Outcome { get; init; }

    /// <summary>Set by a Catch: the error that ended the run.</summary>
    public StepError? Error { get; init; }
}

/// <summary>AcquireLock's answer: the lease, or why it was refused (the workflow then stops early).</summary>
public sealed record LockResult
{
    public required bool Acquired { get; init; }
    public string? Owner { get; init; }
    public long Fence { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? RefusedBecause { get; init; }
}

public sealed record LaunchedInstance
{
    public required string InstanceId { get; init; }
    public required string Zone { get; init; }
    public required string InstanceType { get; init; }
    public required CapacityType CapacityType { get; init; }
}

/// <summary>What LaunchNodes asked for and got; errors name the pools EC2 could not fill.</summary>
public sealed record LaunchOutcome
{
    public required string LaunchId { get; init; }
    public required int Requested { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required IReadOnlyList<LaunchedInstance> Instances { get; init; }
    public IReadOnlyList<string> Errors { get; init; } = [];
}

/// <summary>The path's result, named by the state machine: e.g. <c>ScaledUp</c> after every node joined.</summary>
public sealed record OutcomeReport
{
    public required Ports.OutcomeKind Kind { get; init; }

    /// <summary>Optional detail from the path, e.g. which instances never joined.</summary>
    public string? Detail { get; init; }
}

/// <summary>A Catch's error output, as Step Functions shapes it.</summary>
public sealed record StepError
{
    [System.Text.Json.Serialization.JsonPropertyName("Error")]
    public required string Error { get; init; }

    [System.Text.Json.Serialization.JsonPropertyName("Cause")]
    public string? Cause { get; init; }
}

/// <summary>TerminateNode's input: the instances to terminate (the node removed, or instances that never joined).</summary>
public sealed record TerminateRequest
{
    public required IReadOnlyList<string> InstanceIds { get; init; }
}
