using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy.Rules;

public class HeadroomRuleTests
{
    [Theory]
    [InlineData(500.0, 4, 0, 300, 7000, 3, 0, 3, 0.25, true)]   // 300m free, 500m kept: one node ahead
    [InlineData(500.0, 2, 0, 300, 7000, 3, 0, 3, 0.25, true)]   // rose in two quarters: a trend
    [InlineData(500.0, 1, 0, 300, 7000, 3, 0, 3, 0.25, false)]  // rose in one quarter: a step (a burst arriving), not growth
    [InlineData(500.0, null, 0, 300, 7000, 3, 0, 3, 0.25, false)] // quarters unknown: never launches on missing data
    [InlineData(500.0, 4, 0, 600, 7000, 3, 0, 3, 0.25, false)]  // 600m free is enough
    [InlineData(500.0, 4, 0, 2000, 1000, 3, 0, 3, 0.25, true)]  // memory short: 1000Mi free, 1920Mi kept
    [InlineData(500.0, 4, 0, 300, 7000, 3, 0, 3, 0.10, false)]  // 200m kept
    [InlineData(500.0, 4, 0, 300, 7000, 3, 0, 3, 0.00, false)]  // 0 %: off
    [InlineData(0.0, 4, 0, 300, 7000, 3, 0, 3, 0.25, false)]    // flat workload: no spare node
    [InlineData(null, 4, 0, 300, 7000, 3, 0, 3, 0.25, false)]   // unknown: never launches on missing data
    [InlineData(500.0, 4, 4, 300, 7000, 3, 0, 3, 0.25, false)]  // pods pending: they decide alone
    [InlineData(500.0, 4, 0, 0, 0, 3, 1, 4, 0.25, false)]       // a launching node's room counts
    [InlineData(500.0, 4, 0, 300, 7000, 10, 0, 10, 0.25, false)] // at the maximum
    [InlineData(500.0, 4, 0, 0, 0, 0, 0, 0, 0.25, false)]       // no workers at all: the minimum's business
    public void Ask_GrowingWorkloadShortOfRoom_AsksForOneNode(double? rise, int? risingQuarters, int placeablePods, long roomCpu, long roomMemoryMiB, int readyManaged, int launching, int towardMaximum, double headroom, bool expected)
    {
        var settings = Defaults with { Headroom = headroom };
        var snapshot = Snapshot([]) with { RequestedCpuRise = rise, RequestedCpuRisingQuarters = risingQuarters };

        var ask = HeadroomRule.Ask(snapshot, placeablePods, new Resources(roomCpu, roomMemoryMiB * MiB, 100), readyManaged, launching, towardMaximum, settings);

        Assert.Equal(expected, ask is not null);
        if (expected)
        {
            Assert.Equal((DecisionReason.Headroom, 1, headroom), (ask!.Reason, ask.Nodes, ask.Share));
        }
    }
}
