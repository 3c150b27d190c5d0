using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>
/// What a scale-up rule asks for: <see cref="Nodes"/> more nodes (beyond those already launching,
/// always at least one), the reason code, and the figures behind it. Rules that ask for nothing
/// return no ask; <see cref="DecisionText"/> puts an ask into words.
/// </summary>
internal abstract record ScaleUpAsk(DecisionReason Reason, int Nodes)
{
    /// <summary>Fewer workers count toward the minimum than it asks for.</summary>
    /// <param name="Scheduled">A scheduled minimum raised <paramref name="MinNodes"/> above <c>minNodes</c>.</param>
    public sealed record Minimum(int Nodes, int WorkersTowardMinimum, int MinNodes, bool Scheduled)
        : ScaleUpAsk(DecisionReason.BelowMinimum, Nodes);

    /// <param name="AtLeast">Packing stopped at the new-node limit: <paramref name="Nodes"/> is a lower bound.</param>
    /// <param name="PlaceablePods">Unschedulable pods a new worker could hold.</param>
    public sealed record PendingPods(int Nodes, bool AtLeast, int PlaceablePods, int Launching)
        : ScaleUpAsk(DecisionReason.PendingPods, Nodes);

    /// <summary>One node ahead of the pods: less than <paramref name="Share"/> of a worker is unrequested.</summary>
    public sealed record Headroom(double Share) : ScaleUpAsk(DecisionReason.Headroom, 1);

    /// <summary>An ask from a measured signal. Measurements lag behind launches, so these wait for the scale-up cooldown.</summary>
    public abstract record Measured(DecisionReason Reason, int Nodes) : ScaleUpAsk(Reason, Nodes);

    /// <param name="LowestOverWindow">The lowest CPU utilisation over <paramref name="Window"/>.</param>
    public sealed record Cpu(int Nodes, double LowestOverWindow, double Threshold, TimeSpan Window, double Target)
        : Measured(DecisionReason.CpuHigh, Nodes);

    public sealed record Memory(int Nodes, double Utilization, double Threshold, double Target)
        : Measured(DecisionReason.MemoryHigh, Nodes);

    public sealed record CustomMetric(int Nodes, double Value, double TargetPerNode)
        : Measured(DecisionReason.CustomMetricHigh, Nodes);

    /// <param name="Predicted">CPU utilisation predicted <paramref name="Horizon"/> ahead.</param>
    public sealed record Prediction(int Nodes, double Predicted, TimeSpan Horizon, double Threshold, double Target)
        : Measured(DecisionReason.PredictedCpuHigh, Nodes);
}
