using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;
using NSubstitute;
using NSubstitute.Core;

namespace NodeFleet.Functions.Tests;

/// <summary>
/// A generated bad-input suite over every step: from a valid request per step, every place of its
/// JSON is broken in turn (removed, null, the wrong type, a list holding null, a negative or zero
/// number) and the handler is called with ports faked to answer as on a good day. Each call must
/// either succeed (the mutation was harmless: an optional member) or fail with an exception NodeFleet
/// names (a class of its own assemblies, the error name the state machine sees), never a runtime
/// exception such as NullReferenceException; and a refusal as invalid input must come before any
/// side effect (no launch, terminate, cordon, evict, delete, record or publish).
/// </summary>
public class MalformedInputTests
{
    /// <summary>Port calls that change something: none may happen before an input is refused.</summary>
    private static readonly HashSet<string> Effects =
    [
        nameof(IComputeFleet.LaunchAsync), nameof(IComputeFleet.TerminateAsync),
        nameof(IClusterApi.CordonAsync), nameof(IClusterApi.UncordonAsync), nameof(IClusterApi.EvictAsync), nameof(IClusterApi.DeleteNodeAsync),
        nameof(IFleetStateStore.AcquireAsync), nameof(IFleetStateStore.RecordLaunchAsync), nameof(IFleetStateStore.RecordUnavailablePoolsAsync),
        nameof(IFleetStateStore.RecordAndReleaseAsync), nameof(IFleetStateStore.ReleaseAfterLaunchAsync), nameof(IFleetStateStore.RecordLaunchEndAsync),
        nameof(IFleetStateStore.RecordPreemptedAsync), nameof(INotifier.PublishAsync),
    ];

    /// <summary>A step under test: its handler over faked ports, and the calls those ports received.</summary>
    private sealed record Harness(Func<Stream, Task<Stream>> Handle, Func<IEnumerable<ICall>> Calls);

    private static IEnumerable<ICall> CallsOf(params object[] fakes) => fakes.SelectMany(f => f.ReceivedCalls());

    private static readonly Dictionary<string, string> Managed = new() { ["nodefleet.io/managed"] = "true" };

    private static LaunchOutcome Launched => new()
    {
        LaunchId = "launch-tick-42", Requested = 2, StartedAt = States.Now,
        Instances = new[] { "i-1", "i-2" }.Select(id => new LaunchedInstance { InstanceId = id, Zone = "us-east-1a", InstanceType = "t3.large", CapacityType = CapacityType.Spot }).ToList(),
    };

    private static string Json<T>(T request)
    {
        using var reader = new StreamReader(States.Json(request));
        return reader.ReadToEnd();
    }

