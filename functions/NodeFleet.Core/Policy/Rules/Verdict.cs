using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>The peak CPU and memory utilisation over the scale-down window.</summary>
/// <param name="MemoryUseOfRequests">Set when memory counts by requests (<see cref="MemoryAccounting"/>): the pods' use of what they request.</param>
internal sealed record DownWindowPeaks(double? Cpu, double? Memory, TimeSpan Window, double? MemoryUseOfRequests);

/// <summary>Which limit cut a scale-up short of its ask.</summary>
internal enum ScaleUpCap
{
    None,
    MaxStep,
    MaxNodes,
}

/// <summary>
/// The policy's answer in figures, before it is put into words: the action, the reason code, and
/// what the operator-facing reason needs. <see cref="ToDecision"/> renders it with <see cref="DecisionText"/>.
/// </summary>
internal abstract record Verdict(ScalingAction Action, DecisionReason Reason)
{
    public virtual int NodesToAdd => 0;

    public virtual NodeRef? NodeToRemove => null;

    /// <summary>Empty workers removed together with <see cref="NodeToRemove"/>.</summary>
    public virtual IReadOnlyList<NodeRef> AlsoEmpty => [];

    public virtual CooldownScope Cooldown => CooldownScope.None;

    public virtual InterruptionNotice? Interruption => null;

    /// <summary>Of <see cref="NodesToAdd"/>, the nodes that must be in a given zone.</summary>
    public virtual IReadOnlyList<ZoneShare> Zones => [];

    /// <param name="noScaleUp">Pending pods no new node could host: listed on the decision and said in its reason.</param>
    public Decision ToDecision(DecisionFigures figures, IReadOnlyList<string> notes, bool dryRun, DateTimeOffset now, IReadOnlyList<NoScaleUpPods>? noScaleUp = null) => new()
    {
        Action = Action,
        ReasonCode = Reason,
        Reason = DecisionText.Reason(this, notes, dryRun, noScaleUp ?? []),
        Cooldown = Cooldown,
        NodesToAdd = NodesToAdd,
        Zones = Zones,
        NoScaleUp = noScaleUp ?? [],
        NodeToRemove = NodeToRemove,
        AlsoEmpty = AlsoEmpty,
        Interruption = Interruption,
        DryRun = dryRun,
        DecidedAt = now,
        Figures = figures,
        Notes = notes,
    };

    public sealed record SnapshotStale(TimeSpan Age, TimeSpan Limit) : Verdict(ScalingAction.None, DecisionReason.SnapshotStale);

    /// <param name="CountedSignalsMayScale">Only utilisation figures are missing: the minimum and unschedulable pods could still scale up.</param>
    public sealed record NoData(IReadOnlyList<string> Figures, bool CountedSignalsMayScale) : Verdict(ScalingAction.None, DecisionReason.MetricsMissing);

    /// <param name="Add">Nodes launched now: the ask capped by <paramref name="Cap"/>.</param>
    /// <param name="SkippedFigures">Missing utilisation figures for which the measured rules were skipped.</param>
    /// <param name="Pinned">Of <paramref name="Add"/>, the nodes pending pods need in a given zone.</param>
    public sealed record ScaleUp(ScaleUpAsk Ask, int Add, ScaleUpCap Cap, IReadOnlyList<string> SkippedFigures, IReadOnlyList<ZoneShare>? Pinned = null)
        : Verdict(ScalingAction.ScaleUp, Ask.Reason)
    {
        public override int NodesToAdd => Add;

        public override IReadOnlyList<ZoneShare> Zones => Pinned ?? [];

        public override CooldownScope Cooldown => Ask is ScaleUpAsk.Measured ? CooldownScope.ScaleUp : CooldownScope.None;
    }

    public sealed record AtMaximum(ScaleUpAsk Ask, int WorkersTowardMaximum, int MaxNodes) : Verdict(ScalingAction.None, DecisionReason.AtMaximum);

    public sealed record ScaleUpCoolingDown(ScaleUpAsk.Measured Ask, DateTimeOffset Ends) : Verdict(ScalingAction.None, DecisionReason.ScaleUpCooldown);

    /// <summary>The unschedulable pods fit on nodes still launching or just joined.</summary>
    public sealed record PodsFitOpenNodes(int Pods, int OpenNodes) : Verdict(ScalingAction.None, DecisionReason.LaunchInProgress);

    /// <summary>No new node could host any unschedulable pod; <paramref name="Why"/> says why, by owner.</summary>
    public sealed record PodsUnplaceable(int Pods, IReadOnlyList<NoScaleUpPods> Why) : Verdict(ScalingAction.None, DecisionReason.PodsUnplaceable);

    /// <summary>Scale-down waits until the launching nodes have joined.</summary>
    public sealed record AwaitingLaunches(int Launching) : Verdict(ScalingAction.None, DecisionReason.LaunchInProgress);

