using System.Text.Json;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Settings;
using NodeFleet.Decide;

namespace NodeFleet.Functions.Tests.Decide;

public class FunctionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 30, TimeSpan.Zero);

    private const string Worker = """
        {"name":"w1","instanceId":"i-0aaa","zone":"us-east-1a","ready":true,"managed":true,"createdAt":"2026-11-18T08:00:00Z",
         "allocatable":{"cpuMillis":2000,"memoryBytes":8053063680,"pods":110},
         "requested":{"cpuMillis":1000,"memoryBytes":2147483648,"pods":10}}
        """;

    private const string Master = """
        {"name":"master","instanceId":"i-0m","ready":true,"controlPlane":true,
         "allocatable":{"cpuMillis":2000,"memoryBytes":4000000000,"pods":110},
         "requested":{"cpuMillis":1500,"memoryBytes":3000000000,"pods":20}}
        """;

    private static string Input(string nodes = $"[{Master},{Worker},{Worker2}]", string pending = """[{"cpuMillis":500,"memoryBytes":104857600,"count":6,"owner":"shop/Deployment/checkout"}]""", string fleet = "{}") => $$"""
        {"observation": {
          "trigger": {"kind": "Schedule"},
          "snapshot": {
            "capturedAt": "2026-11-18T12:00:00Z",
            "utilization": {"cpuNow":0.5,"cpuMinOverUpWindow":0.45,"cpuMaxOverDownWindow":0.55,"memoryNow":0.4,"memoryMaxOverDownWindow":0.42},
            "nodes": {{nodes}},
            "unschedulablePods": {{pending}}
          },
          "fleet": {{fleet}},
          "laterStep": {"note": "a part Decide does not know is ignored"}
        }
        }
        """;

    private const string Worker2 = """
        {"name":"w2","instanceId":"i-0bbb","zone":"us-east-1b","ready":true,"managed":true,
         "allocatable":{"cpuMillis":2000,"memoryBytes":8053063680,"pods":110},
         "requested":{"cpuMillis":1000,"memoryBytes":2147483648,"pods":10}}
        """;

    private static (Function Function, StringWriter Log) Create(ScalingSettings? settings = null)
    {
        var log = new StringWriter();
        return (new Function(settings ?? ScalingSettings.Defaults, new FixedClock(Now), log), log);
    }

    [Fact]
    public async Task FunctionHandler_PendingPods_ReturnsScaleUpDecisionJson()
    {
        var (function, _) = Create();

        var output = StreamJson.Read(await function.FunctionHandler(StreamJson.From(Input())));

        Assert.Equal("ScaleUp", output.GetProperty("action").GetString());
        Assert.Equal("PendingPods", output.GetProperty("reasonCode").GetString());
        Assert.Equal(2, output.GetProperty("nodesToAdd").GetInt32());
        Assert.Equal(6, output.GetProperty("figures").GetProperty("unschedulablePods").GetInt32());
        Assert.Equal(Now, output.GetProperty("decidedAt").GetDateTimeOffset());
        Assert.Contains("6 unschedulable pod(s)", output.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FunctionHandler_Decision_WritesOneLogLineThatIsAlsoAnEmfDocument()
    {
        var (function, log) = Create(ScalingSettings.Defaults with { ClusterName = "shop" });

        await function.FunctionHandler(StreamJson.From(Input()));

        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("ScaleUp", root.GetProperty("action").GetString());
        Assert.Equal("shop", root.GetProperty("Cluster").GetString());
        Assert.Equal(2, root.GetProperty("NodesToAdd").GetDouble());
        var directive = root.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0];
        Assert.Equal("NodeFleet", directive.GetProperty("Namespace").GetString());
        Assert.Equal("Cluster", directive.GetProperty("Dimensions")[0][0].GetString());
        var names = directive.GetProperty("Metrics").EnumerateArray().Select(m => m.GetProperty("Name").GetString()).ToList();
        Assert.Contains("UnschedulablePods", names);
        Assert.All(names, n => Assert.True(root.TryGetProperty(n!, out _), $"metric {n} has no value"));
    }

    [Fact]
    public async Task FunctionHandler_InFlightLaunch_IsSubtracted()
    {
        var (function, _) = Create();
        var fleet = """{"inFlight":[{"launchId":"exec-1-launch","startedAt":"2026-11-18T11:59:00Z","instanceIds":["i-0new"]}]}""";

        var output = StreamJson.Read(await function.FunctionHandler(StreamJson.From(Input(fleet: fleet))));

        Assert.Equal(1, output.GetProperty("nodesToAdd").GetInt32());
        Assert.Equal(1, output.GetProperty("figures").GetProperty("launchingWorkers").GetInt32());
    }

    public static TheoryData<string, string> BadInputs() => new()
    {
        { "", "payload is empty" },
        { "null", "JSON null" },
        { "{not json", "Invalid input" },
        { "[1,2]", "Invalid input" },
        { """{"fleet":{}}""", "'observation'" },
        { """{"observation":{"trigger":{"kind":"Schedule"},"fleet":{}}}""", "'snapshot'" },
        { Input().Replace("\"fleet\": {}", "\"fleet\": null", StringComparison.Ordinal), "$.observation.fleet" },
        { Input(nodes: $"[{Worker.Replace("\"ready\":true", "\"ready\":\"yes\"", StringComparison.Ordinal)}]"), "$.observation.snapshot.nodes[0].ready" },
        { Input(nodes: $"[{Worker.Replace("\"name\":\"w1\",", "", StringComparison.Ordinal)}]"), "name" },
        { Input(nodes: $"[{Worker},{Worker}]"), "$.observation.snapshot.nodes[1].name: 'w1' appears more than once" },
        { Input(nodes: $"[{Worker.Replace("\"cpuMillis\":2000", "\"cpuMillis\":-5", StringComparison.Ordinal)}]"), "$.observation.snapshot.nodes[0].allocatable" },
        { Input(nodes: $"[{Worker.Replace("\"capacityType\"", "x", StringComparison.Ordinal).Replace("\"zone\"", "\"capacityType\":\"Reserved\",\"zone\"", StringComparison.Ordinal)}]"), "$.observation.snapshot.nodes[0].capacityType" },
        { Input(pending: """[{"cpuMillis":500,"memoryBytes":1,"count":0}]"""), "$.observation.snapshot.unschedulablePods[0].count" },
        { Input(pending: """[{"cpuMillis":"500m","memoryBytes":1,"count":1}]"""), "$.observation.snapshot.unschedulablePods[0].cpuMillis" },
        { Input().Replace("\"cpuNow\":0.5", "\"cpuNow\":-0.5", StringComparison.Ordinal), "$.observation.snapshot.utilization.cpuNow" },
        { Input(fleet: """{"inFlight":[{"launchId":"","startedAt":"2026-11-18T11:59:00Z","instanceIds":[]}]}"""), "$.observation.fleet.inFlight[0].launchId" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task FunctionHandler_BadInput_ThrowsInvalidInputNamingTheField(string input, string expected)
    {
        var (function, log) = Create();

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => function.FunctionHandler(StreamJson.From(input)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(log.ToString()); // no decision was made or logged
    }

    [Fact]
    public async Task FunctionHandler_OversizedPayload_IsRefusedBeforeParsing()
    {
        var (function, _) = Create();
        var huge = Input().Replace("\"laterStep\":", $"\"padding\":\"{new string('x', 300_000)}\",\"laterStep\":", StringComparison.Ordinal);

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => function.FunctionHandler(StreamJson.From(huge)));

        Assert.Contains("256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ImpossibleSettings_ThrowsInvalidSettings()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => Create(ScalingSettings.Defaults with { MinNodes = 5, MaxNodes = 3 }));

        Assert.Contains("minNodes (5) must not exceed maxNodes (3)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FunctionHandler_StaleSnapshot_UsesTheInjectedClock()
    {
        var log = new StringWriter();
        var function = new Function(ScalingSettings.Defaults, new FixedClock(Now.AddMinutes(10)), log);

        var output = StreamJson.Read(await function.FunctionHandler(StreamJson.From(Input())));

        Assert.Equal("SnapshotStale", output.GetProperty("reasonCode").GetString());
    }

    [Fact]
    public void Handler_HasTheLambdaStreamSignature()
    {
        var method = typeof(Function).GetMethod(nameof(Function.FunctionHandler));

        Assert.NotNull(method);
        Assert.Equal(typeof(Task<Stream>), method.ReturnType);
        Assert.Equal([typeof(Stream)], method.GetParameters().Select(p => p.ParameterType));
        Assert.NotNull(typeof(Function).GetConstructor(Type.EmptyTypes));
    }
}
