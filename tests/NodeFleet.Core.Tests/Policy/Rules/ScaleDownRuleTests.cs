using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Policy.Rules;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy.Rules;

public class ScaleDownRuleTests
{
    private static readonly UtilizationMetrics Idle = Utilization(cpu: 0.1, memory: 0.2);

    /// <summary>Workers whose requests are pods that would have to move (none is empty).</summary>
    private static IEnumerable<NodeInfo> Busy(int count) =>
        Enumerable.Range(1, count).Select(i => Worker($"w{i}", 0.2, null, Pods(2, 200, 768)));

    private static ScaleDownAnswer Decide(ClusterSnapshot snapshot, FleetState? fleet = null)
    {
        fleet ??= FleetState.Empty;
        return ScaleDownRule.Decide(snapshot, fleet, new FleetView(snapshot, fleet, Defaults, Now), Defaults, Now);
    }

    [Theory]
    [InlineData("idle", DecisionReason.Underutilized, typeof(Verdict.Underutilized))]
    [InlineData("launching", DecisionReason.LaunchInProgress, typeof(Verdict.AwaitingLaunches))]
    [InlineData("busy", DecisionReason.WithinThresholds, typeof(Verdict.WithinThresholds))]
    [InlineData("no Ready workers", DecisionReason.WithinThresholds, typeof(Verdict.NoReadyWorkers))]
    [InlineData("at minimum", DecisionReason.AtMinimum, typeof(Verdict.AtMinimum))]
    [InlineData("after a scale-down", DecisionReason.ScaleDownCooldown, typeof(Verdict.ScaleDownCoolingDown))]
    [InlineData("after a scale-up", DecisionReason.ScaleDownCooldown, typeof(Verdict.ScaleDownCoolingDown))]
    [InlineData("every node blocked", DecisionReason.NoRemovableNode, typeof(Verdict.NoRemovableNode))]
    [InlineData("empty worker while busy", DecisionReason.EmptyNode, typeof(Verdict.EmptyNode))]
    [InlineData("empty worker the others cannot spare", DecisionReason.WithinThresholds, typeof(Verdict.NoEmptyWorker))]
    [InlineData("empty worker while requests move", DecisionReason.WithinThresholds, typeof(Verdict.WithinThresholds))]
    public void Decide_Scenario_AnswersWithItsGuard(string scenario, DecisionReason expected, Type verdict)
    {
        var withEmpty = Busy(3).Append(Worker("w4", 0.05));
        var (snapshot, fleet) = scenario switch
        {
            "idle" => (Snapshot(Workers(4), Idle), FleetState.Empty),
            "launching" => (Snapshot(Workers(4), Idle), Launching(1)),
            "busy" => (Snapshot(Busy(4), Utilization(cpu: 0.4, memory: 0.3)), FleetState.Empty),
            "no Ready workers" => (Snapshot([], new UtilizationMetrics()), FleetState.Empty),
            "at minimum" => (Snapshot(Workers(2), Idle), FleetState.Empty),
            "after a scale-down" => (Snapshot(Workers(4), Idle), new FleetState { LastScaleDownAt = Now.AddMinutes(-1) }),
            "after a scale-up" => (Snapshot(Workers(4), Idle), new FleetState { LastScaleUpAt = Now.AddMinutes(-3) }),
            "every node blocked" => (Snapshot(Workers(3).Select(w => w with { Blockers = [new EvictionBlocker { Pod = "default/bare", Reason = EvictionBlockReason.NoController }] }), Idle), FleetState.Empty),
            "empty worker while busy" => (Snapshot(withEmpty, Utilization(cpu: 0.4, memory: 0.3)) with { RequestedCpuSwing = 0 }, FleetState.Empty),
            "empty worker the others cannot spare" => (Snapshot(withEmpty, Utilization(cpu: 0.46, memory: 0.3)) with { RequestedCpuSwing = 0 }, FleetState.Empty),
            _ => (Snapshot(withEmpty, Utilization(cpu: 0.4, memory: 0.3)) with { RequestedCpuSwing = 750 }, FleetState.Empty),
        };

        var answer = Decide(snapshot, fleet);

        Assert.Equal(expected, answer.Verdict.Reason);
        Assert.IsType(verdict, answer.Verdict);
    }

