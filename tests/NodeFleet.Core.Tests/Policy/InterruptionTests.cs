using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Policy;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class InterruptionTests
{
    private static Trigger Spot(string instanceId) => new() { Kind = TriggerKind.SpotInterruption, InstanceId = instanceId };

    private static Decision Decide(Trigger trigger, ClusterSnapshot snapshot, Core.Settings.ScalingSettings? settings = null) =>
        ScalingPolicy.Decide(trigger, snapshot, FleetState.Empty, settings ?? Defaults, Now);

    [Fact]
    public void Decide_ManagedWorkerInterrupted_DrainsItAndLaunchesAReplacementWithoutCooldown()
    {
        var decision = Decide(Spot("i-w2"), Snapshot(Workers(3), new UtilizationMetrics()));

        Assert.Equal(ScalingAction.Replace, decision.Action);
        Assert.Equal(DecisionReason.Interrupted, decision.ReasonCode);
        Assert.Equal("w2", decision.NodeToRemove?.Name);
        Assert.Equal(1, decision.NodesToAdd);
        Assert.Equal(CooldownScope.None, decision.Cooldown);
    }

    [Theory]
    [InlineData("i-unknown")]
    [InlineData("i-master")]
    public void Decide_NotOurWorker_DoesNothing(string instanceId)
    {
        var decision = Decide(Spot(instanceId), Snapshot(Workers(3), new UtilizationMetrics()));

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.NotManaged, decision.ReasonCode);
    }

    [Fact]
    public void Decide_NodeAlreadyBeingRemoved_DoesNotReplaceIt()
    {
        // NodeFleet's own scale-down terminates the instance, which raises a state-change event.
        var snapshot = Snapshot([Worker("w1"), Worker("w2") with { Unschedulable = true }], new UtilizationMetrics());

        var decision = Decide(new Trigger { Kind = TriggerKind.StateChange, InstanceId = "i-w2", State = "shutting-down" }, snapshot);

        Assert.Equal(ScalingAction.None, decision.Action);
        Assert.Equal(DecisionReason.AlreadyCordoned, decision.ReasonCode);
        Assert.Equal(0, decision.NodesToAdd);
    }

    [Fact]
    public void Decide_AboveMaximum_DrainsWithoutReplacement()
    {
        var decision = Decide(Spot("i-w1"), Snapshot(Workers(4), new UtilizationMetrics()), Defaults with { MaxNodes = 3, MinNodes = 1 });

        Assert.Equal(ScalingAction.Replace, decision.Action);
        Assert.Equal(0, decision.NodesToAdd);
    }

    [Fact]
    public void Decide_PrometheusNotAsked_InterruptionStillDecided()
    {
        // No utilisation at all: an interruption needs only the nodes.
        var decision = Decide(Spot("i-w1"), Snapshot(Workers(3), new UtilizationMetrics()));

        Assert.NotEqual(DecisionReason.MetricsMissing, decision.ReasonCode);
    }

    [Theory]
    [InlineData("{}", TriggerKind.Schedule, null)]
    [InlineData("""{"detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-18T12:00:00Z","detail":{}}""", TriggerKind.Schedule, null)]
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","detail":{"instance-id":"i-0abc","instance-action":"terminate"}}""", TriggerKind.SpotInterruption, "i-0abc")]
    [InlineData("""{"detail-type":"EC2 Instance Rebalance Recommendation","source":"aws.ec2","detail":{"instance-id":"i-0abc"}}""", TriggerKind.Rebalance, "i-0abc")]
    [InlineData("""{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{"instance-id":"i-0abc","state":"terminated"}}""", TriggerKind.StateChange, "i-0abc")]
    public void Parse_EventBridgeEvents_GiveTheTrigger(string json, TriggerKind kind, string? instanceId)
    {
        var trigger = Trigger.Parse(JsonDocument.Parse(json).RootElement);

        Assert.Equal((kind, instanceId), (trigger.Kind, trigger.InstanceId));
    }

    [Theory]
    [InlineData("[]", "JSON Array")]
    [InlineData("""{"foo":1}""", "not an EventBridge event")]
    [InlineData("""{"detail-type":"EC2 Instance Launch Successful","detail":{}}""", "is not one NodeFleet handles")]
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","detail":{}}""", "$.detail.instance-id")]
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","detail":{"instance-id":42}}""", "$.detail.instance-id")]
    [InlineData("""{"detail-type":"EC2 Instance State-change Notification","detail":{"instance-id":"i-1","state":"running"}}""", "$.detail.state 'running'")]
    public void Parse_MalformedEvent_IsRefusedByName(string json, string expected)
    {
        var error = Assert.Throws<InvalidInputException>(() => Trigger.Parse(JsonDocument.Parse(json).RootElement));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
