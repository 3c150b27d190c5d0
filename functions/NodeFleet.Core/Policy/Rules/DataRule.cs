using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>Figures the rules need that the snapshot lacks, by the JSON names an operator sees.</summary>
/// <param name="Blocking">Without these nothing may be decided.</param>
/// <param name="Utilization">Without these only counted signals (unschedulable pods, the minimum) may scale up.</param>
internal sealed record MissingData(IReadOnlyList<string> Blocking, IReadOnlyList<string> Utilization);

/// <summary>No data, no scaling: a missing figure is never read as zero.</summary>
internal static class DataRule
{
    /// <summary>
    /// Worker utilisation is undefined without Ready workers, so it is only required when some
    /// exist (<paramref name="allReadyWorkers"/>). The node list may never be empty because the
    /// control plane always reports: an empty list means the node series are missing.
    /// </summary>
    public static MissingData Missing(ClusterSnapshot snapshot, int allReadyWorkers, ScalingSettings settings)
    {
        var blocking = new List<string>();
        var utilization = new List<string>();
        if (snapshot.Nodes.Count == 0)
        {
            blocking.Add("nodes");
        }

        if (allReadyWorkers > 0)
        {
            var u = snapshot.Utilization;
            if (u.CpuNow is null) utilization.Add("cpuNow");
            if (u.CpuMinOverUpWindow is null) utilization.Add("cpuMinOverUpWindow");
            if (u.CpuMaxOverDownWindow is null) utilization.Add("cpuMaxOverDownWindow");
            if (u.MemoryNow is null) utilization.Add("memoryNow");
            if (u.MemoryMaxOverDownWindow is null) utilization.Add("memoryMaxOverDownWindow");
            if (settings.PredictiveHorizon > TimeSpan.Zero && snapshot.PredictedCpuUtilization is null)
            {
                utilization.Add("predictedCpuUtilization");
            }
        }

        if (settings.CustomMetricQuery is not null && snapshot.CustomMetricValue is null)
        {
            blocking.Add("customMetricValue");
        }

        return new MissingData(blocking, utilization);
    }
}
