using System.Globalization;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using NodeFleet.Core.Policy.Scheduling;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// The operator-facing words for the policy's structured answers: the one-line reason shown in
/// the console and in notifications, and the notes. The rules produce figures; only this class writes text.
/// </summary>
internal static class DecisionText
{
    /// <summary>Notes are for people: a handful is enough and keeps the payload small.</summary>
    public const int MaxNotes = 5;

    private const string DryRunPrefix = "Dry run, nothing done: ";

    /// <summary>The first <see cref="MaxNotes"/> notes: pods no new node could host, then the nodes a scale-down passed over.</summary>
    public static IReadOnlyList<string> Notes(IEnumerable<NoScaleUpPods> noScaleUp, IEnumerable<Refusal> refusals) =>
        noScaleUp.Select(Note).Concat(refusals.Select(Note)).Take(MaxNotes).ToList();

    /// <summary>What the reconcile pass will do, as a clause appended to the reason; empty when nothing.</summary>
    public static string Reconcile(ReconcilePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var parts = new List<string>();
        if (plan.Orphans.Count > 0)
        {
            parts.Add($"terminate {plan.Orphans.Count} instance(s) not a Ready node after the join timeout ({string.Join(", ", plan.Orphans.Select(o => o.InstanceId))})");
        }

        if (plan.Ghosts.Count > 0)
        {
            parts.Add($"delete {plan.Ghosts.Count} node(s) whose instance is gone ({string.Join(", ", plan.Ghosts)})");
        }

        if (plan.StrayCordons.Count > 0)
        {
            parts.Add($"uncordon {plan.StrayCordons.Count} node(s) no drain holds ({string.Join(", ", plan.StrayCordons.Select(c => c.Node))})");
        }

        if (plan.ExpiredLaunches.Count > 0)
        {
            parts.Add($"forget {plan.ExpiredLaunches.Count} launch(es) past the join timeout");
        }

        return parts.Count == 0 ? "" : "; reconcile: " + string.Join("; ", parts);
    }

    /// <summary>
    /// The one-line reason. Verdicts that found no node to remove quote the first note; pending pods
    /// no new node could host are said at the end (as Cluster Autoscaler's NotTriggerScaleUp event says them).
    /// </summary>
    public static string Reason(Verdict verdict, IReadOnlyList<string> notes, bool dryRun, IReadOnlyList<NoScaleUpPods>? noScaleUp = null)
    {
        var text = Text(verdict, notes.Count > 0 ? notes[0] : "none qualifies");
        if (noScaleUp is { Count: > 0 } && verdict is not Verdict.PodsUnplaceable)
        {
            text += $"; no new node could host {noScaleUp.Sum(p => p.Count)} pending pod(s): {Owners(noScaleUp)}";
        }

        return dryRun && verdict.Action != ScalingAction.None ? DryRunPrefix + text : text;
    }

