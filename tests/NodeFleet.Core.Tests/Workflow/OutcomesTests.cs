using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Workflow;

namespace NodeFleet.Core.Tests.Workflow;

public class OutcomesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);

    private static Decision Decision(ScalingAction action, int nodes = 0) => new()
    {
        Action = action,
        ReasonCode = DecisionReason.PendingPods,
        Reason = "because",
        NodesToAdd = nodes,
        NodeToRemove = action is ScalingAction.ScaleDown or ScalingAction.Replace ? new NodeRef { Name = "w3", InstanceId = "i-3" } : null,
        DecidedAt = Now,
        Figures = new DecisionFigures(),
    };

    private static readonly LockResult Held = new() { Acquired = true, Owner = "exec", Fence = 1 };

    private static LaunchOutcome Launched(int count) => new()
    {
        LaunchId = "launch-exec", Requested = 2, StartedAt = Now,
        Instances = Enumerable.Range(1, count).Select(i => new LaunchedInstance { InstanceId = $"i-{i}", Zone = "a", InstanceType = "t3.large", CapacityType = CapacityType.Spot }).ToList(),
        Errors = count == 0 ? ["a spot t3.large: InsufficientInstanceCapacity"] : [],
    };

    private static ReadinessReport Readiness(ReadinessStatus status) => new() { Status = status, Deadline = Now.AddMinutes(10), Overdue = status == ReadinessStatus.Overdue ? ["i-2"] : [] };

    private static DrainProgress Drain(DrainStatus status) => new() { Node = "w3", Status = status, StartedAt = Now };

    private static readonly StepResult Done = new() { Summary = "ok" };

    public static TheoryData<string, UpdateStateRequest, OutcomeKind, string?> Paths() => new()
    {
        { "launch joined", new() { Decision = Decision(ScalingAction.ScaleUp, 2), Lock = Held, Launch = Launched(2), Readiness = Readiness(ReadinessStatus.AllReady) }, OutcomeKind.ScaledUp, null },
        { "launch overdue", new() { Decision = Decision(ScalingAction.ScaleUp, 2), Lock = Held, Launch = Launched(2), Readiness = Readiness(ReadinessStatus.Overdue) }, OutcomeKind.LaunchFailed, "i-2 did not join" },
        { "nothing launched", new() { Decision = Decision(ScalingAction.ScaleUp, 2), Lock = Held, Launch = Launched(0) }, OutcomeKind.LaunchFailed, "EC2 launched no instance: a spot t3.large: InsufficientInstanceCapacity" },
        { "drained", new() { Decision = Decision(ScalingAction.ScaleDown), Lock = Held, Drain = Drain(DrainStatus.Drained), Terminated = Done }, OutcomeKind.ScaledDown, null },
        { "drain blocked", new() { Decision = Decision(ScalingAction.ScaleDown), Lock = Held, Drain = Drain(DrainStatus.Blocked) }, OutcomeKind.ScaleDownAborted, "the drain of w3 ended Blocked; the node was uncordoned" },
        { "drain overdue", new() { Decision = Decision(ScalingAction.ScaleDown), Lock = Held, Drain = Drain(DrainStatus.Overdue) }, OutcomeKind.ScaleDownAborted, "the drain of w3 ended Overdue" },
        { "drain preempted", new() { Decision = Decision(ScalingAction.ScaleDown), Lock = Held, Drain = Drain(DrainStatus.Preempted) }, OutcomeKind.DrainPreempted, "the drain of w3 was preempted" },
        { "replaced", new() { Decision = Decision(ScalingAction.Replace, 1), Lock = Held, Drain = Drain(DrainStatus.Draining), Launch = Launched(1), Readiness = Readiness(ReadinessStatus.AllReady), Terminated = Done }, OutcomeKind.Replaced, null },
        { "replacement never joined", new() { Decision = Decision(ScalingAction.Replace, 1), Lock = Held, Drain = Drain(DrainStatus.Draining), Launch = Launched(1), Readiness = Readiness(ReadinessStatus.Overdue) }, OutcomeKind.LaunchFailed, "did not join" },
        { "retired", new() { Decision = Decision(ScalingAction.Replace, 0), Lock = Held, Drain = Drain(DrainStatus.Draining), Terminated = Done }, OutcomeKind.Replaced, "no replacement" },
        { "rebalance kept for the warning", new() { Decision = Decision(ScalingAction.Replace, 1), Lock = Held, Drain = Drain(DrainStatus.AwaitingInterruption) with { Blockers = [new EvictionBlocker { Pod = "data/db-0", Reason = EvictionBlockReason.PodDisruptionBudget, Detail = "db allows 0" }] }, Launch = Launched(1), Readiness = Readiness(ReadinessStatus.AllReady) },
            OutcomeKind.AwaitingInterruption, "w3 kept, cordoned, until the spot warning: data/db-0: PodDisruptionBudget (db allows 0); its replacement is Ready" },
        { "rebalance at the maximum kept", new() { Decision = Decision(ScalingAction.Replace, 0), Lock = Held, Drain = Drain(DrainStatus.AwaitingInterruption) }, OutcomeKind.AwaitingInterruption, "no replacement: at the maximum" },
        { "retired after it awaited the warning", new() { Decision = Decision(ScalingAction.Replace, 0) with { Interruption = new InterruptionNotice { Kind = TriggerKind.SpotInterruption, NotAfter = Now.AddMinutes(2), ReplacedBy = "exec-0" } }, Lock = Held, Drain = Drain(DrainStatus.Drained), Terminated = Done },
            OutcomeKind.Replaced, "its replacement was launched before, by exec-0" },
        { "caught error", new() { Decision = Decision(ScalingAction.ScaleUp, 2), Lock = Held, Launch = Launched(2), Error = new StepError { Error = "ClusterUnavailableException", Cause = "API down" } }, OutcomeKind.Failed, "ClusterUnavailableException: API down" },
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Of_EachPathsResults_DeriveItsOutcome(string path, UpdateStateRequest request, OutcomeKind expected, string? detail)
    {
        var outcome = Outcomes.Of(request);

        Assert.True(expected == outcome.Kind, $"{path}: {outcome.Kind}");
        if (detail is null)
        {
            Assert.Null(outcome.Detail);
        }
        else
        {
            Assert.Contains(detail, outcome.Detail, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string, UpdateStateRequest, string> Unfinished() => new()
    {
        { "launch still joining", new() { Decision = Decision(ScalingAction.ScaleUp, 2), Lock = Held, Launch = Launched(2), Readiness = Readiness(ReadinessStatus.Waiting) }, "$.readiness" },
        { "no launch", new() { Decision = Decision(ScalingAction.ScaleUp, 2), Lock = Held }, "$.launch" },
        { "drain still running", new() { Decision = Decision(ScalingAction.ScaleDown), Lock = Held, Drain = Drain(DrainStatus.Draining) }, "$.drain" },
        { "drained but not terminated", new() { Decision = Decision(ScalingAction.ScaleDown), Lock = Held, Drain = Drain(DrainStatus.Drained) }, "$.terminated" },
        { "replacement joined, node not retired", new() { Decision = Decision(ScalingAction.Replace, 1), Lock = Held, Launch = Launched(1), Readiness = Readiness(ReadinessStatus.AllReady) }, "$.terminated" },
        { "nothing to do", new() { Decision = Decision(ScalingAction.None), Lock = Held }, "Done route" },
    };

    [Theory]
    [MemberData(nameof(Unfinished))]
    public void Of_PathNotFinished_IsInvalidInputNamingWhatIsMissing(string path, UpdateStateRequest request, string missing)
    {
        var error = Assert.Throws<InvalidInputException>(() => Outcomes.Of(request));

        Assert.True(error.Message.Contains(missing, StringComparison.Ordinal), $"{path}: {error.Message}");
    }

    [Fact]
    public void Summarize_LongReason_IsCappedForTheStateItem()
    {
        var summary = Outcomes.Summarize(Decision(ScalingAction.ScaleUp) with { Reason = new string('x', 800) }, new Outcomes.Derived(OutcomeKind.ScaledUp, "d"));

        Assert.Equal(Outcomes.MaxSummaryLength, summary.Length);
        Assert.EndsWith("...", summary, StringComparison.Ordinal);
    }
    [Fact]
    public void Of_AlertForPodsNoNodeCanHost_IsNoScaleUpReportedNamingThem()
    {
        var decision = Decision(ScalingAction.None) with
        {
            ReasonCode = DecisionReason.PodsUnplaceable,
            Alert = true,
            NoScaleUp = [new NoScaleUpPods { Owner = "ml/ReplicaSet/trainer", Count = 3, Reason = NoScaleUpReason.NodeSelector, New = true }],
        };

        var outcome = Outcomes.Of(new UpdateStateRequest { Decision = decision, Lock = Held });

        Assert.Equal(OutcomeKind.NoScaleUpReported, outcome.Kind);
        Assert.Contains("ml/ReplicaSet/trainer (NodeSelector)", outcome.Detail, StringComparison.Ordinal);
    }
}
