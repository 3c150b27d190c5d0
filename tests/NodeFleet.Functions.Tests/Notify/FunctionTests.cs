using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Notify;
using NSubstitute;

namespace NodeFleet.Functions.Tests.Notify;

public class FunctionTests
{
    private static LaunchOutcome Launched(int count) => new()
    {
        LaunchId = "launch-tick-42",
        Requested = 2,
        StartedAt = States.Now,
        Instances = Enumerable.Range(1, count).Select(i => new LaunchedInstance { InstanceId = $"i-{i}", Zone = "us-east-1a", InstanceType = "t3.large", CapacityType = CapacityType.Spot }).ToList(),
    };

    public static TheoryData<WorkflowState, NotificationKind, int, int> Paths() => new()
    {
        { States.With(States.ScaleUp()) with { Launch = Launched(2), Outcome = new OutcomeReport { Kind = OutcomeKind.ScaledUp } }, NotificationKind.ScaleUp, 3, 5 },
        { States.With(States.ScaleDown()) with { Outcome = new OutcomeReport { Kind = OutcomeKind.ScaledDown } }, NotificationKind.ScaleDown, 4, 3 },
        { States.With(States.ScaleUp()) with { Launch = Launched(1), Outcome = new OutcomeReport { Kind = OutcomeKind.LaunchFailed, Detail = "i-1 never joined" } }, NotificationKind.Failure, 3, 3 },
        { States.With(States.ScaleDown()) with { Outcome = new OutcomeReport { Kind = OutcomeKind.ScaleDownAborted, Detail = "PDB web blocks" } }, NotificationKind.Failure, 4, 4 },
        { States.With(States.ScaleUp()) with { Error = new StepError { Error = "MetricsUnavailableException", Cause = "Prometheus down" } }, NotificationKind.Failure, 3, 3 },
        { States.With(States.ScaleDown() with { Action = ScalingAction.Replace, NodesToAdd = 1 }) with { Launch = Launched(1), Outcome = new OutcomeReport { Kind = OutcomeKind.Replaced } }, NotificationKind.Interruption, 4, 4 },
        { States.With(States.ScaleUp() with { DryRun = true }), NotificationKind.DryRun, 3, 3 },
        { States.With(States.ScaleUp() with { Action = ScalingAction.None, ReasonCode = DecisionReason.AtMaximum }), NotificationKind.AtMaximum, 3, 3 },
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Compose_EachPath_SaysWhatHappenedAndTheCounts(WorkflowState state, NotificationKind kind, int before, int after)
    {
        var n = Function.Compose(state, "prod");

        Assert.Equal(kind, n.Kind);
        Assert.Equal((before, after), (n.NodesBefore, n.NodesAfter));
        Assert.False(string.IsNullOrWhiteSpace(n.Reason));
        Assert.Equal("prod", n.Cluster);
    }

    [Fact]
    public async Task FunctionHandler_Publishes_AndReturnsTheMessageId()
    {
        var notifier = Substitute.For<INotifier>();
        notifier.PublishAsync(Arg.Any<Notification>(), Arg.Any<CancellationToken>()).Returns("msg-1");
        var state = States.With(States.ScaleUp()) with { Launch = Launched(2), Outcome = new OutcomeReport { Kind = OutcomeKind.ScaledUp } };

        var output = StreamJson.Read(await new Function(notifier, "prod", new FixedClock(States.Now), TextWriter.Null).FunctionHandler(States.Json(state)));

        Assert.Equal("msg-1", output.GetProperty("ids")[0].GetString());
        await notifier.Received(1).PublishAsync(Arg.Is<Notification>(n => n.Title == "Added 2 worker(s)" && n.Reason.Contains("pods pending")), Arg.Any<CancellationToken>());
    }

    [Fact]
    public void Compose_AbortedDrain_NamesWhatBlockedIt()
    {
        var blockers = Enumerable.Range(1, 7).Select(i => new EvictionBlocker { Pod = $"data/db-{i}", Reason = EvictionBlockReason.PodDisruptionBudget, Detail = "The disruption budget db needs 2 healthy pods and has 2 currently" }).ToList();
        var state = States.With(States.ScaleDown()) with
        {
            Drain = new DrainProgress { Node = "w3", Status = DrainStatus.Overdue, StartedAt = States.Now, Blockers = blockers },
            Outcome = new OutcomeReport { Kind = OutcomeKind.ScaleDownAborted, Detail = "the drain of w3 ended Overdue; the node was uncordoned" },
        };

        var n = Function.Compose(state, "prod");

        Assert.StartsWith("the drain of w3 ended Overdue", n.Reason, StringComparison.Ordinal);
        Assert.StartsWith("data/db-1: The disruption budget db needs 2 healthy pods", n.Figures["drainBlockers"], StringComparison.Ordinal);
        Assert.EndsWith("; and 2 more", n.Figures["drainBlockers"], StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_NothingToReport_IsInvalidInput()
    {
        Assert.Throws<InvalidInputException>(() => Function.Compose(States.With(States.ScaleUp()), "prod"));
    }
}