    private static Stream Utf8(string json) => new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));

    /// <summary>Each step's valid request, as the state machine shapes it, and its handler over ports faked for a good day.</summary>
    private static (string Sample, Func<Harness> Create) Step(string step) => step switch
    {
        "AcquireLock" => (Json(States.LockFor(States.ScaleUp())), () =>
        {
            var store = Substitute.For<IFleetStateStore>();
            store.AcquireAsync(default!, default).ReturnsForAnyArgs(new LeaseGrant(new Lease(States.ExecutionId, 4, States.Now.AddMinutes(20)), null));
            var function = new global::NodeFleet.AcquireLock.Function(store, ScalingSettings.Defaults, TimeSpan.FromMinutes(20), new FixedClock(States.Now), TextWriter.Null);
            return new Harness(function.FunctionHandler, () => CallsOf(store));
        }),
        "CheckNodesReady" => (Json(new CheckNodesReadyRequest { Launch = Launched }), () =>
        {
            var cluster = Substitute.For<IClusterApi>();
            cluster.ListNodesAsync(default, default).ReturnsForAnyArgs([new ClusterNode("ip-1", "aws:///us-east-1a/i-1", true, false, Managed, [], States.Now)]);
            var function = new global::NodeFleet.CheckNodesReady.Function(cluster, TimeSpan.FromMinutes(10), new FixedClock(States.Now.AddMinutes(3)), TextWriter.Null);
            return new Harness(function.FunctionHandler, () => CallsOf(cluster));
        }),
        "CollectMetrics (tick)" => ("""{"event":{"source":"aws.events","detail-type":"Scheduled Event","time":"2026-11-18T12:00:00Z","detail":{}}}""", CollectMetrics),
        "CollectMetrics (spot warning)" => ("""{"event":{"source":"aws.ec2","account":"123456789012","region":"us-east-1","detail-type":"EC2 Spot Instance Interruption Warning","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-0aaa1","instance-action":"terminate"}}}""", CollectMetrics),
        "CollectMetrics (state change)" => ("""{"event":{"source":"aws.ec2","account":"123456789012","region":"us-east-1","detail-type":"EC2 Instance State-change Notification","time":"2026-11-18T12:00:00Z","detail":{"instance-id":"i-0aaa1","state":"shutting-down"}}}""", CollectMetrics),
        "Decide" => ("""
            {"observation":{"trigger":{"kind":"Schedule"},
              "snapshot":{"capturedAt":"2026-11-18T12:00:00Z",
                "utilization":{"cpuNow":0.5,"cpuMinOverUpWindow":0.45,"cpuMaxOverDownWindow":0.55,"memoryNow":0.4,"memoryMaxOverDownWindow":0.42,"memoryUseOfRequests":0.9},
                "nodes":[
                  {"name":"master","instanceId":"i-0m","ready":true,"controlPlane":true,"allocatable":{"cpuMillis":2000,"memoryBytes":4000000000,"pods":110},"requested":{"cpuMillis":1500,"memoryBytes":3000000000,"pods":20}},
                  {"name":"w1","instanceId":"i-0aaa","zone":"us-east-1a","ready":true,"managed":true,"createdAt":"2026-11-18T08:00:00Z","allocatable":{"cpuMillis":2000,"memoryBytes":8053063680,"pods":110},"requested":{"cpuMillis":1000,"memoryBytes":2147483648,"pods":10},
                   "movablePods":[{"cpuMillis":100,"memoryBytes":104857600,"count":2,"owner":"shop/Deployment/api"}],"taints":[{"key":"k","value":"v","effect":"NoSchedule"}]}],
                "unschedulablePods":[{"cpuMillis":500,"memoryBytes":104857600,"count":6,"owner":"shop/Deployment/checkout"}]},
              "fleet":{"inFlight":[{"launchId":"launch-1","startedAt":"2026-11-18T11:59:00Z","instanceIds":["i-new1"]}]}}}
            """, () =>
        {
            var function = new global::NodeFleet.Decide.Function(ScalingSettings.Defaults, new FixedClock(States.Now), TextWriter.Null);
            return new Harness(function.FunctionHandler, () => []);
        }),
        "DrainNode (start)" => ($$"""{"action":"Start","node":"w3","executionId":"exec-1","also":[{"name":"e1","instanceId":"i-e1"}],"lock":{{States.HeldJson}}}""", DrainNode),
        "DrainNode (continue)" => ($$"""{"action":"Continue","node":"w3","executionId":"exec-1","startedAt":"2026-11-18T11:59:00Z","lock":{{States.HeldJson}}}""", DrainNode),
        "LaunchNodes" => ($$"""{"executionId":"{{States.ExecutionId}}","nodesToAdd":2,"lock":{{States.HeldJson}},"zones":[{"zone":"us-east-1a","nodes":1}]}""", () =>
        {
            var fleet = Substitute.For<IComputeFleet>();
            var store = Substitute.For<IFleetStateStore>();
            store.LoadAsync(default).ReturnsForAnyArgs(FleetState.Empty);
            fleet.DescribeManagedAsync(default).ReturnsForAnyArgs([]);
            fleet.LaunchAsync(default!, default).ReturnsForAnyArgs(new LaunchResult(
                [new ManagedInstance("i-1", "us-east-1a", "t3.large", CapacityType.Spot, "pending", "launch-tick-42", States.Now)], []));
            var function = new global::NodeFleet.LaunchNodes.Function(fleet, store, new FixedClock(States.Now), TextWriter.Null, ScalingSettings.Defaults with { ClusterName = "prod" }, TimeSpan.FromMinutes(3));
            return new Harness(function.FunctionHandler, () => CallsOf(fleet, store));
        }),
        "Notify" => (Json(new NotifyRequest
        {
            Decision = States.ScaleDown(),
            Recorded = new RecordResult { Outcome = OutcomeKind.ScaleDownAborted, Summary = "aborted" },
            Drain = new DrainProgress
            {
                Node = "w3", Status = DrainStatus.Aborted, StartedAt = States.Now, Remaining = ["shop/db-0"],
                Blockers = [new EvictionBlocker { Pod = "shop/db-0", Reason = EvictionBlockReason.PodDisruptionBudget, Detail = "shop/db allows 0" }],
            },
            Launch = Launched,
            Error = new StepError { Error = "LaunchFailedException", Cause = "capacity" },
        }), () =>
        {
            var notifier = Substitute.For<INotifier>();
            notifier.PublishAsync(default!, default).ReturnsForAnyArgs("msg-1");
            var function = new global::NodeFleet.Notify.Function(notifier, "prod", new FixedClock(States.Now), TextWriter.Null);
            return new Harness(function.FunctionHandler, () => CallsOf(notifier));
        }),
        "Reconcile" => (Json(new ReconcileRequest
        {
            Plan = new ReconcilePlan
            {
                Orphans = [new OrphanInstance { InstanceId = "i-orphan", Node = "never-ready", LaunchedAt = States.Now.AddHours(-1) }],
                Ghosts = ["ghost"],
                StrayCordons = [new StrayCordon { Node = "w9", CordonedBy = "exec-old", At = States.Now.AddHours(-1) }],
            },
            Lock = States.Held,
        }), () =>
        {
            var fleet = Substitute.For<IComputeFleet>();
            var cluster = Substitute.For<IClusterApi>();
            var store = Substitute.For<IFleetStateStore>();
            cluster.ListNodesAsync(default, default).ReturnsForAnyArgs([
                new ClusterNode("never-ready", "aws:///us-east-1a/i-orphan", false, false, Managed, [], States.Now.AddHours(-1)),
                new ClusterNode("ghost", "aws:///us-east-1a/i-gone", false, false, Managed, [], States.Now.AddHours(-1)),
                new ClusterNode("w9", "aws:///us-east-1a/i-9", true, true, Managed, [], States.Now.AddHours(-1))]);
            fleet.DescribeManagedAsync(default).ReturnsForAnyArgs([]);
            store.LoadAsync(default).ReturnsForAnyArgs(FleetState.Empty);
            var function = new global::NodeFleet.Reconcile.Function(fleet, cluster, store, new FixedClock(States.Now), TextWriter.Null);
            return new Harness(function.FunctionHandler, () => CallsOf(fleet, cluster, store));
        }),
        "TerminateNode" => ($$"""{"instanceIds":["i-1"],"also":[{"name":"w2","instanceId":"i-2"}],"lock":{{States.HeldJson}}}""", () =>
        {
            var fleet = Substitute.For<IComputeFleet>();
            var store = Substitute.For<IFleetStateStore>();
            store.LoadAsync(default).ReturnsForAnyArgs(FleetState.Empty);
            fleet.DescribeManagedAsync(default).ReturnsForAnyArgs([]);
            var function = new global::NodeFleet.TerminateNode.Function(fleet, store, new FixedClock(States.Now), TextWriter.Null);
            return new Harness(function.FunctionHandler, () => CallsOf(fleet, store));
        }),
        "UpdateState" => (Json(new UpdateStateRequest
        {
            Decision = States.ScaleUp(),
            Lock = States.Held,
            Launch = Launched,
            Readiness = new ReadinessReport { Status = ReadinessStatus.AllReady, Deadline = States.Now.AddMinutes(10), Ready = [new JoinedNode { InstanceId = "i-1", Node = "ip-1" }] },
        }), () =>
        {
            var store = Substitute.For<IFleetStateStore>();
            store.RecordLaunchEndAsync(default!, default!, default).ReturnsForAnyArgs(true);
            var function = new global::NodeFleet.UpdateState.Function(store, new FixedClock(States.Now), TextWriter.Null);
            return new Harness(function.FunctionHandler, () => CallsOf(store));
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "no such step in this suite"),
    };

    private static Harness CollectMetrics()
    {
        var metrics = Substitute.For<IMetricsSource>();
        var cluster = Substitute.For<IClusterApi>();
        var instances = Substitute.For<IComputeFleet>();
        var store = Substitute.For<IFleetStateStore>();
        metrics.CollectAsync(default, default).ReturnsForAnyArgs(new ClusterSnapshot
        {
            CapturedAt = States.Now, Utilization = new UtilizationMetrics { CpuNow = 0.4 }, UnschedulablePods = [],
            Nodes = [new NodeInfo { Name = "w1", InstanceId = "i-0aaa1", Ready = true, Managed = true, Allocatable = new Resources(2000, 8L << 30, 110), Requested = new Resources(500, 1L << 30, 3) }],
        });
        cluster.ListNodesAsync(default, default).ReturnsForAnyArgs([new ClusterNode("w1", "aws:///us-east-1a/i-0aaa1", true, false, Managed, [], States.Now.AddHours(-1))]);
        cluster.ListPodsAsync(default).ReturnsForAnyArgs([]);
        cluster.ListDisruptionBudgetsAsync(default).ReturnsForAnyArgs([]);
        cluster.ListPersistentVolumeClaimsAsync(default).ReturnsForAnyArgs([]);
        cluster.ListPersistentVolumesAsync(default).ReturnsForAnyArgs([]);
        cluster.ListDaemonSetsAsync(default).ReturnsForAnyArgs([]);
        instances.DescribeManagedAsync(default).ReturnsForAnyArgs([new ManagedInstance("i-0aaa1", "us-east-1a", "t3.large", CapacityType.Spot, "running", "launch-1", States.Now.AddHours(-1))]);
        store.LoadAsync(default).ReturnsForAnyArgs(FleetState.Empty);
        var function = new global::NodeFleet.CollectMetrics.Function(metrics, cluster, instances, store, new FixedClock(States.Now), TextWriter.Null, "prod", States.Origin);
        return new Harness(function.FunctionHandler, () => CallsOf(metrics, cluster, instances, store));
    }

    private static Harness DrainNode()
    {
        var cluster = Substitute.For<IClusterApi>();
        var store = Substitute.For<IFleetStateStore>();
        cluster.GetNodeAsync(default!, default).ReturnsForAnyArgs(new ClusterNode("w3", "aws:///us-east-1a/i-3", true, false, Managed, [], States.Now));
        cluster.ListPodsOnNodeAsync(default!, default).ReturnsForAnyArgs([]);
        cluster.ListPodsAsync(default).ReturnsForAnyArgs([]);
        cluster.ListDisruptionBudgetsAsync(default).ReturnsForAnyArgs([]);
        cluster.EvictAsync(default!, default!, default).ReturnsForAnyArgs(new EvictionOutcome(EvictionResult.Evicted));
        var function = new global::NodeFleet.DrainNode.Function(cluster, store, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(15), new FixedClock(States.Now), TextWriter.Null);
        return new Harness(function.FunctionHandler, () => CallsOf(cluster, store));
    }

    public static TheoryData<string> Steps() =>
    [
        "AcquireLock", "CheckNodesReady", "CollectMetrics (tick)", "CollectMetrics (spot warning)", "CollectMetrics (state change)",
        "Decide", "DrainNode (start)", "DrainNode (continue)", "LaunchNodes", "Notify", "Reconcile", "TerminateNode", "UpdateState",
    ];

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task FunctionHandler_ValidSample_Succeeds(string step)
    {
        var (sample, create) = Step(step);

        var output = await create().Handle(Utf8(sample));

        Assert.True(output.Length > 0, $"{step}: no result");
    }

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task FunctionHandler_EveryMutationOfItsRequest_SucceedsOrFailsNamedBeforeAnySideEffect(string step)
    {
        var (sample, create) = Step(step);
        var failures = new List<string>();
        var mutations = Mutations(JsonNode.Parse(sample)!).ToList();

        foreach (var (what, json) in mutations)
        {
            var harness = create();
            try
            {
                await harness.Handle(Utf8(json));
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                if (!Named(e.GetType()))
                {
                    failures.Add($"{what}: unnamed {e.GetType().Name}: {e.Message}");
                }
                else if (e is InvalidInputException && harness.Calls().FirstOrDefault(c => Effects.Contains(c.GetMethodInfo().Name)) is { } effect)
                {
                    failures.Add($"{what}: refused as invalid input after {effect.GetMethodInfo().Name}");
                }
            }
        }

        Assert.True(mutations.Count >= 10, $"{step}: only {mutations.Count} mutations");
        Assert.True(failures.Count == 0, $"{step}, {failures.Count} of {mutations.Count} mutations:\n" + string.Join("\n", failures));
    }

    [Theory]
    [InlineData("Decide", "$.observation.snapshot.nodes", "$.observation.snapshot.nodes[0]: null (expected an object)")]
    [InlineData("Decide", "$.observation.snapshot.unschedulablePods", "$.observation.snapshot.unschedulablePods[0]: null (expected an object)")]
    [InlineData("Decide", "$.observation.fleet.inFlight", "$.observation.fleet.inFlight[0]: null (expected an object)")]
    [InlineData("CheckNodesReady", "$.launch.instances", "$.launch.instances[0]: null (expected an object)")]
    [InlineData("Notify", "$.drain.blockers", "$.drain.blockers[0]: null (expected an object)")]
    [InlineData("TerminateNode", "$.instanceIds", "$.instanceIds[0]: null (expected a string)")]
    public async Task FunctionHandler_ListHoldingNull_IsRefusedNamingTheElement(string step, string path, string expected)
    {
        var (sample, create) = Step(step);
        var json = With(JsonNode.Parse(sample)!, path, n => Replace(n, new JsonArray((JsonNode?)null)));
        var harness = create();

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => harness.Handle(Utf8(json)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Calls(), c => Effects.Contains(c.GetMethodInfo().Name));
    }

    [Theory]
    [InlineData("UpdateState", "$.decision.action", "$.decision.action: 123 is not a value of ScalingAction")]
    [InlineData("Notify", "$.drain.blockers[0].reason", "$.drain.blockers[0].reason: 123 is not a value of EvictionBlockReason")]
    [InlineData("Decide", "$.observation.trigger.kind", "$.observation.trigger.kind: 123 is not a value of TriggerKind")]
    public async Task FunctionHandler_EnumAsANumberNoMemberHas_IsRefusedNamingIt(string step, string path, string expected)
    {
        var (sample, create) = Step(step);
        var json = With(JsonNode.Parse(sample)!, path, n => Replace(n, JsonValue.Create(123)));
        var harness = create();

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => harness.Handle(Utf8(json)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StepResults_CollectionsAbsentInJson_ReadAsEmpty()
    {
        var options = NodeFleet.Core.Serialization.NodeFleetJsonContext.Default;

        var readiness = JsonSerializer.Deserialize("""{"status":"AllReady","deadline":"2026-11-18T12:10:00Z"}""", options.ReadinessReport)!;
        var drain = JsonSerializer.Deserialize("""{"node":"w3","status":"Drained","startedAt":"2026-11-18T12:00:00Z"}""", options.DrainProgress)!;
        var launch = JsonSerializer.Deserialize("""{"launchId":"launch-1","requested":1,"startedAt":"2026-11-18T12:00:00Z","instances":[]}""", options.LaunchOutcome)!;
        var result = JsonSerializer.Deserialize("""{"summary":"ok"}""", options.StepResult)!;

        Assert.Equal([0, 0, 0], new[] { readiness.Ready.Count, readiness.Pending.Count, readiness.Overdue.Count });
        Assert.Equal([0, 0, 0], new[] { drain.Remaining.Count, drain.Blockers.Count, drain.Terminating.Count });
        Assert.Empty(launch.Errors);
        Assert.Empty(result.Ids);
    }

    /// <summary>A class of NodeFleet's own assemblies: its name is an error name the state machine can catch or retry.</summary>
    private static bool Named(Type exception) => exception.Assembly.GetName().Name!.StartsWith("NodeFleet.", StringComparison.Ordinal);

    /// <summary>Every place of the document broken in every way that applies, each with a description.</summary>
    private static IEnumerable<(string What, string Json)> Mutations(JsonNode root)
    {
        foreach (var (path, node) in Places(root, "$"))
        {
            if (node.Parent is JsonObject parent)
            {
                var name = node.GetPropertyName();
                yield return ($"{path} removed", With(root, path, n => ((JsonObject)n.Parent!).Remove(name)));
                yield return ($"{path} null", With(root, path, n => ((JsonObject)n.Parent!)[name] = null));
            }
            else if (node.Parent is JsonArray)
            {
                yield return ($"{path} null", With(root, path, n => ((JsonArray)n.Parent!)[n.GetElementIndex()] = null));
            }

            foreach (var (kind, replacement) in WrongTypes(node))
            {
                yield return ($"{path} {kind}", With(root, path, n => Replace(n, replacement())));
            }
        }
    }

    private static IEnumerable<(string Kind, Func<JsonNode?> Replacement)> WrongTypes(JsonNode node)
    {
        switch (node.GetValueKind())
        {
            case JsonValueKind.Object:
                yield return ("as a string", () => JsonValue.Create("x"));
                yield return ("as an array", () => new JsonArray());
                break;
            case JsonValueKind.Array:
                yield return ("as an object", () => new JsonObject());
                yield return ("holding null", () => new JsonArray((JsonNode?)null));
                yield return ("with a null added", () => { var copy = node.DeepClone().AsArray(); copy.Add(null); return copy; });
                break;
            case JsonValueKind.String:
                yield return ("as a number", () => JsonValue.Create(123));
                yield return ("empty", () => JsonValue.Create(""));
                yield return ("as an object", () => new JsonObject());
                break;
            case JsonValueKind.Number:
                yield return ("as a string", () => JsonValue.Create("12"));
                yield return ("negative", () => JsonValue.Create(-1));
                yield return ("zero", () => JsonValue.Create(0));
                yield return ("huge", () => JsonValue.Create(1e300));
                break;
            case JsonValueKind.True or JsonValueKind.False:
                yield return ("as a string", () => JsonValue.Create("true"));
                break;
        }
    }

    private static void Replace(JsonNode node, JsonNode? replacement)
    {
        switch (node.Parent)
        {
            case JsonObject parent:
                parent[node.GetPropertyName()] = replacement;
                break;
            case JsonArray array:
                array[node.GetElementIndex()] = replacement;
                break;
        }
    }

    /// <summary>Every node below the root, with its path (the root itself is the step's whole payload, which StepJson's own tests cover).</summary>
    private static IEnumerable<(string Path, JsonNode Node)> Places(JsonNode node, string path)
    {
        IEnumerable<(string Path, JsonNode? Child)> children = node switch
        {
            JsonObject obj => obj.Select(p => ($"{path}.{p.Key}", p.Value)),
            JsonArray array => array.Select((child, i) => ($"{path}[{i}]", child)),
            _ => [],
        };
        foreach (var (at, child) in children)
        {
            if (child is null)
            {
                continue;
            }

            yield return (at, child);
            foreach (var place in Places(child, at))
            {
                yield return place;
            }
        }
    }

    /// <summary>The document with <paramref name="change"/> applied at <paramref name="path"/> on a fresh copy.</summary>
    private static string With(JsonNode root, string path, Action<JsonNode> change)
    {
        var copy = root.DeepClone();
        var target = Places(copy, "$").First(p => p.Path == path).Node;
        change(target);
        return copy.ToJsonString();
    }
}
