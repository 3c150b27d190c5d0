using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy.Rules;

public class HeadroomRuleTests
{
    [Theory]
    [InlineData(500.0, 0, 300, 7000, 3, 0, 3, 0.25, true)]   // 300m free, 500m kept: one node ahead
    [InlineData(500.0, 0, 600, 7000, 3, 0, 3, 0.25, false)]  // 600m free is enough
    [InlineData(500.0, 0, 2000, 1000, 3, 0, 3, 0.25, true)]  // memory short: 1000Mi free, 1920Mi kept
    [InlineData(500.0, 0, 300, 7000, 3, 0, 3, 0.10, false)]  // 200m kept
    [InlineData(500.0, 0, 300, 7000, 3, 0, 3, 0.00, false)]  // 0 %: off
    [InlineData(0.0, 0, 300, 7000, 3, 0, 3, 0.25, false)]    // flat workload: no spare node
    [InlineData(null, 0, 300, 7000, 3, 0, 3, 0.25, false)]   // unknown: never launches on missing data
    [InlineData(500.0, 4, 300, 7000, 3, 0, 3, 0.25, false)]  // pods pending: they decide alone
    [InlineData(500.0, 0, 0, 0, 3, 1, 4, 0.25, false)]       // a launching node's room counts
    [InlineData(500.0, 0, 300, 7000, 10, 0, 10, 0.25, false)] // at the maximum
    [InlineData(500.0, 0, 0, 0, 0, 0, 0, 0.25, false)]       // no workers at all: the minimum's business
    public void Ask_GrowingWorkloadShortOfRoom_AsksForOneNode(double? rise, int placeablePods, long roomCpu, long roomMemoryMiB, int readyManaged, int launching, int towardMaximum, double headroom, bool expected)
    {
        var settings = Defaults with { Headroom = headroom };

        var ask = HeadroomRule.Ask(rise, placeablePods, new Resources(roomCpu, roomMemoryMiB * MiB, 100), readyManaged, launching, towardMaximum, settings);

        Assert.Equal(expected, ask is not null);
        if (expected)
        {
            Assert.Equal((DecisionReason.Headroom, 1, headroom), (ask!.Reason, ask.Nodes, ask.Share));
        }
    }
}
