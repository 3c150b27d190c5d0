using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy.Rules;

public class UtilizationRulesTests
{
    private static readonly Core.Settings.ScalingSettings Predictive = Defaults with { PredictiveHorizon = TimeSpan.FromMinutes(10) };

    [Theory]
    [InlineData(3, 0.80, 0, 1)]   // 4800m used over 6000m: 8000m at 60 %
    [InlineData(3, 0.95, 0, 2)]
    [InlineData(5, 0.90, 0, 3)]
    [InlineData(2, 0.71, 0, 1)]   // just above: at least one node
    [InlineData(3, 0.95, 1, 1)]   // one already launching
    [InlineData(3, 0.95, 2, 0)]   // launching covers it
    [InlineData(3, 0.70, 0, 0)]   // at the threshold: no ask
    [InlineData(0, 0.95, 0, 0)]   // no Ready workers: nothing to measure
    [InlineData(3, null, 0, 0)]   // unknown: never read as zero or as high
    public void Cpu_AboveThresholdOverWindow_AsksForNodesToReachTarget(int readyWorkers, double? lowestOverWindow, int launching, int expected)
    {
        var ask = UtilizationRules.Cpu(lowestOverWindow, readyWorkers * Shape.CpuMillis, launching, Defaults);

        Assert.Equal(expected, ask?.Nodes ?? 0);
        if (expected > 0)
        {
            Assert.Equal(DecisionReason.CpuHigh, ask!.Reason);
            Assert.Equal((lowestOverWindow!.Value, 0.70, TimeSpan.FromMinutes(3), 0.60), (ask.LowestOverWindow, ask.Threshold, ask.Window, ask.Target));
        }
    }

    [Theory]
    [InlineData(3, 0.76, 0, null, 1)]
    [InlineData(3, 0.90, 0, null, 2)]
    [InlineData(3, 0.90, 2, null, 0)]
    [InlineData(3, 0.75, 0, null, 0)]
    [InlineData(3, null, 0, null, 0)]
    [InlineData(3, 0.90, 0, 1.25, 2)]   // the pods use more than they request: the scheduler cannot see it
    [InlineData(3, 0.90, 0, 1.0, 0)]    // they use what they request: pending pods ask for what they need
    [InlineData(3, 0.90, 0, 0.6, 0)]
    public void Memory_AboveThreshold_AsksForNodesToReachTargetUnlessCountedByRequests(int readyWorkers, double? memory, int launching, double? useOfRequests, int expected)
    {
        var utilization = new UtilizationMetrics { MemoryNow = memory, MemoryUseOfRequests = useOfRequests };

        var ask = UtilizationRules.Memory(utilization, readyWorkers * Shape.MemoryBytes, launching, Defaults);

        Assert.Equal(expected, ask?.Nodes ?? 0);
        Assert.Equal(expected > 0 ? DecisionReason.MemoryHigh : (DecisionReason?)null, ask?.Reason);
    }

    [Theory]
    [InlineData(10, 0.90, 0, 2)]
    [InlineData(10, 0.90, 1, 1)]
    [InlineData(10, 0.65, 0, 0)]  // predicted below the CPU threshold
    [InlineData(10, null, 0, 0)]
    [InlineData(0, 0.90, 0, 0)]   // predictive scaling off
    public void Prediction_PredictedCpuAboveThreshold_AsksAhead(int horizonMinutes, double? predicted, int launching, int expected)
    {
        var settings = Defaults with { PredictiveHorizon = TimeSpan.FromMinutes(horizonMinutes) };

        var ask = UtilizationRules.Prediction(predicted, 3 * Shape.CpuMillis, launching, settings);

        Assert.Equal(expected, ask?.Nodes ?? 0);
        Assert.Equal(expected > 0 ? DecisionReason.PredictedCpuHigh : (DecisionReason?)null, ask?.Reason);
        Assert.Equal(expected > 0 ? Predictive.PredictiveHorizon : (TimeSpan?)null, ask?.Horizon);
    }

    [Theory]
    [InlineData(55.0, 10.0, 3, 0, 3)]          // ceil(5.5) = 6 workers wanted, 3 Ready
    [InlineData(55.0, 10.0, 3, 2, 1)]
    [InlineData(30.0, 10.0, 3, 0, 0)]          // exactly met
    [InlineData(30.000000001, 10.0, 3, 0, 0)]  // float noise does not ask for one more
    [InlineData(5.0, 10.0, 3, 0, 0)]
    [InlineData(55.0, null, 3, 0, 0)]          // no target: the custom metric is off
    [InlineData(null, 10.0, 3, 0, 0)]
    public void CustomMetric_AboveTargetPerWorker_AsksForTheMissingWorkers(double? value, double? perNode, int readyWorkers, int launching, int expected)
    {
        var settings = Defaults with { CustomMetricTargetPerNode = perNode };

        var ask = UtilizationRules.CustomMetric(value, readyWorkers, launching, settings);

        Assert.Equal(expected, ask?.Nodes ?? 0);
        Assert.Equal(expected > 0 ? DecisionReason.CustomMetricHigh : (DecisionReason?)null, ask?.Reason);
    }

    [Fact]
    public void MeasuredRules_WaitForTheScaleUpCooldown_CountedOnesDoNot()
    {
        Assert.IsAssignableFrom<ScaleUpAsk.Measured>(UtilizationRules.Cpu(0.95, 6000, 0, Defaults));
        Assert.IsAssignableFrom<ScaleUpAsk.Measured>(UtilizationRules.Memory(new UtilizationMetrics { MemoryNow = 0.95 }, 6000, 0, Defaults));
        Assert.IsAssignableFrom<ScaleUpAsk.Measured>(UtilizationRules.Prediction(0.95, 6000, 0, Predictive));
        Assert.IsAssignableFrom<ScaleUpAsk.Measured>(UtilizationRules.CustomMetric(100, 3, 0, Defaults with { CustomMetricTargetPerNode = 10 }));
        Assert.IsNotAssignableFrom<ScaleUpAsk.Measured>(MinimumRule.Ask(0, 2, 2));
        Assert.IsNotAssignableFrom<ScaleUpAsk.Measured>(new ScaleUpAsk.Headroom(0.25));
    }
}
