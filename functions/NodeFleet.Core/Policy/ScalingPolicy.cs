using System.Globalization;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// The scaling decision: a pure function of the snapshot, the remembered state, the settings
/// and the time. Same inputs, same decision; no clock reads, no I/O.
/// </summary>
public static class ScalingPolicy
{
    /// <summary>
    /// How long a newly joined node's free room still counts against unschedulable pods: the
    /// scheduler retries them within seconds, but kube-state-metrics reports the change only
    /// after a scrape or two. Without this, a tick in that gap would launch for pods already placed.
    /// </summary>
    public static readonly TimeSpan RecentlyJoinedGrace = TimeSpan.FromMinutes(2);

    /// <summary>The decision for whatever started the execution: a tick measures and scales, an EC2 event replaces.</summary>
    public static Decision Decide(Trigger trigger, ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(settings);
        return trigger.IsInterruption
            ? InterruptionPolicy.Decide(trigger, snapshot, fleet, settings, now)
            : Decide(snapshot, fleet, settings, now);
    }

    public static Decision Decide(ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(settings);
        var decision = new Evaluation(snapshot, fleet, settings, now).Run();
        return settings.DryRun && decision.Action != ScalingAction.None
            ? decision with { Reason = "Dry run, nothing done: " + decision.Reason }
            : decision;
    }

    private sealed class Evaluation(ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now)
    {
        private readonly List<string> notes = [];
        private FleetView view = null!;
        private DecisionFigures figures = new();

        /// <summary>False when a utilisation figure is missing: only counted signals (pods, minimum) may scale up.</summary>
        private bool utilizationKnown = true;

        public Decision Run()
        {
            var age = now - snapshot.CapturedAt;
            if (age > settings.MaxSnapshotAge)
            {
                return None(DecisionReason.SnapshotStale,
                    $"Metrics are {Duration(age)} old (limit {Duration(settings.MaxSnapshotAge)}): not scaling on stale data");
            }

            view = new FleetView(snapshot, fleet, settings, now);
            figures = BaseFigures();
            var (missing, utilizationMissing) = MissingFigures();
            if (missing.Count > 0)
            {
                return None(DecisionReason.MetricsMissing,
                    $"No data for {string.Join(", ", missing.Concat(utilizationMissing))}: not scaling on missing metrics");
            }

            if (utilizationMissing.Count > 0)
            {
                // Unschedulable pods and the minimum are counted, not measured: they may still scale
                // up. Nothing is read as zero: the utilisation rules and scale-down wait for data.
                var skipped = $"no data for {string.Join(", ", utilizationMissing)}";
                utilizationKnown = false;
                if (ScaleUp() is { Action: ScalingAction.ScaleUp } up)
                {
                    return up with { Reason = $"{up.Reason} (utilisation rules skipped: {skipped})" };
                }

                return None(DecisionReason.MetricsMissing, $"No data for {string.Join(", ", utilizationMissing)}: not scaling on missing metrics (only unschedulable pods or the minimum could scale up now)");
            }

            return ScaleUp() ?? ScaleDown();
        }

        private DecisionFigures BaseFigures()
        {
            var u = snapshot.Utilization;
            return new DecisionFigures
            {
                ReadyWorkers = view.ReadyManaged.Count,
                LaunchingWorkers = view.Launching,
                ManagedWorkers = view.Total,
                MinNodes = view.EffectiveMin,
                MaxNodes = settings.MaxNodes,
                CpuNow = u.CpuNow,
                CpuMinOverUpWindow = u.CpuMinOverUpWindow,
                CpuMaxOverDownWindow = u.CpuMaxOverDownWindow,
                MemoryNow = u.MemoryNow,
                MemoryMaxOverDownWindow = u.MemoryMaxOverDownWindow,
                PredictedCpu = snapshot.PredictedCpuUtilization,
                CustomMetric = snapshot.CustomMetricValue,
                UnschedulablePods = snapshot.UnschedulablePods.Sum(g => g.Count),
            };
        }

