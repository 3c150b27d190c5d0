using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using NodeFleet.Core.Policy.Scheduling;
using NodeFleet.Core.Settings;
using NodeFleet.Core.Workflow;

namespace NodeFleet.Core.Policy;

/// <summary>
/// The scaling decision: a pure function of the snapshot, the remembered state, the settings
/// and the time. Same inputs, same decision; no clock reads, no I/O. Each signal is a rule of
/// its own (<c>Policy/Rules</c>); this class only composes them, and <see cref="DecisionText"/> words the answer.
/// </summary>
public static class ScalingPolicy
{
    /// <summary>
    /// The decision for whatever started the execution: a tick reconciles, repairs and scales, an
    /// EC2 event replaces. <paramref name="inventory"/> (EC2 and the API) makes the maximum count
    /// every live instance and gives the reconcile pass its truth; without it, only the snapshot and memory count.
    /// </summary>
    public static Decision Decide(Trigger trigger, ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now, Inventory? inventory = null)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(settings);
        return trigger.IsInterruption
            ? InterruptionPolicy.Decide(trigger, snapshot, fleet, settings, now, inventory)
            : Decide(snapshot, fleet, settings, now, inventory);
    }

    /// <summary>
    /// The reconcile plan, then repairs (which need no metrics), then data checks, the minimum and
    /// the scale-up signals (the largest ask wins, capped by maxStep and maxNodes; only measured
    /// signals wait for the cooldown), then scale-down. The plan rides on whatever is decided.
    /// </summary>
    public static Decision Decide(ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now, Inventory? inventory = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(settings);
        if (inventory is null)
        {
            return Scale(snapshot, fleet, settings, now, null, null);
        }

        var plan = Reconciler.Plan(inventory, fleet, settings, now);
        var decision = Repairs.Decide(inventory, snapshot, fleet, settings, now, plan) ?? Scale(snapshot, fleet, settings, now, inventory, plan);
        // Pods no new node could host are told once (not every tick): a tick with nothing else to do is recorded and notified.
        var noScaleUp = FleetTransitions.MarkNew(decision.NoScaleUp, fleet);
        return decision with
        {
            Reason = decision.Reason + DecisionText.Reconcile(plan),
            Reconcile = plan,
            Figures = decision.Figures with { NotReadyWorkers = Reconciler.NotReadyWorkers(inventory).Count },
            NoScaleUp = noScaleUp,
            Alert = decision.Alert || (decision.Action == ScalingAction.None && noScaleUp.Any(p => p.New)),
        };
    }

    private static Decision Scale(ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now, Inventory? inventory, ReconcilePlan? plan)
    {
        IReadOnlyList<NoScaleUpPods> noScaleUp = [];
        Decision Answer(Verdict verdict, DecisionFigures figures, IReadOnlyList<string> notes) => verdict.ToDecision(figures, notes, settings.DryRun, now, noScaleUp);

        var age = now - snapshot.CapturedAt;
        if (age > settings.MaxSnapshotAge)
        {
            return Answer(new Verdict.SnapshotStale(age, settings.MaxSnapshotAge), new DecisionFigures(), []);
        }

        var view = new FleetView(snapshot, fleet, settings, now, inventory, plan);
        var figures = MeasuredFigures(view.CountFigures(settings.MaxNodes), snapshot);
        var missing = DataRule.Missing(snapshot, view.AllReadyWorkers.Count, settings);
        if (missing.Blocking.Count > 0)
        {
            return Answer(new Verdict.NoData([.. missing.Blocking, .. missing.Utilization], CountedSignalsMayScale: false), figures, []);
        }

        // Unschedulable pods and the minimum are counted, not measured: they may scale up while a
        // utilisation figure is missing. Nothing is read as zero: the measured rules and scale-down wait for data.
        var utilizationKnown = missing.Utilization.Count == 0;
        var asks = Asks.Of(snapshot, view, settings, utilizationKnown);
        figures = asks.AddTo(figures);
        noScaleUp = asks.Pods.NoScaleUp;
        var notes = DecisionText.Notes(noScaleUp, []);

        // Measured signals lag behind launches, so they wait for the scale-up cooldown; alone, they wait visibly.
        var measured = Strongest<ScaleUpAsk.Measured>(asks.Cpu, asks.Memory, asks.CustomMetric, asks.Prediction);
        var upCooldownEnds = fleet.LastScaleUpAt + settings.ScaleUpCooldown;
        if (measured is not null && upCooldownEnds > now)
        {
            figures = figures with { CooldownEndsAt = upCooldownEnds };
            if (asks.Pods.Ask is null && asks.Minimum is null)
            {
                return Answer(new Verdict.ScaleUpCoolingDown(measured, upCooldownEnds.Value), figures, notes);
            }

            measured = null;
        }

        // The headroom is the weakest reason: named only when nothing else asks as much.
        var ask = Strongest<ScaleUpAsk>(asks.Pods.Ask, asks.Minimum, measured, asks.Headroom);
        if (!utilizationKnown)
        {
            return Answer(
                ask is not null && Limit(ask, asks.Pods, view, settings, missing.Utilization) is Verdict.ScaleUp up ? up : new Verdict.NoData(missing.Utilization, CountedSignalsMayScale: true),
                figures,
                notes);
        }

        var scaleUp = ask is not null
            ? Limit(ask, asks.Pods, view, settings, [])
            : UnschedulablePodsRule.WhyNoLaunch(asks.Pods, ScaleDownRule.UtilizationLow(snapshot, view.AllReadyWorkers.Count, settings));
        if (scaleUp is not null)
        {
            return Answer(scaleUp, figures, notes);
        }

        var down = ScaleDownRule.Decide(snapshot, fleet, view, settings, now);
        if (down.Verdict is Verdict.ScaleDownCoolingDown cooling)
        {
            figures = figures with { CooldownEndsAt = cooling.Ends };
        }

        return Answer(down.Verdict, figures, DecisionText.Notes(noScaleUp, down.Refusals));
    }

    private static DecisionFigures MeasuredFigures(DecisionFigures counts, ClusterSnapshot snapshot) => counts with
    {
        CpuNow = snapshot.Utilization.CpuNow,
        CpuMinOverUpWindow = snapshot.Utilization.CpuMinOverUpWindow,
        CpuMaxOverDownWindow = snapshot.Utilization.CpuMaxOverDownWindow,
        MemoryNow = snapshot.Utilization.MemoryNow,
        MemoryMaxOverDownWindow = snapshot.Utilization.MemoryMaxOverDownWindow,
        MemoryUseOfRequests = snapshot.Utilization.MemoryUseOfRequests,
        PredictedCpu = snapshot.PredictedCpuUtilization,
        CustomMetric = snapshot.CustomMetricValue,
        UnschedulablePods = snapshot.UnschedulablePods.Sum(g => g.Count),
    };

    /// <summary>Every scale-up rule's answer. Measured rules ask only when utilisation is known; unschedulable pods, the minimum and the headroom are counted.</summary>
    private sealed record Asks(
        PodsAnswer Pods,
        ScaleUpAsk.Minimum? Minimum,
        ScaleUpAsk.Headroom? Headroom,
        ScaleUpAsk.Cpu? Cpu,
        ScaleUpAsk.Memory? Memory,
        ScaleUpAsk.CustomMetric? CustomMetric,
        ScaleUpAsk.Prediction? Prediction)
    {
        public static Asks Of(ClusterSnapshot snapshot, FleetView view, ScalingSettings settings, bool utilizationKnown)
        {
            var templates = new TemplateCatalog(settings.Templates, snapshot.DaemonSets);
            var open = new OpenCapacity(view.LaunchingZones, view.RecentlyJoined);
            var pods = UnschedulablePodsRule.Ask(snapshot.UnschedulablePods, open, templates, snapshot.Nodes, settings.MaxNodes);
            var u = snapshot.Utilization;
            return new Asks(
                pods,
                MinimumRule.Ask(view.WorkersTowardMinimum, view.EffectiveMin, settings.MinNodes),
                HeadroomRule.Ask(snapshot, pods.PlaceablePods, view.UnrequestedRoom, view.ReadyManagedWorkers.Count, view.Launching, view.WorkersTowardMaximum, settings),
                utilizationKnown ? UtilizationRules.Cpu(u.CpuMinOverUpWindow, view.AllReadyWorkersCpu, view.Launching, settings) : null,
                utilizationKnown ? UtilizationRules.Memory(u, view.AllReadyWorkersMemory, view.Launching, settings) : null,
                utilizationKnown ? UtilizationRules.CustomMetric(snapshot.CustomMetricValue, view.AllReadyWorkers.Count, view.Launching, settings) : null,
                utilizationKnown ? UtilizationRules.Prediction(snapshot.PredictedCpuUtilization, view.AllReadyWorkersCpu, view.Launching, settings) : null);
        }

        public DecisionFigures AddTo(DecisionFigures figures) => figures with
        {
            UnplaceablePods = Pods.UnplaceablePods,
            NodesForPendingPods = Pods.Ask?.Nodes ?? 0,
            NodesForHeadroom = Headroom?.Nodes ?? 0,
            NodesForCpu = Cpu?.Nodes ?? 0,
            NodesForMemory = Memory?.Nodes ?? 0,
            NodesForCustomMetric = CustomMetric?.Nodes ?? 0,
            NodesForPrediction = Prediction?.Nodes ?? 0,
        };
    }

    /// <summary>The ask for the most nodes; on a tie, the one listed first.</summary>
    private static T? Strongest<T>(params T?[] asks)
        where T : ScaleUpAsk =>
        asks.OfType<T>().MaxBy(a => a.Nodes);

    /// <summary>
    /// The ask within maxStep and the room below maxNodes (launching instances count); none at the
    /// maximum. The nodes pending pods need in a zone ride along, whichever ask won.
    /// </summary>
    private static Verdict Limit(ScaleUpAsk ask, PodsAnswer pods, FleetView view, ScalingSettings settings, IReadOnlyList<string> skippedFigures)
    {
        var room = settings.MaxNodes - view.WorkersTowardMaximum;
        if (room <= 0)
        {
            return new Verdict.AtMaximum(ask, view.WorkersTowardMaximum, settings.MaxNodes);
        }

        var add = Math.Min(ask.Nodes, Math.Min(settings.MaxStep, room));
        var cap = add == ask.Nodes ? ScaleUpCap.None : add == room ? ScaleUpCap.MaxNodes : ScaleUpCap.MaxStep;
        return new Verdict.ScaleUp(ask, add, cap, skippedFigures, pods.PinnedWithin(add));
    }
}
