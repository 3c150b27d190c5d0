using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

/// <summary>Minimum, missing data, staleness, dry-run, and what every decision must carry.</summary>
public class ScalingPolicyLimitsTests
{
    [Fact]
    public void Decide_FewerWorkersThanMinimum_ScalesUpToMinimum()
    {
        var decision = Decide(Snapshot(Workers(1)));

        Assert.Equal(ScalingAction.ScaleUp, decision.Action);
        Assert.Equal(DecisionReason.BelowMinimum, decision.ReasonCode);
        Assert.Equal(1, decision.NodesToAdd);
        Assert.Equal(CooldownScope.None, decision.Cooldown);
    }

    [Fact]
    public void Decide_BelowMinimumDuringCooldown_DoesNotWait()
    {
        var fleet = FleetState.Empty with { LastScaleUpAt = Now.AddMinutes(-1), LastScaleDownAt = Now.AddMinutes(-1) };

        var decision = Decide(Snapshot(Workers(1)), fleet);

        Assert.Equal(DecisionReason.BelowMinimum, decision.ReasonCode);
    }

    [Fact]
    public void Decide_LaunchingWorkersCountTowardMinimum()
    {
        var decision = Decide(Snapshot(Workers(1)), Launching(1));

        Assert.Equal(ScalingAction.None, decision.Action);
    }

    [Fact]
    public void Decide_NotReadyWorker_DoesNotCountTowardMinimum()
    {
        var snapshot = Snapshot([Worker("w1"), Worker("broken") with { Ready = false }]);

        var decision = Decide(snapshot);

        Assert.Equal(DecisionReason.BelowMinimum, decision.ReasonCode);
        Assert.Equal(1, decision.NodesToAdd);
    }

