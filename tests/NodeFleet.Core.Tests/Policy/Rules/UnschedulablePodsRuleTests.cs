using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using NodeFleet.Core.Policy.Scheduling;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy.Rules;

public class UnschedulablePodsRuleTests
{
    private static readonly TemplateCatalog Templates = new(Defaults.Templates, []);

    private static PodsAnswer Ask(IReadOnlyList<PodGroup> pods, int launching = 0, IReadOnlyList<NodeInfo>? justJoined = null) =>
        UnschedulablePodsRule.Ask(pods, new OpenCapacity([.. Enumerable.Repeat<string?>(null, launching)], justJoined ?? []), Templates, [Master()], maxNodes: 10);

    [Theory]
    [InlineData(10, 500, 100, 0, 0, 3, 10)]   // four 500m pods per 2000m worker
    [InlineData(10, 500, 100, 1, 0, 2, 10)]   // a launching node takes four first
    [InlineData(10, 500, 100, 3, 0, 0, 10)]   // the launching nodes hold them all: no ask
    [InlineData(10, 500, 100, 0, 1000, 2, 10)] // a just-joined node's free 1000m takes two, leaving eight
    [InlineData(250, 1, 1, 0, 0, 3, 250)]     // pod slots: 110 per worker
    [InlineData(0, 500, 100, 0, 0, 0, 0)]     // nothing pending
    public void Ask_PlaceablePods_AsksForEnoughNewNodes(int pods, long cpu, long memoryMiB, int launching, long justJoinedFreeCpu, int expectedNodes, int expectedPlaceable)
    {
        IReadOnlyList<NodeInfo> justJoined = justJoinedFreeCpu > 0
            ? [Worker("fresh", 0, Now.AddSeconds(-30)) with { Requested = Shape - new Resources(justJoinedFreeCpu, 7000 * MiB, 100) }]
            : [];

        var answer = Ask([Pods(pods, cpu, memoryMiB)], launching, justJoined);

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
        var answer = Ask([Pods(5000, 1500, 100)]);

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
        var answer = Ask([Pods(2, cpu, memoryMiB, "default/Deployment/big")]);

        Assert.Equal(expectedUnplaceable, answer.UnplaceablePods);
        Assert.Equal(expectedUnplaceable > 0 ? [NoScaleUpReason.TooLarge] : [], answer.NoScaleUp.Select(p => p.Reason));
        Assert.Equal(expectedNodes, answer.Ask?.Nodes ?? 0);
    }

    [Theory]
    [InlineData(3, 0, false, DecisionReason.LaunchInProgress)] // the pods fit on the open nodes
    [InlineData(3, 2, true, DecisionReason.LaunchInProgress)]
    [InlineData(0, 2, false, DecisionReason.PodsUnplaceable)]  // only pods no new node could host
    [InlineData(0, 2, true, null)]                             // ... which do not hold back a due scale-down
    [InlineData(0, 0, false, null)]                            // nothing pending
    public void WhyNoLaunch_NoNodeAsked_ExplainsThePods(int placeable, int unplaceable, bool scaleDownDue, DecisionReason? expected)
    {
        IReadOnlyList<NoScaleUpPods> noScaleUp = unplaceable > 0 ? [new() { Owner = "default/Deployment/gpu", Count = unplaceable, Reason = NoScaleUpReason.NodeSelector, Detail = "gpu=true" }] : [];
        var pods = new PodsAnswer(null, placeable, 2, [], noScaleUp);

        var verdict = UnschedulablePodsRule.WhyNoLaunch(pods, scaleDownDue);

        Assert.Equal(expected, verdict?.Reason);
        Assert.Equal(ScalingAction.None, verdict?.Action ?? ScalingAction.None);
    }

    [Theory]
    [InlineData(new[] { 2, 1 }, 5, new[] { 2, 1 })]    // room for every pinned node and two unpinned
    [InlineData(new[] { 2, 1 }, 3, new[] { 2, 1 })]    // the unpinned nodes go first
    [InlineData(new[] { 3, 1 }, 2, new[] { 1, 1 })]    // then from the zone with the most
    [InlineData(new[] { 2, 2 }, 3, new[] { 2, 1 })]    // on a tie, from the zone listed last
    [InlineData(new[] { 1, 1 }, 1, new[] { 1, 0 })]
    public void PinnedWithin_LaunchCappedBelowThePlan_TrimsUnpinnedFirstThenTheLargestZone(int[] pinned, int nodes, int[] expected)
    {
        var answer = new PodsAnswer(null, 0, 0, [new() { Zone = "a", Nodes = pinned[0] }, new() { Zone = "b", Nodes = pinned[1] }], []);

        var within = answer.PinnedWithin(nodes);

        Assert.Equal(expected[0], within.FirstOrDefault(z => z.Zone == "a")?.Nodes ?? 0);
        Assert.Equal(expected[1], within.FirstOrDefault(z => z.Zone == "b")?.Nodes ?? 0);
        Assert.DoesNotContain(within, z => z.Nodes == 0);
    }
}
