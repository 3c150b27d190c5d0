using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>
/// The measured signals: CPU over the scale-up window, memory now, the predicted CPU and the custom
/// metric. Each asks for enough workers to bring its figure to the target, minus those launching,
/// and returns null when its figure is unknown or at or below its threshold.
/// </summary>
internal static class UtilizationRules
{
    /// <param name="readyCpuMillis">Allocatable CPU of every Ready worker, managed or not: utilisation is measured over them all.</param>
    public static ScaleUpAsk.Cpu? Cpu(double? lowestOverWindow, long readyCpuMillis, int launching, ScalingSettings settings)
    {
        if (lowestOverWindow is not { } cpu)
        {
            return null;
        }

        var nodes = NodesToTarget(cpu, settings.ScaleUpCpuThreshold, readyCpuMillis, settings.WorkerShape.CpuMillis, settings.TargetUtilization, launching);
        return nodes > 0 ? new ScaleUpAsk.Cpu(nodes, cpu, settings.ScaleUpCpuThreshold, settings.ScaleUpCpuWindow, settings.TargetUtilization) : null;
    }

    /// <summary>
    /// Memory now against its threshold, only while the pods use more memory than they request (or
    /// that is unknown): otherwise the requests bound memory and pending pods ask for the workers
    /// they need (<see cref="MemoryAccounting"/>).
    /// </summary>
    /// <param name="readyMemoryBytes">Allocatable memory of every Ready worker, managed or not.</param>
    public static ScaleUpAsk.Memory? Memory(UtilizationMetrics utilization, long readyMemoryBytes, int launching, ScalingSettings settings)
    {
        if (utilization.MemoryNow is not { } memory || MemoryAccounting.ByRequests(utilization))
        {
            return null;
        }

        var nodes = NodesToTarget(memory, settings.ScaleUpMemoryThreshold, readyMemoryBytes, settings.WorkerShape.MemoryBytes, settings.TargetUtilization, launching);
        return nodes > 0 ? new ScaleUpAsk.Memory(nodes, memory, settings.ScaleUpMemoryThreshold, settings.TargetUtilization) : null;
    }

    /// <summary>The CPU predicted <c>predictiveHorizon</c> ahead, against the CPU threshold; off while the horizon is 0.</summary>
    public static ScaleUpAsk.Prediction? Prediction(double? predicted, long readyCpuMillis, int launching, ScalingSettings settings)
    {
        if (settings.PredictiveHorizon <= TimeSpan.Zero || predicted is not { } cpu)
        {
            return null;
        }

        var nodes = NodesToTarget(cpu, settings.ScaleUpCpuThreshold, readyCpuMillis, settings.WorkerShape.CpuMillis, settings.TargetUtilization, launching);
        return nodes > 0 ? new ScaleUpAsk.Prediction(nodes, cpu, settings.PredictiveHorizon, settings.ScaleUpCpuThreshold, settings.TargetUtilization) : null;
    }

    /// <summary><c>ceil(value / customMetricTargetPerNode)</c> workers, less the Ready ones (managed or not) and those launching.</summary>
    public static ScaleUpAsk.CustomMetric? CustomMetric(double? value, int allReadyWorkers, int launching, ScalingSettings settings)
    {
        if (settings.CustomMetricTargetPerNode is not { } perNode || value is not { } measured)
        {
            return null;
        }

        var nodes = Math.Max(0, (int)WorkersFor(measured, perNode) - allReadyWorkers - launching);
        return nodes > 0 ? new ScaleUpAsk.CustomMetric(nodes, measured, perNode) : null;
    }

    /// <summary>The workers the custom metric wants in all; the epsilon keeps float noise from asking for one more.</summary>
    public static double WorkersFor(double value, double perNode) => Math.Ceiling(value / perNode - 1e-9);

    /// <summary>
    /// Nodes of <paramref name="perNode"/> to add so that the used share falls to the target, minus
    /// those launching. Zero at or below the threshold, or when there is nothing to measure.
    /// </summary>
    private static int NodesToTarget(double utilization, double threshold, long readyAllocatable, long perNode, double target, int launching)
    {
        if (utilization <= threshold || readyAllocatable <= 0)
        {
            return 0;
        }

        var used = utilization * readyAllocatable;
        var nodes = (int)Math.Ceiling(((used / target) - readyAllocatable) / perNode - 1e-9);
        return Math.Max(0, Math.Max(1, nodes) - launching);
    }
}
