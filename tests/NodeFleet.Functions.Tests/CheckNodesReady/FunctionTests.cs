using NodeFleet.CheckNodesReady;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NSubstitute;

namespace NodeFleet.Functions.Tests.CheckNodesReady;

public class FunctionTests
{
    private readonly IClusterApi cluster = Substitute.For<IClusterApi>();

    private Function Create(DateTimeOffset now) => new(cluster, TimeSpan.FromMinutes(10), new FixedClock(now), TextWriter.Null);

    private static CheckNodesReadyRequest Launched => new()
    {
        Launch = new LaunchOutcome
        {
            LaunchId = "launch-tick-42", Requested = 2, StartedAt = States.Now,
            Instances = new[] { "i-1", "i-2" }.Select(id => new LaunchedInstance { InstanceId = id, Zone = "us-east-1a", InstanceType = "t3.large", CapacityType = CapacityType.Spot }).ToList(),
        },
    };

    [Theory]
    [InlineData(3, "Waiting")]
    [InlineData(10, "Overdue")]
    public async Task FunctionHandler_OneJoined_WaitsUntilTheDeadlineThenReportsOverdue(int minutes, string status)
    {
        cluster.ListNodesAsync(Function.ManagedSelector, Arg.Any<CancellationToken>()).Returns([
            new ClusterNode("ip-1", "aws:///us-east-1a/i-1", true, false, new Dictionary<string, string>(), [], States.Now)]);

        var output = StreamJson.Read(await Create(States.Now.AddMinutes(minutes)).FunctionHandler(States.Json(Launched)));

        Assert.Equal(status, output.GetProperty("status").GetString());
        Assert.Equal("ip-1", output.GetProperty("ready")[0].GetProperty("node").GetString());
        Assert.Equal("i-2", output.GetProperty(status == "Waiting" ? "pending" : "overdue")[0].GetString());
    }

    [Fact]
    public async Task FunctionHandler_NoLaunch_IsInvalidInput()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create(States.Now).FunctionHandler(StreamJson.From("{}")));

        Assert.Contains("'launch'", error.Message, StringComparison.Ordinal);
    }
}
