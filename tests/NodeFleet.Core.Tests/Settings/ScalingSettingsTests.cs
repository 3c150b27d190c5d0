using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Tests.Settings;

public class ScalingSettingsTests
{
    [Fact]
    public void Defaults_AreValid_SeedThresholds_FasterScaleDownAsTheSimulatorShowed()
    {
        var d = ScalingSettings.Defaults;

        Assert.Empty(d.Validate());
        Assert.Equal((2, 10), (d.MinNodes, d.MaxNodes));
        Assert.Equal((0.70, 0.75, 0.30, 0.50), (d.ScaleUpCpuThreshold, d.ScaleUpMemoryThreshold, d.ScaleDownCpuThreshold, d.ScaleDownMemoryThreshold));
        // The seed's 10-minute window and cooldown shrank a fleet one node per 10 minutes; the
        // simulator put that 26-38 % over the oracle's node-hours on the flash sale (README: Simulator).
        Assert.Equal((TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(3)), (d.ScaleUpCpuWindow, d.ScaleDownWindow));
        Assert.Equal((TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(2)), (d.ScaleUpCooldown, d.ScaleDownCooldown));
        Assert.Equal(0.25, d.Headroom);
    }

    public static TheoryData<ScalingSettings, string> Violations() => new()
    {
        { ScalingSettings.Defaults with { MinNodes = 11 }, "minNodes (11) must not exceed maxNodes (10)" },
        { ScalingSettings.Defaults with { MinNodes = -1 }, "minNodes: must be 0 or more" },
        { ScalingSettings.Defaults with { MaxNodes = 0 }, "maxNodes: must be between 1 and 100" },
        { ScalingSettings.Defaults with { MaxNodes = 500 }, "maxNodes: must be between 1 and 100" },
        { ScalingSettings.Defaults with { MaxStep = 0 }, "maxStep" },
        { ScalingSettings.Defaults with { ScaleUpCpuThreshold = 1.5 }, "scaleUpCpuThreshold: must be a fraction" },
        { ScalingSettings.Defaults with { ScaleDownMemoryThreshold = 0 }, "scaleDownMemoryThreshold: must be a fraction" },
        { ScalingSettings.Defaults with { ScaleDownCpuThreshold = 0.8 }, "scaleDownCpuThreshold (0.8) must be below scaleUpCpuThreshold" },
        { ScalingSettings.Defaults with { ScaleDownMemoryThreshold = 0.75 }, "scaleDownMemoryThreshold (0.75) must be below scaleUpMemoryThreshold" },
        { ScalingSettings.Defaults with { TargetUtilization = 0.72 }, "targetUtilization (0.72) must not exceed the scale-up thresholds" },
        { ScalingSettings.Defaults with { ScaleUpCpuWindow = TimeSpan.Zero }, "scaleUpCpuWindow: must be a positive duration" },
        { ScalingSettings.Defaults with { ScaleDownWindow = TimeSpan.FromSeconds(-1) }, "scaleDownWindow" },
        { ScalingSettings.Defaults with { NodeJoinTimeout = TimeSpan.Zero }, "nodeJoinTimeout" },
        { ScalingSettings.Defaults with { MaxSnapshotAge = TimeSpan.Zero }, "maxSnapshotAge" },
        { ScalingSettings.Defaults with { ScaleUpCooldown = TimeSpan.FromSeconds(-1) }, "scaleUpCooldown" },
        { ScalingSettings.Defaults with { WorkerShape = ScalingSettings.Defaults.WorkerShape with { CpuMillis = 0 } }, "workerCpuMillis" },
        { ScalingSettings.Defaults with { WorkerShape = ScalingSettings.Defaults.WorkerShape with { Pods = 0 } }, "workerMaxPods" },
        { ScalingSettings.Defaults with { CustomMetricQuery = "sum(q)" }, "customMetricTargetPerNode: must be set" },
        { ScalingSettings.Defaults with { ScheduledMinimums = ScheduledMinimum.ParseList("Mon 08:00-09:00=12") }, "scheduledMinimums" },
        { ScalingSettings.Defaults with { ClusterName = " " }, "clusterName" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Validate_ImpossibleSettings_NamesTheSetting(ScalingSettings settings, string expected)
    {
        var errors = settings.Validate();

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void EnsureValid_SeveralViolations_ReportsEveryOne()
    {
        var settings = ScalingSettings.Defaults with { MinNodes = 20, MaxStep = 0 };

        var error = Assert.Throws<InvalidSettingsException>(() => settings.EnsureValid());

        Assert.Equal(2, error.Errors.Count);
        Assert.Contains("minNodes", error.Message, StringComparison.Ordinal);
        Assert.Contains("maxStep", error.Message, StringComparison.Ordinal);
    }
}