    [Theory]
    [InlineData(-1, "w1", "i-w1", "w2", true)]    // aborted a minute ago: skipped, the next candidate goes
    [InlineData(-9, "w1", "i-w1", "w2", true)]    // still within the 10 min backoff
    [InlineData(-10, "w1", "i-w1", "w1", false)]  // the backoff is over
    [InlineData(-1, "w1", "i-other", "w1", false)] // the name was reused by a new instance: not held back
    [InlineData(-1, "w9", "i-w9", "w1", false)]   // another node's backoff
    public void Decide_NodeWhoseDrainWasAborted_IsSkippedForTheBackoff_AndTheNotesSaySo(int minutesAgo, string backedOff, string instance, string chosen, bool noted)
    {
        var fleet = new FleetState { DrainBackoffs = [new DrainBackoff { Node = backedOff, InstanceId = instance, At = Now.AddMinutes(minutesAgo), Reason = "Overdue" }] };
        var snapshot = Snapshot(Workers(4).Select((w, i) => w with { Requested = w.Requested with { CpuMillis = 100 * (i + 1) } }), Idle);

        var answer = Decide(snapshot, fleet);

        Assert.Equal(chosen, answer.Verdict.NodeToRemove?.Name);
        var note = answer.Refusals.Select(DecisionText.Note).SingleOrDefault(n => n.Contains("drainBackoff", StringComparison.Ordinal));
        Assert.Equal(noted, note is not null);
        if (noted)
        {
            Assert.Equal($"w1: its drain was aborted at {Now.AddMinutes(minutesAgo):HH:mm:ss}Z (Overdue); not chosen again before {Now.AddMinutes(minutesAgo + 10):HH:mm:ss}Z (drainBackoff)", note);
        }
    }

    [Theory]
    [InlineData(-1, null, true, 1)]   // 1 min after a scale-down (cooldown 2 min)
    [InlineData(null, -3, false, 2)]  // 3 min after a scale-up (cooldown 5 min)
    [InlineData(-1, -3, false, 2)]    // both run: the one ending later is named
    public void Decide_Cooldowns_NameTheOneThatEndsLast(int? minutesSinceDown, int? minutesSinceUp, bool afterScaleDown, int endsInMinutes)
    {
        var fleet = new FleetState
        {
            LastScaleDownAt = minutesSinceDown is { } d ? Now.AddMinutes(d) : null,
            LastScaleUpAt = minutesSinceUp is { } u ? Now.AddMinutes(u) : null,
        };

        var verdict = Assert.IsType<Verdict.ScaleDownCoolingDown>(Decide(Snapshot(Workers(4), Idle), fleet).Verdict);

        Assert.Equal((afterScaleDown, Now.AddMinutes(endsInMinutes)), (verdict.AfterScaleDown, verdict.Ends));
    }

    [Fact]
    public void Decide_CandidatesPassedOver_AreReportedInOrder()
    {
        var blocked = Worker("blocked", 0.0) with { Blockers = [new EvictionBlocker { Pod = "default/db-0", Reason = EvictionBlockReason.LocalStorage }] };
        var noInstance = Worker("noinstance", 0.01) with { InstanceId = null };

        var answer = Decide(Snapshot([blocked, noInstance, .. Workers(4, 0.3)], Idle));

        var removed = Assert.IsType<Verdict.Underutilized>(answer.Verdict);
        Assert.StartsWith("w", removed.Node.Name, StringComparison.Ordinal);
        Assert.Collection(
            answer.Refusals,
            r => Assert.Equal(new Refusal.Unevictable("blocked", blocked.Blockers[0], 0), r),
            r => Assert.Equal(new Refusal.NoInstanceId("noinstance"), r));
    }

    [Theory]
    [InlineData(0.29, 0.49, 3, true)]
    [InlineData(0.30, 0.20, 3, false)] // CPU not below its threshold for the whole window
    [InlineData(0.10, 0.50, 3, false)] // memory not below its threshold
    [InlineData(0.10, 0.90, 3, true, 1.0)]  // ... but it counts by requests: the pods use what they request
    [InlineData(0.10, 0.90, 3, false, 1.01)]
    [InlineData(0.30, 0.90, 3, false, 1.0)] // CPU still holds it back
    [InlineData(null, 0.20, 3, false)] // unknown never counts as low
    [InlineData(0.10, 0.20, 0, false)] // no Ready workers: nothing to remove
    public void UtilizationLow_BothPeaksBelowThresholds_Holds(double? cpuPeak, double? memoryPeak, int readyWorkers, bool expected, double? useOfRequests = null)
    {
        var snapshot = Snapshot(Workers(3), Idle with { CpuMaxOverDownWindow = cpuPeak, MemoryMaxOverDownWindow = memoryPeak, MemoryUseOfRequests = useOfRequests });

        Assert.Equal(expected, ScaleDownRule.UtilizationLow(snapshot, readyWorkers, Defaults));
    }

