using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy.Rules;

public class DataRuleTests
{
    [Theory]
    [InlineData("complete", 3, "", "")]
    [InlineData("no nodes", 3, "nodes", "")]
    [InlineData("no cpuNow", 3, "", "cpuNow")]
    [InlineData("no utilisation", 3, "", "cpuNow, cpuMinOverUpWindow, cpuMaxOverDownWindow, memoryNow, memoryMaxOverDownWindow")]
    [InlineData("no utilisation", 0, "", "")]          // no Ready workers: utilisation does not exist yet
    [InlineData("no prediction", 3, "", "predictedCpuUtilization")]
    [InlineData("no prediction", 0, "", "")]
    [InlineData("no custom metric", 3, "customMetricValue", "")]
    [InlineData("no custom metric", 0, "customMetricValue", "")]
    public void Missing_AbsentFigures_NamedByWhatTheyBlock(string scenario, int readyWorkers, string blocking, string utilization)
    {
        var snapshot = Snapshot(Workers(3)) with { PredictedCpuUtilization = 0.5, CustomMetricValue = 12 };
        var settings = Defaults with { PredictiveHorizon = TimeSpan.FromMinutes(10), CustomMetricQuery = "sum(queue_depth)", CustomMetricTargetPerNode = 10 };
        snapshot = scenario switch
        {
            "no nodes" => snapshot with { Nodes = [] },
            "no cpuNow" => snapshot with { Utilization = snapshot.Utilization with { CpuNow = null } },
            "no utilisation" => snapshot with { Utilization = new UtilizationMetrics() },
            "no prediction" => snapshot with { PredictedCpuUtilization = null },
            "no custom metric" => snapshot with { CustomMetricValue = null },
            _ => snapshot,
        };

        var missing = DataRule.Missing(snapshot, readyWorkers, settings);

        Assert.Equal(blocking, string.Join(", ", missing.Blocking));
        Assert.Equal(utilization, string.Join(", ", missing.Utilization));
    }

    [Fact]
    public void Missing_OptionalSignalsOff_AreNotRequired()
    {
        var snapshot = Snapshot(Workers(3));

        var missing = DataRule.Missing(snapshot, 3, Defaults);

        Assert.Empty(missing.Blocking);
        Assert.Empty(missing.Utilization);
    }
}
