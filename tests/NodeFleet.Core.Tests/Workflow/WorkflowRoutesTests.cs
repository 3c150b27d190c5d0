using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Tests.Workflow;

public class WorkflowRoutesTests
{
    [Theory]
    [InlineData(ScalingAction.None, false, 0, WorkflowRoute.Done)]
    [InlineData(ScalingAction.None, true, 0, WorkflowRoute.Done)]
    [InlineData(ScalingAction.ScaleUp, false, 2, WorkflowRoute.Launch)]
    [InlineData(ScalingAction.ScaleUp, true, 2, WorkflowRoute.NotifyOnly)]
    [InlineData(ScalingAction.ScaleDown, false, 0, WorkflowRoute.Drain)]
    [InlineData(ScalingAction.ScaleDown, true, 0, WorkflowRoute.NotifyOnly)]
    [InlineData(ScalingAction.Replace, false, 1, WorkflowRoute.Replace)]
    [InlineData(ScalingAction.Replace, false, 0, WorkflowRoute.Retire)]
    [InlineData(ScalingAction.Replace, true, 1, WorkflowRoute.NotifyOnly)]
    public void Of_Decision_IsTheRouteTheWorkflowTakes(ScalingAction action, bool dryRun, int nodes, WorkflowRoute expected)
    {
        var decision = new Decision
        {
            Action = action, ReasonCode = DecisionReason.WithinThresholds, Reason = "r", DryRun = dryRun, NodesToAdd = nodes,
            DecidedAt = DateTimeOffset.UnixEpoch, Figures = new DecisionFigures(),
        };

        Assert.Equal(expected, decision.Route);
    }

    [Theory]
    [InlineData(ScalingAction.ScaleUp, DecisionReason.PendingPods, false, true)]
    [InlineData(ScalingAction.ScaleUp, DecisionReason.PendingPods, true, false)]
    [InlineData(ScalingAction.ScaleUp, DecisionReason.CpuHigh, false, false)]
    [InlineData(ScalingAction.ScaleUp, DecisionReason.BelowMinimum, false, false)]
    [InlineData(ScalingAction.Replace, DecisionReason.Interrupted, false, false)]
    [InlineData(ScalingAction.ScaleDown, DecisionReason.Underutilized, false, false)]
    public void PreemptsDrain_Decision_OnlyAScaleUpForPendingPods(ScalingAction action, DecisionReason reason, bool dryRun, bool expected)
    {
        var decision = new Decision
        {
            Action = action, ReasonCode = reason, Reason = "r", DryRun = dryRun, NodesToAdd = action == ScalingAction.ScaleUp ? 1 : 0,
            DecidedAt = DateTimeOffset.UnixEpoch, Figures = new DecisionFigures(),
        };

        Assert.Equal(expected, decision.PreemptsDrain);
    }

    [Theory]
    [InlineData("""{"errorType":"LeaseNotHeldException","errorMessage":"Cannot release: exec-1 does not hold the lease","stackTrace":["at NodeFleet.Aws.X()","at Y()"]}""", "Cannot release: exec-1 does not hold the lease")]
    [InlineData("Prometheus could not be reached\n   at NodeFleet.Cluster.Prometheus.Query()", "Prometheus could not be reached")]
    [InlineData("{not json", "{not json")]
    [InlineData(null, "States.Timeout")]
    public void Message_Cause_IsWhatPeopleReadWithoutTheStackTrace(string? cause, string expected)
    {
        Assert.Equal(expected, new StepError { Error = "States.Timeout", Cause = cause }.Message);
    }
}