    /// <summary>A worker running <paramref name="caches"/> pods of 200m and 2400 MiB (31 % of its memory each).</summary>
    private static NodeInfo Caches(string name, int caches) =>
        Worker(name, 0) with { Requested = new Resources(200 * caches, caches * 2400 * MiB, caches), MovablePods = [Pods(caches, 200, 2400, "default/Deployment/cache")] };

    [Theory]
    [InlineData(1.0, "w1", null)]             // the pods use what they request: w1's cache fits beside two others
    [InlineData(0.8, "w1", null)]
    [InlineData(1.2, null, null)]             // they use more than they request: memory in use (55 %) holds it back
    [InlineData(null, null, null)]            // unknown: memory in use holds it back
    [InlineData(1.0, null, "w2")]             // every worker 62.5 % requested: none under scaleDownMemoryThreshold
    public void Decide_MemoryInUseAboveThreshold_RepacksByRequestsOnlyWhilePodsUseNoMoreThanTheyRequest(double? useOfRequests, string? removed, string? refusedForRequests)
    {
        IEnumerable<NodeInfo> workers = refusedForRequests is null
            ? [Caches("w1", 1), Caches("w2", 2), Caches("w3", 2), Caches("w4", 2)]
            : [Caches("w2", 2), Caches("w3", 2), Caches("w4", 2)];
        var inUse = (double)workers.Sum(w => w.Requested.MemoryBytes) / workers.Sum(w => w.Allocatable.MemoryBytes);
        var snapshot = Snapshot(workers, Utilization(cpu: 0.1, memory: inUse) with { MemoryUseOfRequests = useOfRequests });

        var answer = Decide(snapshot);

        Assert.True(inUse > Defaults.ScaleDownMemoryThreshold);
        Assert.Equal(removed, answer.Verdict.NodeToRemove?.Name);
        if (refusedForRequests is not null)
        {
            Assert.IsType<Verdict.NoRemovableNode>(answer.Verdict);
            Assert.Contains(new Refusal.MemoryRequested(refusedForRequests, 0.625, Defaults.ScaleDownMemoryThreshold), answer.Refusals);
        }
    }

    [Theory]
    [InlineData(null, null, true)]
    [InlineData(0.25, null, true)]   // predicted CPU below the scale-down threshold
    [InlineData(0.35, null, false)]  // ... or not
    [InlineData(null, 25.0, true)]   // 3 workers wanted of 4
    [InlineData(null, 35.0, false)]  // all 4 wanted
    public void OptionalSignalsAllow_WhenTheyDoNotWantTheWorkers(double? predicted, double? customMetric, bool expected)
    {
        var settings = Defaults with
        {
            PredictiveHorizon = predicted is null ? TimeSpan.Zero : TimeSpan.FromMinutes(10),
            CustomMetricQuery = customMetric is null ? null : "sum(queue_depth)",
            CustomMetricTargetPerNode = customMetric is null ? null : 10,
        };
        var snapshot = Snapshot(Workers(4), Idle) with { PredictedCpuUtilization = predicted, CustomMetricValue = customMetric };

        Assert.Equal(expected, ScaleDownRule.OptionalSignalsAllow(snapshot, 4, settings));
    }

    [Theory]
    [InlineData(0.0, "empty", true)]
    [InlineData(0.5, "empty", true)]     // under one millicore of swing is flat
    [InlineData(750.0, "empty", false)]  // requests moved within the headroom window
    [InlineData(null, "empty", false)]   // unknown
    [InlineData(0.0, "none empty", false)]
    [InlineData(0.0, "empty but cordoned", false)]
    [InlineData(0.0, "empty but blocked", false)]
    public void EmptyWorkerMayGo_OnlyOnceRequestsAreFlat(double? swing, string fourth, bool expected)
    {
        var w4 = fourth switch
        {
            "empty" => Worker("w4", 0.05),
            "none empty" => Worker("w4", 0.05, null, Pods(1, 100, 100)),
            "empty but cordoned" => Worker("w4", 0.05) with { Unschedulable = true },
            _ => Worker("w4", 0.05) with { Blockers = [new EvictionBlocker { Pod = "kube-system/x", Reason = EvictionBlockReason.KubeSystem }] },
        };
        var snapshot = Snapshot(Busy(3).Append(w4), Utilization(cpu: 0.4, memory: 0.3)) with { RequestedCpuSwing = swing };

        Assert.Equal(expected, ScaleDownRule.EmptyWorkerMayGo(snapshot, new FleetView(snapshot, FleetState.Empty, Defaults, Now), Defaults));
    }
}
