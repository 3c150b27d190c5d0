using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Policy;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class InterruptionTests
{
    private static Trigger Spot(string instanceId) => new() { Kind = TriggerKind.SpotInterruption, InstanceId = instanceId };

    private static readonly EventOrigin Origin = new("123456789012", "us-east-1");

    private static Trigger Parse(string json) => Trigger.Parse(JsonDocument.Parse(json).RootElement, Origin);

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

    private static CordonMark Mark(CordonReason reason) => new() { ExecutionId = "exec-0", Reason = reason, At = Now.AddMinutes(-3) };

    /// <summary>What an EC2 event does to a worker NodeFleet (or someone) already cordoned, by the cordon's mark.</summary>
    [Theory]
    [InlineData(TriggerKind.SpotInterruption, null, false, "Replace", 1, null)]                              // an ordinary worker
    [InlineData(TriggerKind.Rebalance, null, false, "Replace", 1, null)]
    [InlineData(TriggerKind.SpotInterruption, CordonReason.AwaitingInterruption, true, "Retire", 0, "exec-0")] // replaced before: retire it now
    [InlineData(TriggerKind.Rebalance, CordonReason.AwaitingInterruption, true, "Done", 0, null)]             // already waiting for this
    [InlineData(TriggerKind.SpotInterruption, CordonReason.ScaleDown, true, "Replace", 1, null)]              // a budget-held scale-down is overtaken
    [InlineData(TriggerKind.StateChange, CordonReason.ScaleDown, true, "Done", 0, null)]                      // NodeFleet's own termination
    [InlineData(TriggerKind.SpotInterruption, CordonReason.Interruption, true, "Done", 0, null)]              // another interruption drains it
    [InlineData(TriggerKind.SpotInterruption, null, true, "Done", 0, null)]                                   // an operator's cordon: not ours
    public void Decide_InterruptionOfACordonedWorker_FollowsItsMark(TriggerKind kind, CordonReason? reason, bool cordoned, string route, int replacements, string? replacedBy)
    {
        var trigger = new Trigger { Kind = kind, InstanceId = "i-w2", State = kind == TriggerKind.StateChange ? "shutting-down" : null, Time = Now.AddSeconds(-20) };
        var snapshot = Snapshot([Worker("w1"), Worker("w2") with { Unschedulable = cordoned, Cordon = reason is { } r ? Mark(r) : null }, Worker("w3")], new UtilizationMetrics());

        var decision = Decide(trigger, snapshot);

        Assert.Equal(route, decision.Route.ToString());
        Assert.Equal(replacements, decision.NodesToAdd);
        Assert.Equal(replacedBy, decision.Interruption?.ReplacedBy);
    }

    [Theory]
    [InlineData(TriggerKind.SpotInterruption, true)]
    [InlineData(TriggerKind.Rebalance, false)]
    [InlineData(TriggerKind.StateChange, false)]
    public void Decide_Interruption_CarriesItsDrainTerms_OnlyTheSpotWarningHasADeadline(TriggerKind kind, bool forced)
    {
        var trigger = new Trigger { Kind = kind, InstanceId = "i-w2", State = kind == TriggerKind.StateChange ? "stopping" : null, Time = Now.AddSeconds(-20) };

        var decision = Decide(trigger, Snapshot(Workers(3), new UtilizationMetrics()));

        Assert.Equal(kind, decision.Interruption!.Kind);
        Assert.Equal(forced ? Now.AddSeconds(100) : null, decision.Interruption.NotAfter);
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
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","account":"123456789012","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-0abc","instance-action":"terminate"}}""", TriggerKind.SpotInterruption, "i-0abc")]
    [InlineData("""{"detail-type":"EC2 Instance Rebalance Recommendation","source":"aws.ec2","account":"123456789012","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-0abc"}}""", TriggerKind.Rebalance, "i-0abc")]
    [InlineData("""{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-0abc","state":"terminated"}}""", TriggerKind.StateChange, "i-0abc")]
    public void Parse_EventBridgeEvents_GiveTheTrigger(string json, TriggerKind kind, string? instanceId)
    {
        var trigger = Parse(json);

        Assert.Equal((kind, instanceId), (trigger.Kind, trigger.InstanceId));
    }

    [Theory]
    [InlineData("[]", "empty array")]
    [InlineData("""{"foo":1}""", "not an EventBridge event")]
    [InlineData("""{"source":"aws.events"}""", "not an EventBridge event")]
    [InlineData("""{"detail-type":42,"detail":{}}""", "$.detail-type is a JSON Number")]
    [InlineData("""{"detail-type":{"a":1},"detail":{}}""", "$.detail-type is a JSON Object")]
    [InlineData("""{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-1","state":7}}""", "$.detail.state '' is not a state")]
    [InlineData("""{"detail-type":"EC2 Instance Launch Successful","detail":{}}""", "is not one NodeFleet handles")]
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","account":"123456789012","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{}}""", "$.detail.instance-id")]
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","account":"123456789012","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":42}}""", "$.detail.instance-id")]
    [InlineData("""{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-1","state":"running"}}""", "$.detail.state 'running'")]
    public void Parse_MalformedEvent_IsRefusedByName(string json, string expected)
    {
        var error = Assert.Throws<InvalidInputException>(() => Parse(json));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
    /// <summary>Anyone allowed to start an execution could forge a spot warning: only EC2's own, in this account and region, are acted on.</summary>
    [Theory]
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","account":"123456789012","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-1"}}""", "must come from source 'aws.ec2', not (none)")]
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","source":"my.app","account":"123456789012","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-1"}}""", "not 'my.app'")]
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","account":"999999999999","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-1"}}""", "from account '999999999999'")]
    [InlineData("""{"detail-type":"EC2 Instance Rebalance Recommendation","source":"aws.ec2","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-1"}}""", "from account (none)")]
    [InlineData("""{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","region":"eu-west-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-1","state":"stopped"}}""", "from region 'eu-west-1'")]
    [InlineData("""{"detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","account":"123456789012","region":"us-east-1","detail":{"instance-id":"i-1"}}""", "$.time is missing")]
    [InlineData("""[{"detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","account":"999999999999","region":"us-east-1","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-1"}}]""", "from account '999999999999'")]
    public void Parse_Ec2EventNotFromEc2InThisAccountAndRegion_IsRefusedAsUntrusted(string json, string expected)
    {
        var error = Assert.Throws<InvalidInputException>(() => Parse(json));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A late event (EventBridge retries for up to a day) announced something that is over: recorded, not acted on.</summary>
    [Theory]
    [InlineData(-20, "Replace")]
    [InlineData(-175, "Replace")]
    [InlineData(-185, "Done")]
    [InlineData(-3600, "Done")]
    [InlineData(185, "Done")] // dated ahead beyond the limit: no clock is that wrong
    public void Decide_Ec2EventByAge_ActsOnlyWithinEventMaxAge(int ageSeconds, string route)
    {
        var trigger = Spot("i-w2") with { Time = Now.AddSeconds(ageSeconds) };

        var decision = Decide(trigger, Snapshot(Workers(3), new UtilizationMetrics()));

        Assert.Equal(route, decision.Route.ToString());
        Assert.Equal(route == "Done" ? DecisionReason.StaleEvent : DecisionReason.Interrupted, decision.ReasonCode);
        Assert.Equal(route == "Done" ? 0 : 1, decision.NodesToAdd);
        if (route == "Done")
        {
            Assert.Contains("beyond eventMaxAge (3m)", decision.Reason, StringComparison.Ordinal);
        }
    }

    /// <summary>A node's managed label is not proof enough for a warning: EC2 must list the instance as this cluster's (by its tags).</summary>
    [Theory]
    [InlineData(TriggerKind.SpotInterruption, true, DecisionReason.Interrupted)]
    [InlineData(TriggerKind.SpotInterruption, false, DecisionReason.NotManaged)]
    [InlineData(TriggerKind.Rebalance, false, DecisionReason.NotManaged)]
    [InlineData(TriggerKind.StateChange, false, DecisionReason.Interrupted)] // a stopping instance has left EC2's live list
    public void Decide_Ec2EventForALabelledNode_NeedsTheInstanceListedAsOurs(TriggerKind kind, bool listed, DecisionReason expected)
    {
        var trigger = new Trigger { Kind = kind, InstanceId = "i-w2", State = kind == TriggerKind.StateChange ? "stopping" : null, Time = Now.AddSeconds(-10) };
        var workers = Workers(3).ToList();
        var inventory = new Inventory
        {
            Nodes = workers,
            Instances = workers.Where(w => listed || w.InstanceId != "i-w2")
                .Select(w => new InstanceInfo { InstanceId = w.InstanceId!, Zone = "us-east-1a", State = "running", LaunchedAt = Now.AddHours(-1) }).ToList(),
        };

        var decision = ScalingPolicy.Decide(trigger, Snapshot(workers, new UtilizationMetrics()), FleetState.Empty, Defaults, Now, inventory);

        Assert.Equal(expected, decision.ReasonCode);
    }
}