        /// <summary>
        /// Figures the rules need that are absent: those without which nothing may be decided, and
        /// worker utilisation, which is undefined without Ready workers and so only required when
        /// some exist. The node list never may be empty because the control plane always reports
        /// (an empty list means the node series are missing).
        /// </summary>
        private (List<string> Blocking, List<string> Utilization) MissingFigures()
        {
            var blocking = new List<string>();
            var utilization = new List<string>();
            if (snapshot.Nodes.Count == 0)
            {
                blocking.Add("nodes");
            }

            if (view.ReadyWorkers.Count > 0)
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

            return (blocking, utilization);
        }

        /// <summary>
        /// Every scale-up signal asks for a number of nodes; the largest ask wins. The minimum and
        /// unschedulable pods never wait for the cooldown (the pods are counted exactly against
        /// what is already launching); utilisation signals lag, so they do.
        /// </summary>
        private Decision? ScaleUp()
        {
            var shortBy = Math.Max(0, view.EffectiveMin - view.Capacity);
            var pending = PackPendingPods();
            var cpu = UtilizationNeed(snapshot.Utilization.CpuMinOverUpWindow, settings.ScaleUpCpuThreshold, view.ReadyWorkerCpu, settings.WorkerShape.CpuMillis);
            var memory = UtilizationNeed(snapshot.Utilization.MemoryNow, settings.ScaleUpMemoryThreshold, view.ReadyWorkerMemory, settings.WorkerShape.MemoryBytes);
            var custom = CustomMetricNeed();
            var headroom = pending.NewBins == 0 && pending.PlaceablePods == 0 ? HeadroomNeed() : 0;
            var predicted = settings.PredictiveHorizon > TimeSpan.Zero
                ? UtilizationNeed(snapshot.PredictedCpuUtilization, settings.ScaleUpCpuThreshold, view.ReadyWorkerCpu, settings.WorkerShape.CpuMillis)
                : 0;
            figures = figures with
            {
                UnplaceablePods = pending.UnplaceablePods,
                NodesForPendingPods = pending.NewBins,
                NodesForHeadroom = headroom,
                NodesForCpu = cpu,
                NodesForMemory = memory,
                NodesForCustomMetric = custom,
                NodesForPrediction = predicted,
            };

            var (utilNeed, utilReason) = new[]
            {
                (cpu, DecisionReason.CpuHigh),
                (memory, DecisionReason.MemoryHigh),
                (custom, DecisionReason.CustomMetricHigh),
                (predicted, DecisionReason.PredictedCpuHigh),
            }.MaxBy(s => s.Item1);
            var upCooldownEnds = fleet.LastScaleUpAt + settings.ScaleUpCooldown;
            if (utilNeed > 0 && upCooldownEnds > now)
            {
                figures = figures with { CooldownEndsAt = upCooldownEnds };
                if (pending.NewBins == 0 && shortBy == 0)
                {
                    return None(DecisionReason.ScaleUpCooldown,
                        $"{Cause(utilReason, pending, utilNeed)}, but the scale-up cooldown runs until {Time(upCooldownEnds!.Value)}");
                }

                utilNeed = 0;
            }

            var (need, reason) = new[]
            {
                (pending.NewBins, DecisionReason.PendingPods),
                (shortBy, DecisionReason.BelowMinimum),
                (utilNeed, utilReason),
                (headroom, DecisionReason.Headroom), // the weakest reason: named only when nothing else asks as much
            }.MaxBy(s => s.Item1);
            if (need <= 0)
            {
                return PendingWithoutNeed(pending);
            }

            var room = settings.MaxNodes - view.Total;
            if (room <= 0)
            {
                return None(DecisionReason.AtMaximum,
                    $"{Cause(reason, pending, need)}, but {view.Total} managed workers already reach the maximum of {settings.MaxNodes}");
            }

            var add = Math.Min(need, Math.Min(settings.MaxStep, room));
            var cooldown = reason is DecisionReason.PendingPods or DecisionReason.BelowMinimum or DecisionReason.Headroom ? CooldownScope.None : CooldownScope.ScaleUp;
            var capped = add < need ? $"; adding {add} now (capped by {(add == room ? "maxNodes" : "maxStep")})" : "";
            return Decision(ScalingAction.ScaleUp, reason, cooldown, $"Scale up by {add}: {Cause(reason, pending, need)}{capped}") with
            {
                NodesToAdd = add,
            };
        }

