using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Serialization;

namespace NodeFleet.ColdStart;

/// <summary>Invokes one step in a fresh process: its response.</summary>
internal delegate Task<string> Invoke(string step, string request);

/// <summary>
/// The path a tick takes when pods wait for room (the Launch route), with every step's request
/// built from the real responses of the steps before it, as the state machine's Parameters build
/// them, so each first invocation does its real work against the loopback backends. Between
/// LaunchNodes and CheckNodesReady the parent waits, as the Wait state does, until the instances
/// have joined. DrainNode Start runs on a worker of the starting workload and TerminateNode on the
/// launched instances, so that each path leaves the fleet as it found it (the reset does the rest).
/// </summary>
internal static class Paths
{
    public static readonly string[] Order = ["CollectMetrics", "Decide", "AcquireLock", "LaunchNodes", "CheckNodesReady", "DrainNode", "TerminateNode", "UpdateState", "Notify"];

    public static Task RunAsync(RequestShape shape, string executionId, Bench bench, Invoke invoke, CancellationToken cancel) => shape switch
    {
        RequestShape.StepRequests => StepRequestsAsync(executionId, bench, invoke, cancel),
        RequestShape.WholeState => WholeStateAsync(executionId, bench, invoke, cancel),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
    };

    /// <summary>EventBridge's scheduled event, the execution input of a tick.</summary>
    public static JsonElement ScheduledEvent() => JsonSerializer.SerializeToElement(new Dictionary<string, object>
    {
        ["version"] = "0",
        ["id"] = Guid.NewGuid().ToString(),
        ["detail-type"] = "Scheduled Event",
        ["source"] = "aws.events",
        ["account"] = "123456789012",
        ["time"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        ["region"] = "us-east-1",
        ["resources"] = new[] { "arn:aws:events:us-east-1:123456789012:rule/nodefleet-e2e-tick" },
        ["detail"] = new Dictionary<string, object>(),
    });

    /// <summary>Today's steps: each reads its own request (functions/NodeFleet.Core/Contracts/StepRequests.cs).</summary>
    private static async Task StepRequestsAsync(string executionId, Bench bench, Invoke invoke, CancellationToken cancel)
    {
        var json = NodeFleetJsonContext.Default;
        var observation = Read(await invoke("CollectMetrics", Write(new CollectMetricsRequest { Event = ScheduledEvent() }, json.CollectMetricsRequest)), json.Observation);
        var decision = Read(await invoke("Decide", Write(new DecideRequest { Observation = observation }, json.DecideRequest)), json.Decision);
        if (decision.Route != WorkflowRoute.Launch)
        {
            throw new NotLaunchingException(decision.Reason);
        }

        var lease = Read(await invoke("AcquireLock", Write(new AcquireLockRequest { ExecutionId = executionId, Route = decision.Route, Cooldown = decision.Cooldown }, json.AcquireLockRequest)), json.LockResult);
        if (!lease.Acquired)
        {
            throw new InvalidOperationException($"AcquireLock refused the lease: {lease.RefusedBecause}");
        }

        var launch = Read(await invoke("LaunchNodes", Write(new LaunchNodesRequest { ExecutionId = executionId, NodesToAdd = decision.NodesToAdd, Lock = lease }, json.LaunchNodesRequest)), json.LaunchOutcome);
        var instances = launch.Instances.Select(i => i.InstanceId).ToList();
        await bench.WaitForNodesAsync(instances, TimeSpan.FromSeconds(30), cancel);
        var readiness = Read(await invoke("CheckNodesReady", Write(new CheckNodesReadyRequest { Launch = launch }, json.CheckNodesReadyRequest)), json.ReadinessReport);
        await invoke("DrainNode", Write(new DrainRequest { Action = DrainAction.Start, Node = bench.DrainedWorker, Lock = lease }, json.DrainRequest));
        await invoke("TerminateNode", Write(new TerminateRequest { InstanceIds = instances, Lock = lease }, json.TerminateRequest));
        var recorded = Read(await invoke("UpdateState", Write(new UpdateStateRequest { Decision = decision, Lock = lease, Launch = launch, Readiness = readiness }, json.UpdateStateRequest)), json.RecordResult);
        await invoke("Notify", Write(new NotifyRequest { Decision = decision, Recorded = recorded, Launch = launch }, json.NotifyRequest));
    }

    /// <summary>
    /// The steps before issue 10: CollectMetrics reads the execution input, the others the whole
    /// workflow state (version 1) that the state machine grew slot by slot, as that commit's ASL did
    /// (Decide's selected result replaced the state; a Pass state named the outcome).
    /// </summary>
    private static async Task WholeStateAsync(string executionId, Bench bench, Invoke invoke, CancellationToken cancel)
    {
        var observation = Parse(await invoke("CollectMetrics", ScheduledEvent().GetRawText()));
        var decision = Parse(await invoke("Decide", new JsonObject
        {
            ["version"] = 1,
            ["trigger"] = observation["trigger"]?.DeepClone(),
            ["snapshot"] = observation["snapshot"]?.DeepClone(),
            ["fleet"] = observation["fleet"]?.DeepClone(),
        }.ToJsonString()));
        if (decision["action"]?.GetValue<string>() != "ScaleUp" || decision["dryRun"]?.GetValue<bool>() == true)
        {
            throw new NotLaunchingException(decision["reason"]?.GetValue<string>() ?? decision.ToJsonString());
        }

        var state = new JsonObject
        {
            ["version"] = 1,
            ["executionId"] = executionId,
            ["decision"] = decision,
            ["waits"] = new JsonObject { ["readySeconds"] = 1, ["drainSeconds"] = 1 },
        };
        var lease = Parse(await invoke("AcquireLock", state.ToJsonString()));
        if (lease["acquired"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException($"AcquireLock refused the lease: {lease.ToJsonString()}");
        }

        state["lock"] = lease;
        var launch = Parse(await invoke("LaunchNodes", state.ToJsonString()));
        state["launch"] = launch;
        var instances = launch["instances"]!.AsArray().Select(i => i!["instanceId"]!.GetValue<string>()).ToList();
        await bench.WaitForNodesAsync(instances, TimeSpan.FromSeconds(30), cancel);
        state["readiness"] = Parse(await invoke("CheckNodesReady", state.ToJsonString()));
        await invoke("DrainNode", new JsonObject { ["action"] = "Start", ["node"] = bench.DrainedWorker }.ToJsonString());
        await invoke("TerminateNode", new JsonObject { ["instanceIds"] = new JsonArray([.. instances.Select(i => JsonValue.Create(i))]) }.ToJsonString());
        state["outcome"] = new JsonObject { ["kind"] = "ScaledUp" };
        await invoke("UpdateState", state.ToJsonString());
        await invoke("Notify", state.ToJsonString());
    }

    private static string Write<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.Serialize(value, type);

    private static T Read<T>(string response, JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(response, type) ?? throw new InvalidOperationException($"a null response where a {typeof(T).Name} was expected");

    private static JsonObject Parse(string response) =>
        JsonNode.Parse(response) as JsonObject ?? throw new InvalidOperationException($"not a JSON object: {response}");
}

/// <summary>Decide chose another route: the starting workload was not what the path needs (e.g. Prometheus had not caught up).</summary>
internal sealed class NotLaunchingException(string reason) : Exception($"Decide did not choose to launch: {reason}");
