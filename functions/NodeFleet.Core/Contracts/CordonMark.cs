namespace NodeFleet.Core.Contracts;

/// <summary>Why NodeFleet cordoned a node.</summary>
public enum CordonReason
{
    /// <summary>A scale-down drains it.</summary>
    ScaleDown,

    /// <summary>An interruption (or a repair) drains it before its instance goes.</summary>
    Interruption,

    /// <summary>A rebalance recommendation or <c>stopping</c> found pods that could not be evicted: it waits, cordoned, for the real warning.</summary>
    AwaitingInterruption,
}

/// <summary>
/// The annotations NodeFleet puts on a node it cordons, in the same patch as <c>spec.unschedulable</c>,
/// so that a cordon left by a failed or preempted execution is recognisable and the next reconcile
/// can lift it; a cordon without them is an operator's, and NodeFleet leaves it alone.
/// </summary>
public sealed record CordonMark
{
    public const string ByAnnotation = "nodefleet.io/cordoned-by";
    public const string ReasonAnnotation = "nodefleet.io/cordon-reason";
    public const string AtAnnotation = "nodefleet.io/cordoned-at";

    /// <summary>The execution that cordoned the node.</summary>
    public required string ExecutionId { get; init; }

    public required CordonReason Reason { get; init; }

    public required DateTimeOffset At { get; init; }
}