    private static string Text(Verdict verdict, string firstNote) => verdict switch
    {
        Verdict.SnapshotStale v => $"Metrics are {Duration(v.Age)} old (limit {Duration(v.Limit)}): not scaling on stale data",
        Verdict.NoData { CountedSignalsMayScale: false } v => $"No data for {string.Join(", ", v.Figures)}: not scaling on missing metrics",
        Verdict.NoData v => $"No data for {string.Join(", ", v.Figures)}: not scaling on missing metrics (only unschedulable pods or the minimum could scale up now)",
        Verdict.ScaleUp v => $"Scale up by {v.Add}: {Cause(v.Ask)}{Capped(v)}{Skipped(v.SkippedFigures)}",
        Verdict.AtMaximum v => $"{Cause(v.Ask)}, but {v.WorkersTowardMaximum} managed workers already reach the maximum of {v.MaxNodes}",
        Verdict.ScaleUpCoolingDown v => $"{Cause(v.Ask)}, but the scale-up cooldown runs until {Time(v.Ends)}",
        Verdict.PodsFitOpenNodes v => $"{v.Pods} unschedulable pod(s) fit on the {v.OpenNodes} launching or just-joined node(s)",
        Verdict.PodsUnplaceable v => $"No new node could host any of the {v.Pods} unschedulable pod(s): {Owners(v.Why)}",
        Verdict.AwaitingLaunches v => $"{v.Launching} node(s) still launching: no scale-down until they join",
        Verdict.NoReadyWorkers v => $"No Ready workers and nothing pending; minimum {v.MinNodes} is met",
        Verdict.WithinThresholds v =>
            $"Within thresholds: CPU {Percent(v.CpuNow)} (up above {Percent(v.CpuUpAbove)} for {Duration(v.CpuUpWindow)}, down below {Percent(v.CpuDownBelow)}), "
            + (v.MemoryUseOfRequests is { } use
                ? $"memory {Percent(v.MemoryNow)} ({ByRequests(use)})"
                : $"memory {Percent(v.MemoryNow)} (up above {Percent(v.MemoryUpAbove)}, down below {Percent(v.MemoryDownBelow)})"),
        Verdict.AtMinimum v => $"{Peaks(v.Peaks)}, but {v.WorkersTowardMinimum} workers is the minimum of {v.MinNodes}",
        Verdict.ScaleDownCoolingDown v =>
            $"{Peaks(v.Peaks)}, but the cooldown after the last {(v.AfterScaleDown ? "scale-down" : "scale-up")} runs until {Time(v.Ends)}",
        Verdict.NoRemovableNode v => $"{Peaks(v.Peaks)}, but no node can go: {firstNote}",
        Verdict.NoEmptyWorker => $"Within thresholds, and no empty worker can go: {firstNote}",
        Verdict.Underutilized v =>
            $"Remove {v.Node.Name}{AlsoEmpty(v.Also)} ({Percent(v.Node.Utilization)} requested): {Peaks(v.Peaks)}, and {(v.Also.Count > 0 ? "their" : "its")} pods fit on the other nodes {Under(v.Target, v.Peaks.MemoryUseOfRequests is null)}",
        Verdict.EmptyNode v =>
            v.Also.Count == 0
                ? $"Remove {v.Node.Name}: it runs no pod that would have to move, and worker {Usage(v.MemoryByRequests)} without it stays under {Percent(v.Target)}"
                : $"Remove {v.Node.Name}{AlsoEmpty(v.Also)}: they run no pod that would have to move, and worker {Usage(v.MemoryByRequests)} without them stays under {Percent(v.Target)}",
        Verdict.NotManaged v =>
            $"{v.Event.InstanceId} received {Event(v.Event)}, but it is not a managed worker of cluster {v.ClusterName}: nothing to do",
        Verdict.StaleEvent v =>
            $"{v.Event.InstanceId} received {Event(v.Event)} {(v.Age < TimeSpan.Zero ? $"dated {Duration(-v.Age)} ahead" : $"{Duration(v.Age)} ago")}, beyond eventMaxAge ({Duration(v.MaxAge)}): ignored, what it announced is over; the reconcile pass handles what it left",
        Verdict.AlreadyCordoned v => $"{v.Node} ({v.Event.InstanceId}) received {Event(v.Event)} while cordoned: it is already being removed",
        Verdict.Interrupted v => $"{v.Node.Name} ({v.Node.InstanceId}) received {Event(v.Event)}: drain it now"
            + (v.Notice.ReplacedBy is { } by ? $"; its replacement was launched before, by {by}, while it awaited this warning"
                : v.Replacement ? " and launch a replacement"
                : $"; no replacement, {v.WorkersTowardMaximum} managed workers reach the maximum of {v.MaxNodes}")
            + (v.Notice.NotAfter is { } end ? $"; EC2 takes it at {end:HH:mm:ss}Z" : "; nothing forces it out, so a pod that cannot be evicted keeps it until the spot warning"),
        Verdict.RepairsHeld v =>
            $"{v.NotReady} of {v.Workers} managed workers are NotReady, more than {Percent(v.MaxShare)}: a cluster-wide fault, not broken nodes; no repair and no scaling until they recover",
        Verdict.Repair v => $"{v.Node.Name} ({v.Node.InstanceId}) has been NotReady for {Duration(v.NotReadyFor)}: replace it"
            + (v.Replacement ? " (drain what its budgets allow, launch a replacement, terminate it)" : $" without a replacement, {v.WorkersTowardMaximum} managed workers reach the maximum of {v.MaxNodes} (drain, terminate)"),
        _ => throw new ArgumentOutOfRangeException(nameof(verdict), verdict.GetType().Name, "no text for this verdict"),
    };