    [Fact]
    public void Decide_BelowMinimumButBrokenNodesFillMaximum_DoesNotCrossMaximum()
    {
        var settings = Defaults with { MinNodes = 2, MaxNodes = 2 };
        var snapshot = Snapshot([Worker("w1"), Worker("broken") with { Ready = false }]);

        var decision = Decide(snapshot, settings: settings);

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.AtMaximum, decision.ReasonCode);
    }

    [Theory]
    [InlineData(0, 2)] // Wednesday 12:00 is inside the window
    [InlineData(1, 0)] // Thursday is not
    public void Decide_ScheduledMinimum_RaisesMinimumInsideItsWindow(int daysLater, int expected)
    {
        var settings = Defaults with { ScheduledMinimums = ScheduledMinimum.ParseList("Mon-Wed 11:00-13:00=4") };
        var now = Now.AddDays(daysLater);
        var snapshot = Snapshot(Workers(2)) with { CapturedAt = now };

        var decision = Core.Policy.ScalingPolicy.Decide(snapshot, FleetState.Empty, settings, now);

        Assert.Equal(expected, decision.NodesToAdd);
        Assert.Equal(expected > 0 ? 4 : 2, decision.Figures.MinNodes);
    }

    [Fact]
    public void Decide_EmptyCluster_LaunchesMinimumWithoutUtilizationData()
    {
        // No workers: worker utilisation does not exist yet, which is not "missing".
        var snapshot = Snapshot([], new UtilizationMetrics());

        var decision = Decide(snapshot);

        Assert.Equal(DecisionReason.BelowMinimum, decision.ReasonCode);
        Assert.Equal(2, decision.NodesToAdd);
    }

    [Theory]
    [InlineData(20, 5, DecisionReason.PendingPods)]   // the pods need more than the minimum
    [InlineData(3, 2, DecisionReason.BelowMinimum)]   // the minimum asks for more than the pods
    public void Decide_BelowMinimumWithPendingPods_LaunchesTheLargerNeedInOneStep(int pods, int expected, DecisionReason reason)
    {
        var decision = Decide(Snapshot([], new UtilizationMetrics(), Pods(pods, 500, 100)));

        Assert.Equal(expected, decision.NodesToAdd);
        Assert.Equal(reason, decision.ReasonCode);
    }

    [Fact]
    public void Decide_EmptyClusterWithZeroMinimum_IdlesUntilPodsArrive()
    {
        var settings = Defaults with { MinNodes = 0 };
        var idle = Decide(Snapshot([], new UtilizationMetrics()), settings: settings);
        var pending = Decide(Snapshot([], new UtilizationMetrics(), Pods(6, 500, 100)), settings: settings);

        Assert.Equal(DecisionReason.WithinThresholds, idle.ReasonCode);
        Assert.Equal(ScalingAction.ScaleUp, pending.Action);
        Assert.Equal(2, pending.NodesToAdd);
    }

    [Theory]
    [InlineData("cpuNow")]
    [InlineData("cpuMinOverUpWindow")]
    [InlineData("cpuMaxOverDownWindow")]
    [InlineData("memoryNow")]
    [InlineData("memoryMaxOverDownWindow")]
    public void Decide_UtilizationFigureMissing_NeitherCpuScaleUpNorScaleDown_NamesIt(string figure)
    {
        var high = Decide(Snapshot(Workers(3), Without(Utilization(cpu: 0.95, memory: 0.9), figure)));
        var low = Decide(Snapshot(Workers(3), Without(Utilization(cpu: 0.05, memory: 0.1), figure)));

        Assert.All(new[] { high, low }, decision =>
        {
            Assert.Equal(ScalingAction.None, decision.Action);
            Assert.Equal(DecisionReason.MetricsMissing, decision.ReasonCode);
            Assert.Contains(figure, decision.Reason, StringComparison.Ordinal);
        });
    }

    [Theory]
    [InlineData("cpuNow")]
    [InlineData("cpuMinOverUpWindow")]
    [InlineData("memoryMaxOverDownWindow")]
    public void Decide_UtilizationFigureMissingWithPendingPods_ScalesUpForThePodsAlone(string figure)
    {
        // Brand-new workers have no CPU rate yet; the pods waiting for room are counted, not measured.
        var decision = Decide(Snapshot(Workers(3), Without(Utilization(cpu: 0.95, memory: 0.9), figure), Pods(5, 1500, 100)));

        Assert.Equal(ScalingAction.ScaleUp, decision.Action);
        Assert.Equal(DecisionReason.PendingPods, decision.ReasonCode);
        Assert.Equal(5, decision.NodesToAdd);
        Assert.Contains($"utilisation rules skipped: no data for {figure}", decision.Reason, StringComparison.Ordinal);
    }

    private static UtilizationMetrics Without(UtilizationMetrics u, string figure) => figure switch
    {
        "cpuNow" => u with { CpuNow = null },
        "cpuMinOverUpWindow" => u with { CpuMinOverUpWindow = null },
        "cpuMaxOverDownWindow" => u with { CpuMaxOverDownWindow = null },
        "memoryNow" => u with { MemoryNow = null },
        _ => u with { MemoryMaxOverDownWindow = null },
    };

    [Fact]
    public void Decide_NoNodesReported_IsMissingDataNotAnEmptyCluster()
    {
        // The seed autoscaler read a failed query as "zero nodes, below minimum" and launched without end.
        var snapshot = Snapshot([], new UtilizationMetrics()) with { Nodes = [] };

        var decision = Decide(snapshot);

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.MetricsMissing, decision.ReasonCode);
        Assert.Contains("nodes", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_ConfiguredOptionalSignalMissing_DoesNotScale()
    {
        var settings = Defaults with { CustomMetricQuery = "sum(queue_depth)", CustomMetricTargetPerNode = 10, PredictiveHorizon = TimeSpan.FromMinutes(10) };

        var decision = Decide(Snapshot(Workers(3), null, Pods(5, 500, 100)), settings: settings);

        Assert.Equal(DecisionReason.MetricsMissing, decision.ReasonCode);
        Assert.Contains("customMetricValue", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("predictedCpuUtilization", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_SnapshotOlderThanLimit_DoesNotScale()
    {
        var snapshot = Snapshot(Workers(3), null, Pods(5, 500, 100)) with { CapturedAt = Now - Defaults.MaxSnapshotAge - TimeSpan.FromSeconds(1) };

        var decision = Decide(snapshot);

        Assert.Equal(DecisionReason.SnapshotStale, decision.ReasonCode);
        Assert.Equal(ScalingAction.None, decision.Action);
    }

    [Fact]
    public void Decide_DryRun_ReportsTheActionAndMarksIt()
    {
        var settings = Defaults with { DryRun = true };

        var decision = Decide(Snapshot(Workers(3), null, Pods(5, 500, 100)), settings: settings);

        Assert.Equal(ScalingAction.ScaleUp, decision.Action);
        Assert.True(decision.DryRun);
        Assert.StartsWith("Dry run", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_SameInputs_SameDecision()
    {
        var snapshot = Snapshot(Workers(3), Utilization(cpu: 0.9), Pods(7, 700, 300));

        Assert.Equivalent(Decide(snapshot), Decide(snapshot), strict: true);
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Decide_AnyScenario_CarriesOneLineReasonAndFigures(ClusterSnapshot snapshot, FleetState fleet)
    {
        var decision = Decide(snapshot, fleet);

        Assert.False(string.IsNullOrWhiteSpace(decision.Reason));
        Assert.DoesNotContain('\n', decision.Reason);
        Assert.Equal(Defaults.MaxNodes, decision.Figures.MaxNodes);
        Assert.Equal(Now, decision.DecidedAt);
    }

    public static TheoryData<ClusterSnapshot, FleetState> Scenarios() => new()
    {
        { Snapshot(Workers(3)), FleetState.Empty },
        { Snapshot(Workers(3), null, Pods(4, 500, 100)), FleetState.Empty },
        { Snapshot(Workers(3), Utilization(cpu: 0.9)), FleetState.Empty with { LastScaleUpAt = Now } },
        { Snapshot(Workers(4), Utilization(cpu: 0.1, memory: 0.1)), FleetState.Empty },
        { Snapshot(Workers(1)), FleetState.Empty },
        { Snapshot(Workers(10), null, Pods(1, 500, 100)), FleetState.Empty },
        { Snapshot(Workers(3), new UtilizationMetrics()), FleetState.Empty },
    };
}