        /// <summary>Unschedulable pods exist but call for no new node: explain why instead of going on to scale-down.</summary>
        private Decision? PendingWithoutNeed(PackingResult pending)
        {
            if (pending.PlaceablePods > 0)
            {
                return None(DecisionReason.LaunchInProgress,
                    $"{pending.PlaceablePods} unschedulable pod(s) fit on the {view.Launching + view.RecentlyJoinedFree.Count} launching or just-joined node(s)");
            }

            if (pending.UnplaceablePods > 0 && !ScaleDownConditionsHold())
            {
                return None(DecisionReason.PodsUnplaceable,
                    $"{pending.UnplaceablePods} unschedulable pod(s) are larger than a whole worker ({settings.WorkerShape}): new nodes would not help");
            }

            return null;
        }

        private PackingResult PackPendingPods()
        {
            var openBins = Enumerable.Repeat(settings.WorkerShape, view.Launching).Concat(view.RecentlyJoinedFree);
            // More new nodes than the maximum can never be launched, so counting further is wasted work.
            var result = BinPacker.PackWithNewBins(snapshot.UnschedulablePods, openBins, settings.WorkerShape, settings.MaxNodes + 1);
            foreach (var group in result.Unplaceable)
            {
                notes.Add($"{group.Count} pod(s){(group.Owner is null ? "" : " of " + group.Owner)} request {group.CpuMillis}m CPU and {group.MemoryBytes / (1024 * 1024)}Mi memory, more than a worker offers: never placeable");
            }

            return result;
        }

        /// <summary>
        /// Nodes of the worker shape to add so that the used share falls to the target, minus
        /// those launching. Zero when the signal is below its threshold or there is nothing to measure.
        /// </summary>
        private int UtilizationNeed(double? utilization, double threshold, long readyAllocatable, long perNode)
        {
            if (!utilizationKnown || utilization is not { } u || u <= threshold || readyAllocatable <= 0)
            {
                return 0;
            }

            var used = u * readyAllocatable;
            var nodes = (int)Math.Ceiling(((used / settings.TargetUtilization) - readyAllocatable) / perNode - 1e-9);
            return Math.Max(0, Math.Max(1, nodes) - view.Launching);
        }

        /// <summary>
        /// One node when the workload is growing (requested CPU rose within the headroom window)
        /// and the room left unrequested on the schedulable Ready workers plus the launching ones
        /// is below the headroom: the next pods then find a booted node instead of waiting for one.
        /// A flat workload keeps no spare node. Counted from requests, not measured, so it needs no utilisation data;
        /// never at the maximum (that would only notify "at maximum" on every tick).
        /// </summary>
        private int HeadroomNeed()
        {
            var keeps = view.KeepsHeadroom && view.Total < settings.MaxNodes && view.ReadyManaged.Count + view.Launching > 0;
            return keeps && view.BelowHeadroom(view.UnrequestedRoom + settings.WorkerShape.Times(view.Launching)) ? 1 : 0;
        }

        private int CustomMetricNeed()
        {
            if (!utilizationKnown || settings.CustomMetricTargetPerNode is not { } perNode || snapshot.CustomMetricValue is not { } value)
            {
                return 0;
            }

            var desired = (int)Math.Ceiling(value / perNode - 1e-9);
            return Math.Max(0, desired - view.ReadyWorkers.Count - view.Launching);
        }