    public sealed record NoReadyWorkers(int MinNodes) : Verdict(ScalingAction.None, DecisionReason.WithinThresholds);

    public sealed record WithinThresholds(
        double? CpuNow,
        double CpuUpAbove,
        TimeSpan CpuUpWindow,
        double CpuDownBelow,
        double? MemoryNow,
        double MemoryUpAbove,
        double MemoryDownBelow,
        double? MemoryUseOfRequests) : Verdict(ScalingAction.None, DecisionReason.WithinThresholds);

    public sealed record AtMinimum(DownWindowPeaks Peaks, int WorkersTowardMinimum, int MinNodes) : Verdict(ScalingAction.None, DecisionReason.AtMinimum);

    /// <param name="AfterScaleDown">The scale-down cooldown ends last (else the scale-up cooldown does).</param>
    public sealed record ScaleDownCoolingDown(DownWindowPeaks Peaks, DateTimeOffset Ends, bool AfterScaleDown)
        : Verdict(ScalingAction.None, DecisionReason.ScaleDownCooldown);

    /// <summary>Utilisation is low, but every candidate was refused (the notes say why).</summary>
    public sealed record NoRemovableNode(DownWindowPeaks Peaks) : Verdict(ScalingAction.None, DecisionReason.NoRemovableNode);

    /// <summary>Utilisation is not low and no empty worker may go (the notes say why).</summary>
    public sealed record NoEmptyWorker() : Verdict(ScalingAction.None, DecisionReason.WithinThresholds);

    /// <param name="Also">Empty workers that go with <paramref name="Node"/> (itself empty).</param>
    public sealed record Underutilized(NodeRef Node, DownWindowPeaks Peaks, double Target, IReadOnlyList<NodeRef> Also) : Verdict(ScalingAction.ScaleDown, DecisionReason.Underutilized)
    {
        public override NodeRef? NodeToRemove => Node;

        public override IReadOnlyList<NodeRef> AlsoEmpty => Also;

        public override CooldownScope Cooldown => CooldownScope.ScaleDown;
    }

    /// <param name="Also">Empty workers that go with <paramref name="Node"/>.</param>
    /// <param name="MemoryByRequests">Memory counted by requests (<see cref="MemoryAccounting"/>): only CPU usage was checked against the target.</param>
    public sealed record EmptyNode(NodeRef Node, double Target, IReadOnlyList<NodeRef> Also, bool MemoryByRequests) : Verdict(ScalingAction.ScaleDown, DecisionReason.EmptyNode)
    {
        public override NodeRef? NodeToRemove => Node;

        public override IReadOnlyList<NodeRef> AlsoEmpty => Also;

        public override CooldownScope Cooldown => CooldownScope.ScaleDown;
    }

    public sealed record NotManaged(Trigger Event, string ClusterName) : Verdict(ScalingAction.None, DecisionReason.NotManaged);

    /// <summary>An EC2 event older (or, by a clock, newer) than <c>eventMaxAge</c>: recorded, not acted on.</summary>
    public sealed record StaleEvent(Trigger Event, TimeSpan Age, TimeSpan MaxAge) : Verdict(ScalingAction.None, DecisionReason.StaleEvent);

    public sealed record AlreadyCordoned(Trigger Event, string Node) : Verdict(ScalingAction.None, DecisionReason.AlreadyCordoned);

    /// <summary>Too many workers NotReady at once for broken nodes to be the cause: no repair, no scaling.</summary>
    public sealed record RepairsHeld(int NotReady, int Workers, double MaxShare) : Verdict(ScalingAction.None, DecisionReason.RepairsHeld);

    /// <param name="Replacement">A replacement is launched first (there is room below the maximum).</param>
    /// <param name="Notice">The drain's terms: a broken node's pods are not serving, so it is drained as far as budgets allow until a deadline, then goes.</param>
    public sealed record Repair(NodeRef Node, TimeSpan NotReadyFor, bool Replacement, int WorkersTowardMaximum, int MaxNodes, InterruptionNotice Notice)
        : Verdict(ScalingAction.Replace, DecisionReason.Unhealthy)
    {
        public override int NodesToAdd => Replacement ? 1 : 0;

        public override NodeRef? NodeToRemove => Node;

        public override InterruptionNotice? Interruption => Notice;
    }

    /// <param name="Replacement">A replacement is launched (there is room below the maximum for it, and none was launched for it before).</param>
    /// <param name="Notice">The drain's terms: for a spot warning, when EC2 takes the instance.</param>
    public sealed record Interrupted(Trigger Event, NodeRef Node, bool Replacement, int WorkersTowardMaximum, int MaxNodes, InterruptionNotice Notice)
        : Verdict(ScalingAction.Replace, DecisionReason.Interrupted)
    {
        public override int NodesToAdd => Replacement ? 1 : 0;

        public override NodeRef? NodeToRemove => Node;

        public override InterruptionNotice? Interruption => Notice;
    }
}
