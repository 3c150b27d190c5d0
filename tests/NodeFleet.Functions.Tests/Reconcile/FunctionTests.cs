using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Reconcile;
using NSubstitute;

namespace NodeFleet.Functions.Tests.Reconcile;

public class FunctionTests
{
    private readonly IComputeFleet fleet = Substitute.For<IComputeFleet>();
    private readonly IClusterApi cluster = Substitute.For<IClusterApi>();
    private readonly IFleetStateStore store = Substitute.For<IFleetStateStore>();

    private Function Create() => new(fleet, cluster, store, new FixedClock(States.Now), TextWriter.Null);

    private static readonly Dictionary<string, string> Managed = new() { ["nodefleet.io/managed"] = "true" };

    private static ClusterNode Node(string name, string instanceId, bool ready, bool cordoned = false, DateTimeOffset? readyChangedAt = null) =>
        new(name, $"aws:///us-east-1a/{instanceId}", ready, cordoned, Managed, [], States.Now.AddHours(-1)) { ReadyChangedAt = readyChangedAt ?? States.Now.AddHours(-1) };

    private static ReconcileRequest Request(ReconcilePlan plan) => new() { Plan = plan, Lock = States.Held };

    [Fact]
    public async Task FunctionHandler_Plan_TerminatesOrphansDeletesTheirNodesAndGhosts()
    {
        cluster.ListNodesAsync(null, Arg.Any<CancellationToken>()).Returns([
            Node("never-ready", "i-orphan", ready: false), Node("ghost", "i-gone", ready: false, readyChangedAt: States.Now.AddMinutes(-5))]);
        var plan = new ReconcilePlan
        {
            Orphans = [new OrphanInstance { InstanceId = "i-orphan", Node = "never-ready", LaunchedAt = States.Now.AddHours(-1) }],
            Ghosts = ["ghost"],
        };

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(Request(plan))));

        await fleet.Received(1).TerminateAsync(Arg.Is<IReadOnlyList<string>>(ids => ids.SequenceEqual(new[] { "i-orphan" })), Arg.Any<CancellationToken>());
        await cluster.Received(1).DeleteNodeAsync("never-ready", Arg.Any<CancellationToken>());
        await cluster.Received(1).DeleteNodeAsync("ghost", Arg.Any<CancellationToken>());
        Assert.Equal(["never-ready", "ghost"], output.GetProperty("deletedNodes").EnumerateArray().Select(n => n.GetString()));
    }

    [Fact]
    public async Task FunctionHandler_OrphanBecameReadySinceDecide_IsLeftAndSaidSo()
    {
        cluster.ListNodesAsync(null, Arg.Any<CancellationToken>()).Returns([Node("late", "i-late", ready: true)]);
        var plan = new ReconcilePlan { Orphans = [new OrphanInstance { InstanceId = "i-late", LaunchedAt = States.Now.AddHours(-1) }] };

        var output = StreamJson.Read(await Create().FunctionHandler(States.Json(Request(plan))));

        await fleet.Received(1).TerminateAsync(Arg.Is<IReadOnlyList<string>>(ids => ids.Count == 0), Arg.Any<CancellationToken>());
        await cluster.DidNotReceiveWithAnyArgs().DeleteNodeAsync(default!, default);
        Assert.Contains("i-late: its node late is Ready now", output.GetProperty("skipped")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FunctionHandler_LeaseLost_TouchesNothing()
    {
        store.EnsureHeldAsync(Arg.Any<Lease>(), States.Now, Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new LeaseNotHeldException("Fenced: an interruption took the lease")));
        var plan = new ReconcilePlan { Ghosts = ["ghost"], Orphans = [new OrphanInstance { InstanceId = "i-1", LaunchedAt = States.Now.AddHours(-1) }] };

        await Assert.ThrowsAsync<LeaseNotHeldException>(() => Create().FunctionHandler(States.Json(Request(plan))));

        Assert.Empty(cluster.ReceivedCalls());
        Assert.Empty(fleet.ReceivedCalls());
    }

    [Fact]
    public async Task FunctionHandler_NoLock_IsInvalidInput()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(StreamJson.From("""{"plan":{"ghosts":["g"]}}""")));

        Assert.Contains("lock", error.Message, StringComparison.Ordinal);
        Assert.Empty(cluster.ReceivedCalls());
    }
}
