using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Contracts;

public class WorkflowStateJsonTests
{
    private static DecideRequest LargestSupportedObservation()
    {
        // The largest cluster we support, with busy nodes: 30 movable pods in 6 request shapes, 3 blockers each,
        // and 10,000 unschedulable pods of 50 controllers.
        var nodes = Enumerable.Range(0, ScalingSettings.SupportedMaxNodes).Select(i => Worker($"ip-10-0-{i / 250}-{i % 250}.ec2.internal", 0.5) with
        {
            InstanceId = $"i-0{i:x16}",
            MovablePods = Enumerable.Range(1, 6).Select(s => Pods(5, 100 * s, 256 * s)).ToList(),
            Blockers = Enumerable.Range(1, 3).Select(b => new EvictionBlocker { Pod = $"data/postgres-{i}-{b}", Reason = EvictionBlockReason.LocalStorage }).ToList(),
        });
        return new DecideRequest
        {
            Observation = new Observation
            {
                Trigger = Trigger.Schedule,
                Snapshot = Snapshot(nodes, null, Enumerable.Range(1, 50).Select(s => Pods(200, 10 * s, 32 * s, $"batch/Job/job-{s}")).ToArray()),
                Fleet = Launching(10),
            },
        };
    }

    [Fact]
    public void Serialize_LargestSupportedCluster_StaysUnderStepFunctionsPayloadLimit()
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(LargestSupportedObservation(), NodeFleetJsonContext.Default.DecideRequest);

        Assert.True(bytes.Length < 256 * 1024, $"state is {bytes.Length} bytes");
    }

    [Fact]
    public void Serialize_ThenDeserialize_RoundTrips()
    {
        var observation = LargestSupportedObservation();
        var state = new WorkflowState
        {
            ExecutionId = "arn:aws:states:us-east-1:1:execution:nodefleet:tick",
            Decision = Decide(Snapshot(Workers(3), null, Pods(5, 500, 100))),
            Waits = new PollIntervals { ReadySeconds = 30, DrainSeconds = 20 },
            Lock = new LockResult { Acquired = true, Owner = "tick", Fence = 3 },
            Error = new StepError { Error = "AwsThrottledException", Cause = "slow down" },
        };

        var readObservation = JsonSerializer.Deserialize(JsonSerializer.Serialize(observation, NodeFleetJsonContext.Default.DecideRequest), NodeFleetJsonContext.Default.DecideRequest);
        var readState = JsonSerializer.Deserialize(JsonSerializer.Serialize(state, NodeFleetJsonContext.Default.WorkflowState), NodeFleetJsonContext.Default.WorkflowState);

        Assert.Equivalent(observation, readObservation, strict: true);
        Assert.Equivalent(state, readState, strict: true);
    }

    [Fact]
    public void Serialize_Decision_UsesCamelCaseAndEnumNames()
    {
        var decision = Decide(Snapshot(Workers(3), null, Pods(5, 500, 100)));

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(decision, NodeFleetJsonContext.Default.Decision));

        Assert.Equal("ScaleUp", json.RootElement.GetProperty("action").GetString());
        Assert.Equal("PendingPods", json.RootElement.GetProperty("reasonCode").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("nodesToAdd").GetInt32());
        Assert.Equal("Launch", json.RootElement.GetProperty("route").GetString());
        Assert.False(json.RootElement.TryGetProperty("nodeToRemove", out _)); // nulls are left out
    }

    [Theory]
    [InlineData("""{"observation":{"trigger":{"kind":"Schedule"},"fleet":{},"snapshot":{"capturedAt":"2026-11-18T12:00:00Z","utilization":{},"nodes":[{"ready":true,"allocatable":{"cpuMillis":1,"memoryBytes":1,"pods":1},"requested":{"cpuMillis":0,"memoryBytes":0,"pods":0}}],"unschedulablePods":[]}}}""", "name")]
    [InlineData("""{"observation":{"trigger":{"kind":"Schedule"},"fleet":{},"snapshot":{"capturedAt":"2026-11-18T12:00:00Z","utilization":{},"nodes":[]}}}""", "unschedulablePods")]
    [InlineData("""{"observation":{"trigger":{"kind":"Schedule"},"fleet":{},"snapshot":{"capturedAt":"2026-11-18T12:00:00Z","utilization":{},"nodes":[{"name":"a","ready":true,"allocatable":{"cpuMillis":1,"memoryBytes":1},"requested":{"cpuMillis":0,"memoryBytes":0,"pods":0}}],"unschedulablePods":[]}}}""", "pods")]
    public void Deserialize_MissingRequiredMember_Throws(string json, string member)
    {
        var error = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json, NodeFleetJsonContext.Default.DecideRequest));

        Assert.Contains(member, error.Message, StringComparison.Ordinal);
    }
}
