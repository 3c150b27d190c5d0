using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>The scale-down rule's answer, and the nodes the planner passed over on the way.</summary>
internal sealed record ScaleDownAnswer(Verdict Verdict, IReadOnlyList<Refusal> Refusals);

/// <summary>
/// Scale-down: a node goes when utilisation stayed low over the window (<c>Underutilized</c>), or
/// when an empty worker can go while the workers are busy (<c>EmptyNode</c>); guarded by the
/// launches in flight, the minimum, both cooldowns and the planner's per-node checks.
/// </summary>
internal static class ScaleDownRule
{
    /// <summary>
    /// CPU and memory stayed below their scale-down thresholds over the whole window, and the
    /// optional signals agree. Unknown peaks never count as low. Memory counted by requests
    /// (<see cref="MemoryAccounting"/>) does not hold a scale-down back: the planner places the pods
    /// by their requests.
    /// </summary>
    public static bool UtilizationLow(ClusterSnapshot snapshot, int allReadyWorkers, ScalingSettings settings)
    {
        var u = snapshot.Utilization;
        return u.CpuMaxOverDownWindow < settings.ScaleDownCpuThreshold
            && u.MemoryMaxOverDownWindow is { } memory && (memory < settings.ScaleDownMemoryThreshold || MemoryAccounting.ByRequests(u))
            && OptionalSignalsAllow(snapshot, allReadyWorkers, settings);
    }

    /// <summary>The predicted CPU and the custom metric, when configured, do not want the Ready workers there are.</summary>
    public static bool OptionalSignalsAllow(ClusterSnapshot snapshot, int allReadyWorkers, ScalingSettings settings) =>
        allReadyWorkers > 0
        && (settings.PredictiveHorizon == TimeSpan.Zero || snapshot.PredictedCpuUtilization < settings.ScaleDownCpuThreshold)
        && (settings.CustomMetricTargetPerNode is not { } perNode || snapshot.CustomMetricValue is not { } value
            || UtilizationRules.WorkersFor(value, perNode) < allReadyWorkers);

    /// <summary>
    /// An empty worker may go even while the workers are busy, once requests have been flat for
    /// the headroom window (a noisy workload would refill it within minutes): nothing has to move,
    /// and the planner still checks that usage without it stays under the target.
    /// </summary>
    public static bool EmptyWorkerMayGo(ClusterSnapshot snapshot, FleetView view, ScalingSettings settings) =>
        snapshot.RequestedCpuSwing is < 1
        && OptionalSignalsAllow(snapshot, view.AllReadyWorkers.Count, settings)
        && snapshot.Utilization is { CpuMaxOverDownWindow: not null, MemoryMaxOverDownWindow: not null }
        && view.ReadyManagedWorkers.Any(n => !n.Unschedulable && ScaleDownPlanner.IsEmpty(n));

    public static ScaleDownAnswer Decide(ClusterSnapshot snapshot, FleetState fleet, FleetView view, ScalingSettings settings, DateTimeOffset now)
    {
        var u = snapshot.Utilization;
        var peaks = new DownWindowPeaks(u.CpuMaxOverDownWindow, u.MemoryMaxOverDownWindow, settings.ScaleDownWindow, MemoryAccounting.ByRequests(u) ? u.MemoryUseOfRequests : null);
        if (view.Launching > 0)
        {
            return new(new Verdict.AwaitingLaunches(view.Launching), []);
        }

        var utilizationLow = UtilizationLow(snapshot, view.AllReadyWorkers.Count, settings);
        if (!utilizationLow && !EmptyWorkerMayGo(snapshot, view, settings))
        {
            Verdict quiet = view.AllReadyWorkers.Count == 0
                ? new Verdict.NoReadyWorkers(view.EffectiveMin)
                : new Verdict.WithinThresholds(
                    u.CpuNow, settings.ScaleUpCpuThreshold, settings.ScaleUpCpuWindow, settings.ScaleDownCpuThreshold,
                    u.MemoryNow, settings.ScaleUpMemoryThreshold, settings.ScaleDownMemoryThreshold, peaks.MemoryUseOfRequests);
            return new(quiet, []);
        }

        if (view.WorkersTowardMinimum - 1 < view.EffectiveMin)
        {
            return new(new Verdict.AtMinimum(peaks, view.WorkersTowardMinimum, view.EffectiveMin), []);
        }

        var downEnds = fleet.LastScaleDownAt + settings.ScaleDownCooldown;
        var upEnds = fleet.LastScaleUpAt + settings.ScaleUpCooldown;
        var cooldownEnds = Later(downEnds, upEnds);
        if (cooldownEnds > now)
        {
            return new(new Verdict.ScaleDownCoolingDown(peaks, cooldownEnds.Value, AfterScaleDown: downEnds == cooldownEnds), []);
        }

        // Every empty worker that goes must leave the minimum standing, as the first one does.
        var maxAlso = Math.Min(settings.MaxEmptyRemovals - 1, view.WorkersTowardMinimum - 1 - view.EffectiveMin);
        var plan = new ScaleDownPlanner(snapshot, view, settings, fleet.DrainBackoffs, now).Choose(emptyOnly: !utilizationLow, maxAlso);
        Verdict verdict = (plan.Node, utilizationLow) switch
        {
            (null, true) => new Verdict.NoRemovableNode(peaks),
            (null, false) => new Verdict.NoEmptyWorker(),
            ({ } node, true) => new Verdict.Underutilized(node, peaks, settings.TargetUtilization, plan.AlsoEmpty),
            ({ } node, false) => new Verdict.EmptyNode(node, settings.TargetUtilization, plan.AlsoEmpty, MemoryAccounting.ByRequests(u)),
        };
        return new(verdict, plan.Refusals);
    }

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;
}
