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

    /// <summary>Set by CollectMetrics.</summary>
    public ClusterSnapshot? Snapshot { get; init; }

    /// <summary>The remembered state (cooldowns, in-flight launches), read with the snapshot.</summary>
    public FleetState? Fleet { get; init; }

    /// <summary>Set by Decide.</summary>
    public Decision? Decision { get; init; }
}
