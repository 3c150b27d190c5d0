using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;

namespace NodeFleet.Core.Tests.Policy.Rules;

public class MinimumRuleTests
{
    [Theory]
    [InlineData(0, 2, 2, 2, false)] // empty cluster: launch the whole minimum
    [InlineData(1, 2, 2, 1, false)]
    [InlineData(2, 4, 2, 2, true)]  // a scheduled minimum of 4 above minNodes 2
    [InlineData(2, 2, 2, 0, false)] // met
    [InlineData(5, 2, 2, 0, false)] // above
    [InlineData(0, 0, 0, 0, false)] // minimum 0: nothing to keep
    public void Ask_WorkersAgainstMinimum_AsksForTheDifference(int workersTowardMinimum, int minimum, int minNodes, int expectedNodes, bool scheduled)
    {
        var ask = MinimumRule.Ask(workersTowardMinimum, minimum, minNodes);

        if (expectedNodes == 0)
        {
            Assert.Null(ask);
            return;
        }

        Assert.NotNull(ask);
        Assert.Equal(DecisionReason.BelowMinimum, ask.Reason);
        Assert.Equal((expectedNodes, workersTowardMinimum, minimum, scheduled), (ask.Nodes, ask.WorkersTowardMinimum, ask.MinNodes, ask.Scheduled));
    }
}