    /// <summary>Why <see cref="ScaleUpAsk.Nodes"/> more nodes are wanted.</summary>
    public static string Cause(ScaleUpAsk ask) => ask switch
    {
        ScaleUpAsk.PendingPods a =>
            $"{a.PlaceablePods} unschedulable pod(s) need {(a.AtLeast ? "at least " : "")}{a.Nodes} more node(s)"
            + (a.Launching > 0 ? $" besides the {a.Launching} launching" : ""),
        ScaleUpAsk.Headroom a =>
            $"less than the headroom of {Percent(a.Share)} of a worker is unrequested on the workers: {a.Nodes} more node before pods have to wait",
        ScaleUpAsk.Minimum a =>
            $"{a.WorkersTowardMinimum} Ready or launching worker(s) is below the {(a.Scheduled ? "scheduled " : "")}minimum of {a.MinNodes}",
        ScaleUpAsk.Cpu a =>
            $"CPU stayed above {Percent(a.Threshold)} for {Duration(a.Window)} (lowest {Percent(a.LowestOverWindow)}); {a.Nodes} more node(s) bring it to {Percent(a.Target)}",
        ScaleUpAsk.Memory a =>
            $"memory at {Percent(a.Utilization)} is above {Percent(a.Threshold)}; {a.Nodes} more node(s) bring it to {Percent(a.Target)}",
        ScaleUpAsk.CustomMetric a =>
            $"custom metric {Number(a.Value)} at {Number(a.TargetPerNode)} per worker wants {a.Nodes} more node(s)",
        ScaleUpAsk.Prediction a =>
            $"CPU is predicted at {Percent(a.Predicted)} in {Duration(a.Horizon)}, above {Percent(a.Threshold)}; {a.Nodes} more node(s) bring it to {Percent(a.Target)}",
        _ => throw new ArgumentOutOfRangeException(nameof(ask), ask.GetType().Name, "no text for this ask"),
    };

    public static string Note(NoScaleUpPods pods)
    {
        ArgumentNullException.ThrowIfNull(pods);
        return $"{pods.Count} pod(s) of {pods.Owner}: no new node could host them ({Why(pods.Reason, pods.Detail)})";
    }

    /// <summary>A scheduler check that failed, in words, with the label, taint, volume or port.</summary>
    public static string Why(Predicate predicate, string? detail) => predicate switch
    {
        Predicate.TooLarge => $"larger than a new worker: {detail}",
        Predicate.NodeSelector => $"nodeSelector {detail}",
        Predicate.NodeAffinity => $"required node affinity {detail}",
        Predicate.VolumeZone => $"bound {detail}",
        Predicate.Taint => $"taint {detail} not tolerated",
        Predicate.UncertainLabel => $"{detail} holds for only some of the labels a new worker may get",
        Predicate.TopologySpread => $"topology spread {detail}",
        Predicate.HostPort => $"host port {detail} taken",
        Predicate.PodAntiAffinity => "pod anti-affinity",
        _ => $"not modelled: {detail}",
    };

    public static string Why(NoScaleUpReason reason, string? detail) => Why(
        reason switch
        {
            NoScaleUpReason.TooLarge => Predicate.TooLarge,
            NoScaleUpReason.NodeSelector => Predicate.NodeSelector,
            NoScaleUpReason.NodeAffinity => Predicate.NodeAffinity,
            NoScaleUpReason.VolumeZone => Predicate.VolumeZone,
            NoScaleUpReason.Taint => Predicate.Taint,
            NoScaleUpReason.UncertainLabel => Predicate.UncertainLabel,
            NoScaleUpReason.TopologySpread => Predicate.TopologySpread,
            _ => Predicate.Unmodelled,
        },
        detail);

    /// <summary>The first owner and why; how many more owners there are.</summary>
    private static string Owners(IReadOnlyList<NoScaleUpPods> pods) =>
        pods.Count == 0 ? "none"
        : $"{pods[0].Count} of {pods[0].Owner} ({Why(pods[0].Reason, pods[0].Detail)})" + (pods.Count > 1 ? $" and {pods.Count - 1} more owner(s)" : "");