        private bool ScaleDownConditionsHold()
        {
            var u = snapshot.Utilization;
            return u.CpuMaxOverDownWindow < settings.ScaleDownCpuThreshold
                && u.MemoryMaxOverDownWindow < settings.ScaleDownMemoryThreshold
                && OptionalSignalsAllowScaleDown();
        }

        /// <summary>The predicted CPU and the custom metric, when configured, do not want the workers there are.</summary>
        private bool OptionalSignalsAllowScaleDown()
        {
            return view.ReadyWorkers.Count > 0
                && (settings.PredictiveHorizon == TimeSpan.Zero || snapshot.PredictedCpuUtilization < settings.ScaleDownCpuThreshold)
                && (settings.CustomMetricTargetPerNode is not { } perNode || snapshot.CustomMetricValue is not { } value
                    || Math.Ceiling(value / perNode - 1e-9) < view.ReadyWorkers.Count);
        }

        private Decision ScaleDown()
        {
            var u = snapshot.Utilization;
            var lows = $"CPU peaked at {Percent(u.CpuMaxOverDownWindow)} and memory at {Percent(u.MemoryMaxOverDownWindow)} over the last {Duration(settings.ScaleDownWindow)}";
            if (view.Launching > 0)
            {
                return None(DecisionReason.LaunchInProgress, $"{view.Launching} node(s) still launching: no scale-down until they join");
            }

            // An empty worker may go even while the workers are busy, once requests have been flat
            // for the headroom window (a noisy workload would refill it within minutes): nothing
            // has to move, and the planner still checks that usage without it stays under the target.
            var conditionsHold = ScaleDownConditionsHold();
            if (!conditionsHold && !(snapshot.RequestedCpuSwing is < 1 && OptionalSignalsAllowScaleDown() && u.CpuMaxOverDownWindow is not null && u.MemoryMaxOverDownWindow is not null
                && view.ReadyManaged.Any(n => !n.Unschedulable && n.MovablePods.Count == 0 && n.Blockers.Count == 0)))
            {
                return None(DecisionReason.WithinThresholds,
                    view.ReadyWorkers.Count == 0
                        ? $"No Ready workers and nothing pending; minimum {view.EffectiveMin} is met"
                        : $"Within thresholds: CPU {Percent(u.CpuNow)} (up above {Percent(settings.ScaleUpCpuThreshold)} for {Duration(settings.ScaleUpCpuWindow)}, down below {Percent(settings.ScaleDownCpuThreshold)}), memory {Percent(u.MemoryNow)} (up above {Percent(settings.ScaleUpMemoryThreshold)}, down below {Percent(settings.ScaleDownMemoryThreshold)})");
            }

            if (view.Capacity - 1 < view.EffectiveMin)
            {
                return None(DecisionReason.AtMinimum, $"{lows}, but {view.Capacity} workers is the minimum of {view.EffectiveMin}");
            }

            var downEnds = fleet.LastScaleDownAt + settings.ScaleDownCooldown;
            var upEnds = fleet.LastScaleUpAt + settings.ScaleUpCooldown;
            var cooldownEnds = Max(downEnds, upEnds);
            if (cooldownEnds > now)
            {
                figures = figures with { CooldownEndsAt = cooldownEnds };
                var after = downEnds == cooldownEnds ? "scale-down" : "scale-up";
                return None(DecisionReason.ScaleDownCooldown, $"{lows}, but the cooldown after the last {after} runs until {Time(cooldownEnds.Value)}");
            }

            var candidate = new ScaleDownPlanner(snapshot, view, settings).Choose(notes, emptyOnly: !conditionsHold);
            if (candidate is null)
            {
                return conditionsHold
                    ? None(DecisionReason.NoRemovableNode, $"{lows}, but no node can go: {(notes.Count > 0 ? notes[0] : "none qualifies")}")
                    : None(DecisionReason.WithinThresholds, $"Within thresholds, and no empty worker can go: {(notes.Count > 0 ? notes[0] : "none qualifies")}");
            }

            if (!conditionsHold)
            {
                return Decision(ScalingAction.ScaleDown, DecisionReason.EmptyNode, CooldownScope.ScaleDown,
                    $"Remove {candidate.Name}: it runs no pod that would have to move, and worker usage without it stays under {Percent(settings.TargetUtilization)}") with
                {
                    NodeToRemove = candidate,
                };
            }

            return Decision(ScalingAction.ScaleDown, DecisionReason.Underutilized, CooldownScope.ScaleDown,
                $"Remove {candidate.Name} ({Percent(candidate.Utilization)} requested): {lows}, and its pods fit on the other nodes under {Percent(settings.TargetUtilization)}") with
            {
                NodeToRemove = candidate,
            };
        }

