using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy.Rules;

public class UnschedulablePodsRuleTests
{
    [Theory]
    [InlineData(10, 500, 100, 0, 0, 3, 10)]   // four 500m pods per 2000m worker
    [InlineData(10, 500, 100, 1, 0, 2, 10)]   // a launching node takes four first
    [InlineData(10, 500, 100, 3, 0, 0, 10)]   // the launching nodes hold them all: no ask
    [InlineData(10, 500, 100, 0, 1000, 2, 10)] // a just-joined node's free 1000m takes two, leaving eight
    [InlineData(250, 1, 1, 0, 0, 3, 250)]     // pod slots: 110 per worker
    [InlineData(0, 500, 100, 0, 0, 0, 0)]     // nothing pending
    public void Ask_PlaceablePods_AsksForEnoughNewNodes(int pods, long cpu, long memoryMiB, int launching, long justJoinedFreeCpu, int expectedNodes, int expectedPlaceable)
    {
        IReadOnlyList<Resources> justJoined = justJoinedFreeCpu > 0 ? [new Resources(justJoinedFreeCpu, 7000 * MiB, 100)] : [];

        var answer = UnschedulablePodsRule.Ask([Pods(pods, cpu, memoryMiB)], launching, justJoined, Shape, maxNodes: 10);

        Assert.Equal(expectedNodes, answer.Ask?.Nodes ?? 0);
        Assert.Equal(expectedPlaceable, answer.PlaceablePods);
        Assert.Equal(launching + justJoined.Count, answer.OpenNodes);
        Assert.Equal(0, answer.UnplaceablePods);
        if (expectedNodes > 0)
        {
            Assert.Equal(DecisionReason.PendingPods, answer.Ask!.Reason);
            Assert.Equal(launching, answer.Ask.Launching);
            Assert.False(answer.Ask.AtLeast);
        }
    }

    [Fact]
    public void Ask_MorePodsThanTheMaximumCanHold_StopsCountingAndSaysAtLeast()
    {
        var answer = UnschedulablePodsRule.Ask([Pods(5000, 1500, 100)], 0, [], Shape, maxNodes: 10);

        Assert.Equal(11, answer.Ask?.Nodes);
        Assert.True(answer.Ask?.AtLeast);
        Assert.Equal(5000, answer.PlaceablePods);
    }

    [Theory]
    [InlineData(4000, 100, 2, 0)]  // more CPU than a worker has
    [InlineData(100, 9000, 2, 0)]  // more memory
    [InlineData(500, 100, 0, 1)]   // fits
    public void Ask_PodsLargerThanAWorker_AreReportedNeverPacked(long cpu, long memoryMiB, int expectedUnplaceable, int expectedNodes)
    {
        var answer = UnschedulablePodsRule.Ask([Pods(2, cpu, memoryMiB, "default/Deployment/big")], 0, [], Shape, maxNodes: 10);

        Assert.Equal(expectedUnplaceable, answer.UnplaceablePods);
        Assert.Equal(expectedUnplaceable > 0 ? 1 : 0, answer.Unplaceable.Count);
        Assert.Equal(expectedNodes, answer.Ask?.Nodes ?? 0);
    }

    [Theory]
    [InlineData(3, 0, false, DecisionReason.LaunchInProgress)] // the pods fit on the open nodes
    [InlineData(3, 2, true, DecisionReason.LaunchInProgress)]
    [InlineData(0, 2, false, DecisionReason.PodsUnplaceable)]  // only pods no worker can hold
    [InlineData(0, 2, true, null)]                             // ... which do not hold back a due scale-down
    [InlineData(0, 0, false, null)]                            // nothing pending
    public void WhyNoLaunch_NoNodeAsked_ExplainsThePods(int placeable, int unplaceable, bool scaleDownDue, DecisionReason? expected)
    {
        var pods = new PodsAnswer(null, placeable, 2, unplaceable, unplaceable > 0 ? [Pods(unplaceable, 4000, 100)] : []);

        var verdict = UnschedulablePodsRule.WhyNoLaunch(pods, scaleDownDue, Shape);

        Assert.Equal(expected, verdict?.Reason);
        Assert.Equal(ScalingAction.None, verdict?.Action ?? ScalingAction.None);
    }
}