    public static string Note(Refusal refusal) => refusal.Node + ": " + refusal switch
    {
        Refusal.NoInstanceId => "no EC2 instance id in its provider id",
        Refusal.DrainBackedOff r => $"its drain was aborted at {r.AbortedAt:HH:mm:ss}Z ({r.Why}); not chosen again before {r.Until:HH:mm:ss}Z (drainBackoff)",
        Refusal.Unevictable r =>
            $"pod {r.First.Pod} may not be evicted ({r.First.Reason}{(r.First.Detail is null ? "" : ": " + r.First.Detail)}){(r.More > 0 ? $" and {r.More} more" : "")}",
        Refusal.PodsDoNotFit r => $"its pods do not fit on the other nodes {Under(r.Target, r.MemoryFill < 1)}",
        Refusal.PodsCannotMove r => $"{r.Pods} pod(s) of {r.Owner} could run on no other node ({Why(r.Predicate, r.Detail)})",
        Refusal.LastInZone r => $"the last worker in {r.Zone}, while {r.OtherZone} has {r.OtherWorkers}",
        Refusal.MemoryRequested r => $"its pods request {Percent(r.Share)} of its memory, not below {Percent(r.Threshold)} (memory counts by requests)",
        Refusal.HeadroomWouldBreak r => $"without it less than the headroom of {Percent(r.Headroom)} of a worker would stay unrequested",
        Refusal.UsageTooHigh r =>
            $"without it worker usage would reach CPU {Percent(r.CpuAfter)}, memory {Percent(r.MemoryAfter)}, above {Percent(r.Target)}",
        _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal.GetType().Name, "no text for this refusal"),
    };

    private static string Capped(Verdict.ScaleUp v) => v.Cap switch
    {
        ScaleUpCap.MaxNodes => $"; adding {v.Add} now (capped by maxNodes)",
        ScaleUpCap.MaxStep => $"; adding {v.Add} now (capped by maxStep)",
        _ => "",
    };

    private static string Skipped(IReadOnlyList<string> figures) =>
        figures.Count > 0 ? $" (utilisation rules skipped: no data for {string.Join(", ", figures)})" : "";

    private static string Peaks(DownWindowPeaks p) =>
        $"CPU peaked at {Percent(p.Cpu)} and memory at {Percent(p.Memory)} over the last {Duration(p.Window)}"
        + (p.MemoryUseOfRequests is { } use ? $" ({ByRequests(use)})" : "");

    /// <summary>How far pods may fill the nodes they move to: the target, or the target of CPU and all the memory when memory counts by requests.</summary>
    private static string Under(double target, bool memoryToTarget) =>
        memoryToTarget ? $"under {Percent(target)}" : $"under {Percent(target)} of their CPU and within their memory";

    private static string Usage(bool memoryByRequests) => memoryByRequests ? "CPU usage" : "usage";

    private static string ByRequests(double use) =>
        $"the pods use {Percent(use)} of the memory they request, so memory counts by requests";

    private static string Event(Trigger trigger) => trigger.Kind switch
    {
        TriggerKind.SpotInterruption => "a spot interruption warning",
        TriggerKind.Rebalance => "a rebalance recommendation",
        _ => $"a state change to {trigger.State}",
    };

    /// <summary>" and 2 other empty workers (ip-a, ip-b)", or nothing.</summary>
    private static string AlsoEmpty(IReadOnlyList<NodeRef> also) => also.Count == 0 ? "" : $" and {Workers(also, "other empty")}";

    /// <summary>"2 empty workers (ip-a, ip-b)": how many, of what kind, and their names.</summary>
    public static string Workers(IReadOnlyList<NodeRef> nodes, string kind) =>
        $"{nodes.Count} {kind} worker{(nodes.Count == 1 ? "" : "s")} ({string.Join(", ", nodes.Select(n => n.Name))})";

    private static string Percent(double? fraction) =>
        fraction is { } f ? (f * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%" : "n/a";

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Duration(TimeSpan value) => SettingValue.FormatDuration(TimeSpan.FromSeconds(Math.Round(value.TotalSeconds)));

    private static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
