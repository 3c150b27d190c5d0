using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Workflow;

namespace NodeFleet.Core.Tests.Workflow;

public class NotificationComposerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);

    private static Decision ScaleUp(int nodes = 2) => new()
    {
        Action = ScalingAction.ScaleUp, ReasonCode = DecisionReason.PendingPods, Reason = $"Scale up by {nodes}: pods pending", NodesToAdd = nodes, DecidedAt = Now,
        Figures = new DecisionFigures { ManagedWorkers = 3, ReadyManagedWorkers = 3, CpuNow = 0.5, MemoryNow = 0.4 },
    };

    private static Decision ScaleDown() => new()
    {
        Action = ScalingAction.ScaleDown, ReasonCode = DecisionReason.Underutilized, Reason = "Remove w3: idle", Cooldown = CooldownScope.ScaleDown,
        NodeToRemove = new NodeRef { Name = "w3", InstanceId = "i-0w3" }, DecidedAt = Now, Figures = new DecisionFigures { ManagedWorkers = 4, ReadyManagedWorkers = 4 },
    };

    private static LaunchOutcome Launched(int count) => new()
    {
        LaunchId = "launch-tick-42", Requested = 2, StartedAt = Now,
        Instances = Enumerable.Range(1, count).Select(i => new LaunchedInstance { InstanceId = $"i-{i}", Zone = "us-east-1a", InstanceType = "t3.large", CapacityType = CapacityType.Spot }).ToList(),
    };

    /// <summary>The drain of w3 that kept two empty workers to go with it.</summary>
    private static DrainProgress DrainedWithEmpty() => new()
    {
        Node = "w3", Status = DrainStatus.Drained, StartedAt = Now,
        Also = [new NodeRef { Name = "w4", InstanceId = "i-0w4" }, new NodeRef { Name = "w5", InstanceId = "i-0w5" }],
    };

    [Fact]
    public void Compose_ScaleDownWithEmptyWorkers_NamesEveryNodeRemoved()
    {
        var n = NotificationComposer.Compose(new NotifyRequest { Decision = ScaleDown(), Drain = DrainedWithEmpty(), Recorded = Recorded(OutcomeKind.ScaledDown) }, "prod");

        Assert.Equal("Removed w3 and 2 empty workers (w4, w5)", n.Title);
    }

    private static RecordResult Recorded(OutcomeKind kind, string? detail = null) => new() { Outcome = kind, Detail = detail, Summary = "s" };

    public static TheoryData<NotifyRequest, NotificationKind, int, int> Paths() => new()
    {
        { new() { Decision = ScaleUp(), Launch = Launched(2), Recorded = Recorded(OutcomeKind.ScaledUp) }, NotificationKind.ScaleUp, 3, 5 },
        { new() { Decision = ScaleDown(), Recorded = Recorded(OutcomeKind.ScaledDown) }, NotificationKind.ScaleDown, 4, 3 },
        { new() { Decision = ScaleDown(), Drain = DrainedWithEmpty(), Recorded = Recorded(OutcomeKind.ScaledDown) }, NotificationKind.ScaleDown, 4, 1 },
        { new() { Decision = ScaleUp(), Launch = Launched(1), Recorded = Recorded(OutcomeKind.LaunchFailed, "i-1 never joined") }, NotificationKind.Failure, 3, 3 },
        { new() { Decision = ScaleDown(), Recorded = Recorded(OutcomeKind.ScaleDownAborted, "PDB web blocks") }, NotificationKind.Failure, 4, 4 },
        { new() { Decision = ScaleDown(), Recorded = Recorded(OutcomeKind.DrainPreempted, "the drain of w3 was preempted") }, NotificationKind.ScaleDown, 4, 4 },
        { new() { Decision = ScaleUp(), Error = new StepError { Error = "MetricsUnavailableException", Cause = "Prometheus down" } }, NotificationKind.Failure, 3, 3 },
        { new() { Error = new StepError { Error = "InvalidInputException", Cause = "Invalid trigger" } }, NotificationKind.Failure, 0, 0 },
        { new() { Decision = ScaleDown() with { Action = ScalingAction.Replace, NodesToAdd = 1 }, Launch = Launched(1), Recorded = Recorded(OutcomeKind.Replaced) }, NotificationKind.Interruption, 4, 4 },
        { new() { Decision = ScaleUp() with { DryRun = true } }, NotificationKind.DryRun, 3, 3 },
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Compose_EachPath_SaysWhatHappenedAndTheCounts(NotifyRequest request, NotificationKind kind, int before, int after)
    {
        var n = NotificationComposer.Compose(request, "prod");

        Assert.Equal(kind, n.Kind);
        Assert.Equal((before, after), (n.NodesBefore, n.NodesAfter));
        Assert.False(string.IsNullOrWhiteSpace(n.Reason));
        Assert.Equal("prod", n.ClusterName);
    }

    [Fact]
    public void Compose_AbortedDrain_NamesWhatBlockedIt()
    {
        var blockers = Enumerable.Range(1, 7).Select(i => new EvictionBlocker { Pod = $"data/db-{i}", Reason = EvictionBlockReason.PodDisruptionBudget, Detail = "The disruption budget db needs 2 healthy pods and has 2 currently" }).ToList();
        var request = new NotifyRequest
        {
            Decision = ScaleDown(),
            Drain = new DrainProgress { Node = "w3", Status = DrainStatus.Overdue, StartedAt = Now, Blockers = blockers },
            Recorded = Recorded(OutcomeKind.ScaleDownAborted, "the drain of w3 ended Overdue; the node was uncordoned"),
        };

        var n = NotificationComposer.Compose(request, "prod");

        Assert.StartsWith("the drain of w3 ended Overdue", n.Reason, StringComparison.Ordinal);
        Assert.StartsWith("data/db-1: The disruption budget db needs 2 healthy pods", n.Figures["drainBlockers"], StringComparison.Ordinal);
        Assert.EndsWith("; and 2 more", n.Figures["drainBlockers"], StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_LambdaErrorCause_CarriesTheMessageNotTheStackTrace()
    {
        var cause = """{"errorType":"AwsAccessDeniedException","errorMessage":"ec2:CreateFleet is not allowed","stackTrace":["at NodeFleet.Aws.Ec2.Ec2Api.CallAsync()"]}""";

        var n = NotificationComposer.Compose(new NotifyRequest { Decision = ScaleUp(), Error = new StepError { Error = "AwsAccessDeniedException", Cause = cause } }, "prod");

        Assert.StartsWith("ec2:CreateFleet is not allowed (while acting on: Scale up by 2", n.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("stackTrace", n.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_NothingToReport_IsInvalidInput()
    {
        Assert.Throws<InvalidInputException>(() => NotificationComposer.Compose(new NotifyRequest { Decision = ScaleUp() }, "prod"));
    }

    [Fact]
    public void Compose_LaunchThatLandedInAnotherZone_SaysWhereAndWhichPoolsRefused()
    {
        var launch = Launched(0) with
        {
            Instances =
            [
                new LaunchedInstance { InstanceId = "i-1", Zone = "us-east-1b", InstanceType = "t3.large", CapacityType = CapacityType.OnDemand },
                new LaunchedInstance { InstanceId = "i-2", Zone = "us-east-1b", InstanceType = "t3.large", CapacityType = CapacityType.Spot },
            ],
            FailedPools =
            [
                new FailedPool { InstanceType = "t3.large", Zone = "us-east-1a", CapacityType = CapacityType.Spot, Code = "InsufficientInstanceCapacity", Capacity = true },
                new FailedPool { InstanceType = "t3.large", Zone = "us-east-1a", CapacityType = CapacityType.OnDemand, Code = "InsufficientInstanceCapacity", Capacity = true },
            ],
        };

        var notification = NotificationComposer.Compose(new NotifyRequest { Decision = ScaleUp(), Launch = launch, Recorded = Recorded(OutcomeKind.ScaledUp) }, "prod");

        Assert.Equal("2 in us-east-1b (1 t3.large on-demand, 1 t3.large spot)", notification.Figures["landed"]);
        Assert.Equal(
            "t3.large spot in us-east-1a: InsufficientInstanceCapacity (tried last for a while); t3.large on-demand in us-east-1a: InsufficientInstanceCapacity (tried last for a while)",
            notification.Figures["poolsRefused"]);
    }
    [Fact]
    public void Compose_PodsNoNodeCanHost_NamesOnlyThoseNotToldBefore()
    {
        var decision = new Decision
        {
            Action = ScalingAction.None, ReasonCode = DecisionReason.PodsUnplaceable, Reason = "no new node could host the pending pods", DecidedAt = Now, Alert = true,
            Figures = new DecisionFigures { ManagedWorkers = 2 },
            NoScaleUp =
            [
                new() { Owner = "ml/ReplicaSet/trainer", Count = 3, Reason = NoScaleUpReason.NodeSelector, Detail = "gpu=true", New = true },
                new() { Owner = "shop/ReplicaSet/old", Count = 1, Reason = NoScaleUpReason.Taint },
            ],
        };

        var n = NotificationComposer.Compose(new NotifyRequest { Decision = decision, Recorded = Recorded(OutcomeKind.NoScaleUpReported) }, "prod");

        Assert.Equal(NotificationKind.NoScaleUp, n.Kind);
        Assert.Equal("3 pod(s) of ml/ReplicaSet/trainer: NodeSelector (gpu=true)", n.Figures["noScaleUp"]);
    }
}
