using System.Text;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.TerminateNode;
using NSubstitute;

namespace NodeFleet.Functions.Tests.TerminateNode;

public class FunctionTests
{
    private readonly IComputeFleet fleet = Substitute.For<IComputeFleet>();
    private readonly IFleetStateStore store = Substitute.For<IFleetStateStore>();

    private Function Create() => new(fleet, store, new FixedClock(States.Now), TextWriter.Null);

    [Fact]
    public async Task FunctionHandler_InstanceIds_TerminatesEachOnce()
    {
        var output = StreamJson.Read(await Create().FunctionHandler(StreamJson.From($$"""{"instanceIds":["i-1","i-2","i-1"],"lock":{{States.HeldJson}}}""")));

        await fleet.Received(1).TerminateAsync(Arg.Is<IReadOnlyList<string>>(ids => ids.SequenceEqual(new[] { "i-1", "i-2" })), Arg.Any<CancellationToken>());
        Assert.Equal("Terminated i-1, i-2", output.GetProperty("summary").GetString());
    }

    [Fact]
    public async Task FunctionHandler_ScaleDownWithEmptyWorkers_TerminatesThemWithTheDrainedNode()
    {
        var output = StreamJson.Read(await Create().FunctionHandler(StreamJson.From($$"""{"instanceIds":["i-1"],"also":[{"name":"w2","instanceId":"i-2"},{"name":"w3","instanceId":"i-3"}],"lock":{{States.HeldJson}}}""")));

        await fleet.Received(1).TerminateAsync(Arg.Is<IReadOnlyList<string>>(ids => ids.SequenceEqual(new[] { "i-1", "i-2", "i-3" })), Arg.Any<CancellationToken>());
        Assert.Equal("Terminated i-1, i-2, i-3", output.GetProperty("summary").GetString());
    }

    [Theory]
    [InlineData("""{"instanceIds":["i-1"],"also":[{"name":"w2","instanceId":"w2"}]}""", "$.also")]
    [InlineData("""{"instanceIds":["i-1"],"also":[{"name":"w2","instanceId":"i-2"}],"launch":{"launchId":"launch-1","requested":1,"startedAt":"2026-11-18T12:00:00Z","leaseReleased":true,"instances":[{"instanceId":"i-1","zone":"us-east-1a","instanceType":"t3.large","capacityType":"Spot"}]}}""", "$.also")]
    public async Task FunctionHandler_BadEmptyWorkers_TerminatesNothing(string input, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From(input[..input.LastIndexOf('}')] + ",\"lock\":" + States.HeldJson + "}")));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        await fleet.DidNotReceiveWithAnyArgs().TerminateAsync(default!, default);
    }

    [Fact]
    public async Task FunctionHandler_LeaseLost_TerminatesNothing()
    {
        store.EnsureHeldAsync(Arg.Any<Lease>(), States.Now, Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new LeaseNotHeldException("Fenced: another execution holds the lease")));

        await Assert.ThrowsAsync<LeaseNotHeldException>(() => Create().FunctionHandler(StreamJson.From($$"""{"instanceIds":["i-1"],"lock":{{States.HeldJson}}}""")));

        await fleet.DidNotReceiveWithAnyArgs().TerminateAsync(default!, default);
    }

    [Fact]
    public async Task FunctionHandler_NoLock_TerminatesNothing()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From("""{"instanceIds":["i-1"]}""")));

        Assert.Contains("$.lock", error.Message, StringComparison.Ordinal);
        await fleet.DidNotReceiveWithAnyArgs().TerminateAsync(default!, default);
    }

    [Theory]
    [InlineData("""{"instanceIds":["i-1","node-3"]}""", "'node-3'")]
    [InlineData("""{"instanceIds":[""]}""", "''")]
    [InlineData("""{"instanceIds":"i-1"}""", "$.instanceIds")]
    [InlineData("""{}""", "instanceIds")]
    public async Task FunctionHandler_BadIds_TerminatesNothing(string input, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(new MemoryStream(Encoding.UTF8.GetBytes(input))));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        await fleet.DidNotReceiveWithAnyArgs().TerminateAsync(default!, default);
    }

    private const string ReleasedLaunch = """{"launchId":"launch-1","requested":2,"startedAt":"2026-11-18T12:00:00Z","leaseReleased":true,"instances":[{"instanceId":"i-1","zone":"us-east-1a","instanceType":"t3.large","capacityType":"Spot"},{"instanceId":"i-2","zone":"us-east-1a","instanceType":"t3.large","capacityType":"Spot"}]}""";

    [Fact]
    public async Task FunctionHandler_CleanupOfALaunchThatReleasedTheLease_IsFencedByItsRecordNotTheLease()
    {
        await Create().FunctionHandler(StreamJson.From($$"""{"instanceIds":["i-2"],"lock":{{States.HeldJson}},"launch":{{ReleasedLaunch}}}"""));

        await store.Received(1).EnsureLaunchRecordedAsync("launch-1", Arg.Any<CancellationToken>());
        await store.DidNotReceiveWithAnyArgs().EnsureHeldAsync(default!, default, default);
        await fleet.Received(1).TerminateAsync(Arg.Is<IReadOnlyList<string>>(ids => ids.SequenceEqual(new[] { "i-2" })), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FunctionHandler_CleanupWhoseLaunchRecordIsGone_TerminatesNothing()
    {
        store.EnsureLaunchRecordedAsync("launch-1", Arg.Any<CancellationToken>()).Returns(Task.FromException(new LaunchNotRecordedException("Fenced: launch-1 is no longer in flight")));

        await Assert.ThrowsAsync<LaunchNotRecordedException>(() => Create().FunctionHandler(StreamJson.From($$"""{"instanceIds":["i-2"],"lock":{{States.HeldJson}},"launch":{{ReleasedLaunch}}}""")));

        await fleet.DidNotReceiveWithAnyArgs().TerminateAsync(default!, default);
    }

    [Fact]
    public async Task FunctionHandler_CleanupNamingAnotherLaunchsInstance_IsRefused()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From($$"""{"instanceIds":["i-9"],"lock":{{States.HeldJson}},"launch":{{ReleasedLaunch}}}""")));

        Assert.Contains("i-9 not launched by launch-1", error.Message, StringComparison.Ordinal);
        await fleet.DidNotReceiveWithAnyArgs().TerminateAsync(default!, default);
    }
}