        /// <summary>Why <paramref name="need"/> more nodes are wanted, in words an operator reads in the console.</summary>
        private string Cause(DecisionReason reason, PackingResult pending, int need) => reason switch
        {
            DecisionReason.PendingPods =>
                $"{pending.PlaceablePods} unschedulable pod(s) need {(pending.Truncated ? "at least " : "")}{need} more node(s)"
                + (view.Launching > 0 ? $" besides the {view.Launching} launching" : ""),
            DecisionReason.Headroom =>
                $"less than the headroom of {Percent(settings.Headroom)} of a worker is unrequested on the workers: 1 more node before pods have to wait",
            DecisionReason.BelowMinimum =>
                $"{view.Capacity} Ready or launching worker(s) is below the {(view.EffectiveMin > settings.MinNodes ? "scheduled " : "")}minimum of {view.EffectiveMin}",
            DecisionReason.CpuHigh =>
                $"CPU stayed above {Percent(settings.ScaleUpCpuThreshold)} for {Duration(settings.ScaleUpCpuWindow)} (lowest {Percent(snapshot.Utilization.CpuMinOverUpWindow)}); {need} more node(s) bring it to {Percent(settings.TargetUtilization)}",
            DecisionReason.MemoryHigh =>
                $"memory at {Percent(snapshot.Utilization.MemoryNow)} is above {Percent(settings.ScaleUpMemoryThreshold)}; {need} more node(s) bring it to {Percent(settings.TargetUtilization)}",
            DecisionReason.CustomMetricHigh =>
                $"custom metric {Number(snapshot.CustomMetricValue)} at {Number(settings.CustomMetricTargetPerNode)} per worker wants {need} more node(s)",
            DecisionReason.PredictedCpuHigh =>
                $"CPU is predicted at {Percent(snapshot.PredictedCpuUtilization)} in {Duration(settings.PredictiveHorizon)}, above {Percent(settings.ScaleUpCpuThreshold)}; {need} more node(s) bring it to {Percent(settings.TargetUtilization)}",
            _ => $"{reason} wants {need} more node(s)",
        };

        private static string Number(double? value) => value?.ToString("0.##", CultureInfo.InvariantCulture) ?? "n/a";

        private Decision None(DecisionReason reason, string text) =>
            Decision(ScalingAction.None, reason, CooldownScope.None, text);

        private Decision Decision(ScalingAction action, DecisionReason reason, CooldownScope cooldown, string text) => new()
        {
            Action = action,
            ReasonCode = reason,
            Reason = text,
            Cooldown = cooldown,
            DryRun = settings.DryRun,
            DecidedAt = now,
            Figures = figures,
            Notes = notes.Take(MaxNotes).ToList(),
        };

        private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) =>
            a is null ? b : b is null ? a : a > b ? a : b;
    }

    /// <summary>Notes are for people: a handful is enough and keeps the payload small.</summary>
    private const int MaxNotes = 5;

    internal static string Percent(double? fraction) =>
        fraction is { } f ? (f * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "n/a";

    private static string Duration(TimeSpan value) => SettingValue.FormatDuration(TimeSpan.FromSeconds(Math.Round(value.TotalSeconds)));

    private static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
