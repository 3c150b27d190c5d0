using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>Why the scale-down planner passed over a node; <see cref="DecisionText"/> turns it into a note.</summary>
internal abstract record Refusal(string Node)
{
    public sealed record NoInstanceId(string Node) : Refusal(Node);

    /// <summary>Its last scale-down drain was aborted at <paramref name="AbortedAt"/> (<paramref name="Why"/>); it is not chosen before <paramref name="Until"/>.</summary>
    public sealed record DrainBackedOff(string Node, DateTimeOffset AbortedAt, string Why, DateTimeOffset Until) : Refusal(Node);

    /// <param name="More">How many further pods on the node may not be evicted either.</param>
    public sealed record Unevictable(string Node, EvictionBlocker First, int More) : Refusal(Node);

    /// <summary>Its pods do not fit on the other nodes without filling one beyond <paramref name="Target"/>.</summary>
    /// <param name="MemoryFill">The share of memory requests could fill: the target, or all of it when memory counts by requests.</param>
    public sealed record PodsDoNotFit(string Node, double Target, double MemoryFill) : Refusal(Node);

    /// <summary>
    /// <paramref name="Pods"/> of its movable pods, of <paramref name="Owner"/>, pass the scheduler's
    /// checks on no other node (or have a constraint NodeFleet does not model): evicted, they would stay Pending.
    /// </summary>
    public sealed record PodsCannotMove(string Node, string Owner, int Pods, Scheduling.Predicate Predicate, string? Detail) : Refusal(Node);

    /// <summary>It is the last worker of <paramref name="Zone"/> while <paramref name="OtherZone"/> has <paramref name="OtherWorkers"/>: removing it would empty a zone.</summary>
    public sealed record LastInZone(string Node, string Zone, string OtherZone, int OtherWorkers) : Refusal(Node);

    /// <summary>Without it, less than <paramref name="Headroom"/> of a worker would stay unrequested while the workload grows.</summary>
    public sealed record HeadroomWouldBreak(string Node, double Headroom) : Refusal(Node);

    /// <summary>
    /// Memory counts by requests and was not low in use, and its pods request <paramref name="Share"/>
    /// of its memory, not below <paramref name="Threshold"/> (scaleDownMemoryThreshold).
    /// </summary>
    public sealed record MemoryRequested(string Node, double Share, double Threshold) : Refusal(Node);

    /// <summary>Without it, measured worker usage would exceed <paramref name="Target"/>.</summary>
    public sealed record UsageTooHigh(string Node, double CpuAfter, double MemoryAfter, double Target) : Refusal(Node);
}
