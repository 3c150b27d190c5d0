using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Contracts;

public class WorkflowStateJsonTests
{
    private static string NodeName(int i) => $"ip-10-0-{i / 250}-{i % 250}.ec2.internal";

    /// <summary>
    /// A Deployment spread over every node by zone and hostname, with hostname anti-affinity: the
    /// constraints whose per-node maps would repeat on every node's group without <see cref="PodSets"/>.
    /// </summary>
    private static PodConstraints Spread(int deployment) => new()
    {
        NodeSelector = new Dictionary<string, string> { ["pool"] = "general" },
        Tolerations = [new Toleration { Key = "dedicated", Operator = "Equal", Value = "web", Effect = "NoSchedule" }],
        Spread =
        [
            new TopologySpread { TopologyKey = "topology.kubernetes.io/zone", MaxSkew = 1, SelfMatch = true, MatchingByNode = Enumerable.Range(0, ScalingSettings.SupportedMaxNodes).ToDictionary(NodeName, _ => 1 + deployment) },
            new TopologySpread { TopologyKey = "kubernetes.io/hostname", MaxSkew = 1, SelfMatch = true, MatchingByNode = Enumerable.Range(0, ScalingSettings.SupportedMaxNodes).ToDictionary(NodeName, _ => 1) },
        ],
        AntiAffinity = [new PodAntiAffinity { SelfMatch = true, Nodes = [.. Enumerable.Range(0, ScalingSettings.SupportedMaxNodes).Select(NodeName)] }],
    };

    private static DecideRequest LargestSupportedObservation()
    {
        // The largest cluster we support, with busy nodes: 30 movable pods in 6 request shapes (3 of them
        // Deployments spread over every node), 3 blockers each, scheduling labels and a taint; and 10,000
        // unschedulable pods of 50 controllers, 20 of them with constraints.
        var nodes = Enumerable.Range(0, ScalingSettings.SupportedMaxNodes).Select(i => Worker(NodeName(i), 0.5) with
        {
            InstanceId = $"i-0{i:x16}",
            MovablePods = Enumerable.Range(1, 6).Select(s => Pods(5, 100 * s, 256 * s) with { Constraints = s <= 3 ? Spread(s) : null, Owner = s <= 3 ? $"web/ReplicaSet/web-{s}" : null }).ToList(),
            Blockers = Enumerable.Range(1, 3).Select(b => new EvictionBlocker { Pod = $"data/postgres-{i}-{b}", Reason = EvictionBlockReason.LocalStorage }).ToList(),
            Labels = new Dictionary<string, string>
            {
                ["topology.kubernetes.io/zone"] = $"us-east-1{(char)('a' + (i % 3))}", ["kubernetes.io/hostname"] = NodeName(i),
                ["node.kubernetes.io/instance-type"] = "m5.large", ["kubernetes.io/arch"] = "amd64", ["pool"] = "general",
            },
            Taints = [new NodeTaint { Key = "dedicated", Value = "web", Effect = "NoSchedule" }],
        });
        var pending = Enumerable.Range(1, 50).Select(s => Pods(200, 10 * s, 32 * s, $"batch/Job/job-{s}") with { Constraints = s <= 20 ? Spread(s) : null }).ToArray();
        return new DecideRequest
        {
            Observation = new Observation
            {
                Trigger = Trigger.Schedule,
                Snapshot = PodSets.Pack(Snapshot(nodes, null, pending)),
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
    public void PodSets_PackThenUnpack_GivesThePolicyTheSameCounts_KeptOncePerDistinctMap()
    {
        var packed = LargestSupportedObservation().Observation.Snapshot;
        var read = JsonSerializer.Deserialize(JsonSerializer.Serialize(packed, NodeFleetJsonContext.Default.ClusterSnapshot), NodeFleetJsonContext.Default.ClusterSnapshot)!;

        var unpacked = PodSets.Unpack(read);

        // 20 zone maps (one per count) and one map of every node once (the hostname spread's and the
        // anti-affinity's node list are the same map) are each kept once; so is each deployment's constraint.
        Assert.Equal(21, packed.PodSets.Count);
        Assert.Equal(20, packed.Constraints.Count);
        var group = unpacked.Nodes[7].MovablePods[1].Constraints!;
        Assert.Equal(3, group.Spread[0].MatchingByNode[NodeName(42)]);
        Assert.Equal(ScalingSettings.SupportedMaxNodes, group.Spread[1].MatchingByNode.Count);
        Assert.Contains(NodeName(99), group.AntiAffinity[0].Nodes);
        Assert.Equal(ScalingSettings.SupportedMaxNodes, unpacked.UnschedulablePods[19].Constraints!.AntiAffinity[0].Nodes.Count);
    }

    [Fact]
    public void PodSets_IndexOutsideTheList_IsInvalidInputNamingThePath()
    {
        var snapshot = Snapshot(Workers(1), null, Pods(1, 100, 100) with
        {
            ConstraintsId = 0,
        }) with
        {
            Constraints = [new PodConstraints { Spread = [new TopologySpread { TopologyKey = "kubernetes.io/hostname", MaxSkew = 1, PodSet = 4 }] }],
        };

        var error = Assert.Throws<NodeFleet.Core.Errors.InvalidInputException>(() => PodSets.Unpack(snapshot));

        Assert.Contains("$.observation.snapshot.constraints[0].spread[0].podSet: 4 is not an index", error.Message, StringComparison.Ordinal);
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

        // Constraints travel packed: compared as Decide reads them.
        static DecideRequest Unpacked(DecideRequest r) => r with { Observation = r.Observation with { Snapshot = PodSets.Unpack(r.Observation.Snapshot) } };
        Assert.Equivalent(Unpacked(observation), Unpacked(readObservation!), strict: true);
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
