using NodeFleet.Testbed;
using NodeFleet.Aws.DynamoDb;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;

namespace NodeFleet.Aws.Tests;

[Collection(MotoServerGroup.Name)]
public class DynamoDbFleetStateStoreTests(MotoServer moto)
{
    /// <summary>Releases as the failure path does: a Failed outcome stamps no cooldown.</summary>
    private static Task Release(DynamoDbFleetStateStore store, Lease lease) =>
        store.RecordAndReleaseAsync(lease, new ScalingOutcome { Kind = OutcomeKind.Failed, At = Now, Summary = "released" }, default);

    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan UpCooldown = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan DownCooldown = TimeSpan.FromMinutes(10);

    private string table = "";

    private async Task<DynamoDbFleetStateStore> StoreAsync(int historySize = 20)
    {
        table = await moto.CreateTableAsync("state-" + Guid.NewGuid().ToString("N")[..12]);
        return new DynamoDbFleetStateStore(moto.DynamoDb(), table, "prod", historySize);
    }

    private static LeaseRequest Ask(string owner, DateTimeOffset? at = null, CooldownScope cooldown = CooldownScope.None) =>
        new(owner, at ?? Now, Lease, cooldown, UpCooldown, DownCooldown);

    [Fact]
    public async Task AcquireAsync_TwoExecutionsAtOnce_ExactlyOneWins()
    {
        // moto evaluates a condition and applies the update without a lock between them, so two
        // racing writes can both pass; DynamoDB makes each conditional write atomic. The proxy
        // serializes requests to give moto that guarantee; the race itself stays in this test.
        using var serial = new FaultProxy(moto.Url, _ => null);
        using var dynamo = MotoServer.EndpointAt(serial.Url).DynamoDbClient();
        for (var round = 0; round < 20; round++)
        {
            await StoreAsync();
            var store = new DynamoDbFleetStateStore(dynamo, table, "prod");

            var grants = await Task.WhenAll(store.AcquireAsync(Ask("exec-a"), default), store.AcquireAsync(Ask("exec-b"), default));

            Assert.Single(grants, g => g.Acquired);
            var refused = Assert.Single(grants, g => !g.Acquired);
            Assert.StartsWith("held by exec-", refused.RefusedBecause, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AcquireAsync_ExpiredLease_IsTakenOverWithAHigherFence()
    {
        var store = await StoreAsync();
        var first = (await store.AcquireAsync(Ask("exec-dead"), default)).Lease!;

        var beforeExpiry = await store.AcquireAsync(Ask("exec-next", Now + Lease - TimeSpan.FromSeconds(1)), default);
        var afterExpiry = await store.AcquireAsync(Ask("exec-next", Now + Lease + TimeSpan.FromSeconds(1)), default);

        Assert.False(beforeExpiry.Acquired);
        Assert.True(afterExpiry.Acquired);
        Assert.True(afterExpiry.Lease!.Fence > first.Fence);
    }

    [Fact]
    public async Task AcquireAsync_EveryAcquisition_IncreasesTheFence()
    {
        var store = await StoreAsync();
        var fences = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            var lease = (await store.AcquireAsync(Ask($"exec-{i}"), default)).Lease!;
            fences.Add(lease.Fence);
            await Release(store, lease);
        }

        Assert.Equal([1, 2, 3], fences);
    }

    [Fact]
    public async Task RecordAndReleaseAsync_ByAnotherExecution_IsRefusedAndTheLeaseStaysHeld()
    {
        var store = await StoreAsync();
        var held = (await store.AcquireAsync(Ask("exec-owner"), default)).Lease!;

        var error = await Assert.ThrowsAsync<LeaseNotHeldException>(() => Release(store, held with { Owner = "exec-intruder" }));

        Assert.Contains("exec-owner holds it", error.Message, StringComparison.Ordinal);
        Assert.False((await store.AcquireAsync(Ask("exec-third"), default)).Acquired);
    }

    [Fact]
    public async Task RecordAndReleaseAsync_Retried_IsANoOp()
    {
        var store = await StoreAsync();
        var lease = (await store.AcquireAsync(Ask("exec-a"), default)).Lease!;

        await Release(store, lease);
        await Release(store, lease);

        Assert.True((await store.AcquireAsync(Ask("exec-b"), default)).Acquired);
    }

    [Fact]
    public async Task HolderWrites_AfterTakeover_AreRefusedByTheFence()
    {
        var store = await StoreAsync();
        var stale = (await store.AcquireAsync(Ask("exec-slow"), default)).Lease!;
        await store.AcquireAsync(Ask("exec-fast", Now + Lease + TimeSpan.FromMinutes(1)), default);
        var outcome = new ScalingOutcome { Kind = OutcomeKind.ScaledUp, At = Now, Summary = "late" };

        await Assert.ThrowsAsync<LeaseNotHeldException>(() => store.RecordAndReleaseAsync(stale, outcome, default));
        await Assert.ThrowsAsync<LeaseNotHeldException>(() => store.RecordLaunchAsync(stale, new InFlightLaunch { LaunchId = "launch-late", StartedAt = Now, InstanceIds = ["i-late"] }, default));
        Assert.Null((await store.LoadAsync(default)).LastScaleUpAt);
    }

    [Theory]
    [InlineData(CooldownScope.ScaleUp, 4, false)]
    [InlineData(CooldownScope.ScaleUp, 5, true)]
    [InlineData(CooldownScope.None, 1, true)]       // the minimum and pending pods do not wait
    [InlineData(CooldownScope.ScaleDown, 3, false)] // no removal right after a launch
    [InlineData(CooldownScope.ScaleDown, 6, true)]
    public async Task AcquireAsync_AfterAScaleUp_HonoursTheDecisionsCooldown(CooldownScope scope, int minutesLater, bool expected)
    {
        var store = await StoreAsync();
        var lease = (await store.AcquireAsync(Ask("exec-up"), default)).Lease!;
        await store.RecordAndReleaseAsync(lease, new ScalingOutcome { Kind = OutcomeKind.ScaledUp, At = Now, Summary = "up" }, default);

        var grant = await store.AcquireAsync(Ask("exec-next", Now.AddMinutes(minutesLater), scope), default);

        Assert.Equal(expected, grant.Acquired);
        if (!expected)
        {
            Assert.StartsWith("scale-up cooldown runs until", grant.RefusedBecause, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RecordUnavailablePools_KeptAcrossTheReleaseAndExpiredOnesDroppedOnTheNextWrite()
    {
        var store = await StoreAsync();
        var spotA = new Pool("t3.large", "us-east-1a", CapacityType.Spot);
        var onDemandA = new Pool("t3.large", "us-east-1a", CapacityType.OnDemand);
        var lease = (await store.AcquireAsync(Ask("exec-pools"), default)).Lease!;

        await store.RecordUnavailablePoolsAsync(lease, [spotA], Now, TimeSpan.FromMinutes(3), default);
        await store.RecordUnavailablePoolsAsync(lease, [onDemandA], Now.AddMinutes(4), TimeSpan.FromMinutes(3), default);
        await store.RecordAndReleaseAsync(lease, new ScalingOutcome { Kind = OutcomeKind.ScaledUp, At = Now.AddMinutes(4), Summary = "s" }, default);
        var after = await store.LoadAsync(default);

        var pool = Assert.Single(after.UnavailablePools);
        Assert.Equal(("t3.large", "us-east-1a", CapacityType.OnDemand, Now.AddMinutes(7)), (pool.InstanceType, pool.Zone, pool.CapacityType, pool.Until));
    }

    [Fact]
    public async Task RecordUnavailablePools_AfterTakeover_IsRefusedByTheFence()
    {
        var store = await StoreAsync();
        var stale = (await store.AcquireAsync(Ask("exec-slow"), default)).Lease!;
        await store.AcquireAsync(Ask("exec-fast", Now + Lease + TimeSpan.FromMinutes(1)), default);

        await Assert.ThrowsAsync<LeaseNotHeldException>(() => store.RecordUnavailablePoolsAsync(stale, [new Pool("t3.large", "us-east-1a", CapacityType.Spot)], Now, TimeSpan.FromMinutes(3), default));
        Assert.Empty((await store.LoadAsync(default)).UnavailablePools);
    }

    [Fact]
    public async Task RecordLaunchThenRecordAndRelease_TracksInFlightAndCooldownAndHistory()
    {
        var store = await StoreAsync(historySize: 3);
        var launch = new InFlightLaunch { LaunchId = "launch-1", StartedAt = Now, InstanceIds = ["i-1", "i-2"] };
        var lease = (await store.AcquireAsync(Ask("exec-1"), default)).Lease!;

        await store.RecordLaunchAsync(lease, launch, default);
        var during = await store.LoadAsync(default);
        await store.RecordAndReleaseAsync(lease, new ScalingOutcome { Kind = OutcomeKind.ScaledUp, At = Now.AddMinutes(3), Summary = "joined", CompletedLaunches = ["launch-1"] }, default);
        var after = await store.LoadAsync(default);

        Assert.Equal(["i-1", "i-2"], Assert.Single(during.InFlight).InstanceIds);
        Assert.Empty(after.InFlight);
        Assert.Equal(Now.AddMinutes(3), after.LastScaleUpAt);
        Assert.Null(after.LastScaleDownAt);
    }

    [Fact]
    public async Task RecordAndReleaseAsync_AbortedDrain_RemembersTheNodesBackoff_UntilTheNodeIsRemoved()
    {
        var store = await StoreAsync();
        var backoff = new DrainBackoff { Node = "w3", InstanceId = "i-3", At = Now, Reason = "Overdue" };

        var first = (await store.AcquireAsync(Ask("exec-1"), default)).Lease!;
        await store.RecordAndReleaseAsync(first, new ScalingOutcome { Kind = OutcomeKind.ScaleDownAborted, At = Now, Summary = "aborted", DrainAborted = backoff }, default);
        var aborted = await store.LoadAsync(default);
        var second = (await store.AcquireAsync(Ask("exec-2", Now.AddMinutes(30)), default)).Lease!;
        await store.RecordAndReleaseAsync(second, new ScalingOutcome { Kind = OutcomeKind.ScaledDown, At = Now.AddMinutes(30), Summary = "removed", RemovedNodes = ["w3"] }, default);
        var removed = await store.LoadAsync(default);

        Assert.Equal(backoff, Assert.Single(aborted.DrainBackoffs));
        Assert.Empty(removed.DrainBackoffs);
    }

    [Fact]
    public async Task RecordAndReleaseAsync_PodsNoNodeCanHost_RemembersWhoWasTold_UntilTheyAreNoLongerListed()
    {
        var store = await StoreAsync();
        var told = new NoScaleUpPods { Owner = "ml/ReplicaSet/trainer", Count = 3, Reason = NoScaleUpReason.NodeSelector, New = true };

        var first = (await store.AcquireAsync(Ask("exec-1"), default)).Lease!;
        await store.RecordAndReleaseAsync(first, new ScalingOutcome { Kind = OutcomeKind.NoScaleUpReported, At = Now, Summary = "told", NoScaleUp = [told] }, default);
        var remembered = await store.LoadAsync(default);
        var second = (await store.AcquireAsync(Ask("exec-2", Now.AddMinutes(30)), default)).Lease!;
        await store.RecordAndReleaseAsync(second, new ScalingOutcome { Kind = OutcomeKind.ScaledUp, At = Now.AddMinutes(30), Summary = "up", NoScaleUp = [] }, default);
        var forgotten = await store.LoadAsync(default);

        Assert.Equal(new NoScaleUpNotice { Owner = "ml/ReplicaSet/trainer", Reason = NoScaleUpReason.NodeSelector }, Assert.Single(remembered.NoScaleUpNotified));
        Assert.Empty(forgotten.NoScaleUpNotified);
    }

    [Fact]
    public async Task RecordAndReleaseAsync_ManyOutcomes_KeepsOnlyTheNewestHistory()
    {
        var store = await StoreAsync(historySize: 3);
        for (var i = 0; i < 5; i++)
        {
            var lease = (await store.AcquireAsync(Ask($"exec-{i}", Now.AddHours(i)), default)).Lease!;
            await store.RecordAndReleaseAsync(lease, new ScalingOutcome { Kind = OutcomeKind.ScaledDown, At = Now.AddHours(i), Summary = $"run {i}" }, default);
        }

        var item = moto.Cli("dynamodb", "scan", "--table-name", table);
        var history = item.GetProperty("Items")[0].GetProperty("history").GetProperty("S").GetString()!;

        Assert.DoesNotContain("run 1", history, StringComparison.Ordinal);
        Assert.Contains("run 2", history, StringComparison.Ordinal);
        Assert.Contains("run 4", history, StringComparison.Ordinal);
        Assert.Equal(Now.AddHours(4), (await store.LoadAsync(default)).LastScaleDownAt);
    }

    [Fact]
    public async Task RecordAndReleaseAsync_Retried_RecordsOnce()
    {
        var store = await StoreAsync();
        var lease = (await store.AcquireAsync(Ask("exec-1"), default)).Lease!;
        var outcome = new ScalingOutcome { Kind = OutcomeKind.ScaledDown, At = Now, Summary = "drained" };

        await store.RecordAndReleaseAsync(lease, outcome, default);
        await store.RecordAndReleaseAsync(lease, outcome, default);

        Assert.Equal(Now, (await store.LoadAsync(default)).LastScaleDownAt);
    }

    [Fact]
    public async Task LoadAsync_NewTable_IsEmptyState()
    {
        var store = await StoreAsync();

        var state = await store.LoadAsync(default);

        Assert.Equal(FleetState.Empty.InFlight, state.InFlight);
        Assert.Null(state.LastScaleUpAt);
    }

    [Fact]
    public async Task AcquireAsync_Preempting_TakesALiveLeaseAndFencesOutTheOldHolder()
    {
        var store = await StoreAsync();
        var routine = (await store.AcquireAsync(Ask("exec-scale-down"), default)).Lease!;

        var interruption = await store.AcquireAsync(Ask("exec-interruption") with { Preempt = true }, default);

        Assert.True(interruption.Acquired);
        Assert.True(interruption.Lease!.Fence > routine.Fence);
        await Assert.ThrowsAsync<LeaseNotHeldException>(() => Release(store, routine));
        await store.RecordAndReleaseAsync(interruption.Lease, new ScalingOutcome { Kind = OutcomeKind.Replaced, At = Now, Summary = "replaced w2" }, default);
        Assert.Null((await store.LoadAsync(default)).LastScaleUpAt); // a replacement starts no cooldown
    }

    [Theory]
    [InlineData(WorkflowRoute.Drain, true)]
    [InlineData(WorkflowRoute.Launch, false)]
    [InlineData(WorkflowRoute.Reconcile, false)]
    public async Task AcquireAsync_PreemptingADrain_TakesTheLeaseOnlyFromAScaleDownDrain(WorkflowRoute holderRoute, bool expected)
    {
        var store = await StoreAsync();
        var holder = (await store.AcquireAsync(Ask("exec-holder") with { Route = holderRoute }, default)).Lease!;

        var scaleUp = await store.AcquireAsync(Ask("exec-pending-pods") with { Route = WorkflowRoute.Launch, PreemptDrain = true }, default);

        Assert.Equal(expected, scaleUp.Acquired);
        if (expected)
        {
            await Assert.ThrowsAsync<LeaseNotHeldException>(() => store.EnsureHeldAsync(holder, Now, default));
        }
        else
        {
            Assert.StartsWith("held by exec-holder", scaleUp.RefusedBecause, StringComparison.Ordinal);
            await store.EnsureHeldAsync(holder, Now, default);
        }
    }

    [Fact]
    public async Task ReleaseAfterLaunchAsync_ScaleUp_RecordsTheLaunchStampsTheScaleUpAndFreesTheLease()
    {
        var store = await StoreAsync();
        var lease = (await store.AcquireAsync(Ask("exec-1") with { Route = WorkflowRoute.Launch }, default)).Lease!;
        var launch = new InFlightLaunch { LaunchId = "launch-1", StartedAt = Now, InstanceIds = ["i-1"] };

        await store.ReleaseAfterLaunchAsync(lease, launch, "launched 1", default);
        var state = await store.LoadAsync(default);
        var next = await store.AcquireAsync(Ask("exec-2", Now.AddSeconds(30)), default);

        Assert.Equal("launch-1", Assert.Single(state.InFlight).LaunchId);
        Assert.Equal(Now, state.LastScaleUpAt);
        Assert.True(next.Acquired); // the boot holds no lease
        await Assert.ThrowsAsync<LeaseNotHeldException>(() => store.ReleaseAfterLaunchAsync(lease, launch with { LaunchId = "launch-x" }, "again", default));
    }

    [Fact]
    public async Task RecordLaunchEndAsync_WhileItsRecordExists_CompletesItAndStampsTheEnd()
    {
        var store = await StoreAsync();
        var lease = (await store.AcquireAsync(Ask("exec-1"), default)).Lease!;
        await store.ReleaseAfterLaunchAsync(lease, new InFlightLaunch { LaunchId = "launch-1", StartedAt = Now, InstanceIds = ["i-1"] }, "launched 1", default);
        var other = (await store.AcquireAsync(Ask("exec-2", Now.AddSeconds(20)), default)).Lease!;

        var recorded = await store.RecordLaunchEndAsync("launch-1", new ScalingOutcome { Kind = OutcomeKind.ScaledUp, At = Now.AddMinutes(2), Summary = "joined", CompletedLaunches = ["launch-1"] }, default);
        var state = await store.LoadAsync(default);

        Assert.True(recorded);
        Assert.Empty(state.InFlight);
        Assert.Equal(Now.AddMinutes(2), state.LastScaleUpAt);
        await store.EnsureHeldAsync(other, Now.AddMinutes(2), default); // the other execution's lease is untouched
    }

    [Fact]
    public async Task RecordLaunchEndAsync_RecordGone_WritesNothingAndTheFenceRefusesCleanup()
    {
        var store = await StoreAsync();
        var lease = (await store.AcquireAsync(Ask("exec-1"), default)).Lease!;
        await store.ReleaseAfterLaunchAsync(lease, new InFlightLaunch { LaunchId = "launch-1", StartedAt = Now, InstanceIds = ["i-1"] }, "launched 1", default);
        // A later execution's reconcile expired the launch.
        var reconciler = (await store.AcquireAsync(Ask("exec-2", Now.AddMinutes(11)), default)).Lease!;
        await store.RecordAndReleaseAsync(reconciler, new ScalingOutcome { Kind = OutcomeKind.Reconciled, At = Now.AddMinutes(11), Summary = "expired launch-1", CompletedLaunches = ["launch-1"] }, default);

        var recorded = await store.RecordLaunchEndAsync("launch-1", new ScalingOutcome { Kind = OutcomeKind.LaunchFailed, At = Now.AddMinutes(12), Summary = "overdue", CompletedLaunches = ["launch-1"] }, default);

        var state = await store.LoadAsync(default);

        Assert.False(recorded);
        Assert.Empty(state.InFlight);
        Assert.Equal(Now, state.LastScaleUpAt); // the failed boot's end stamped nothing
        await Assert.ThrowsAsync<LaunchNotRecordedException>(() => store.EnsureLaunchRecordedAsync("launch-1", default));
    }

    [Fact]
    public async Task Writes_ConcurrentLaunchEndsAndHolderWrites_LoseNoUpdate()
    {
        // Launches ending without the lease and a holder recording new launches rewrite the same
        // in-flight list at once: the revision makes each read-modify-write land whole or retry.
        using var serial = new FaultProxy(moto.Url, _ => null);
        using var dynamo = MotoServer.EndpointAt(serial.Url).DynamoDbClient();
        await StoreAsync();
        var store = new DynamoDbFleetStateStore(dynamo, table, "prod");
        for (var i = 0; i < 4; i++)
        {
            var lease = (await store.AcquireAsync(Ask($"exec-{i}"), default)).Lease!;
            await store.ReleaseAfterLaunchAsync(lease, new InFlightLaunch { LaunchId = $"old-{i}", StartedAt = Now, InstanceIds = [$"i-old-{i}"] }, "launched", default);
        }

        var holder = (await store.AcquireAsync(Ask("exec-holder"), default)).Lease!;
        var ends = Enumerable.Range(0, 4).Select(i => store.RecordLaunchEndAsync($"old-{i}", new ScalingOutcome { Kind = OutcomeKind.ScaledUp, At = Now, Summary = "joined", CompletedLaunches = [$"old-{i}"] }, default));
        var adds = Enumerable.Range(0, 3).Select(i => store.RecordLaunchAsync(holder, new InFlightLaunch { LaunchId = $"new-{i}", StartedAt = Now, InstanceIds = [$"i-new-{i}"] }, default));

        await Task.WhenAll(ends.Cast<Task>().Concat(adds));
        var state = await store.LoadAsync(default);

        Assert.Equal(["new-0", "new-1", "new-2"], state.InFlight.Select(l => l.LaunchId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RecordPreemptedAsync_TakenOver_AddsHistoryAndLeavesTheNewHoldersLease()
    {
        var store = await StoreAsync();
        var drain = (await store.AcquireAsync(Ask("exec-drain") with { Route = WorkflowRoute.Drain }, default)).Lease!;
        var scaleUp = (await store.AcquireAsync(Ask("exec-up") with { Route = WorkflowRoute.Launch, PreemptDrain = true }, default)).Lease!;

        await store.RecordPreemptedAsync(drain, new ScalingOutcome { Kind = OutcomeKind.DrainPreempted, At = Now, Summary = "preempted" }, default);

        await store.EnsureHeldAsync(scaleUp, Now, default);
        Assert.Null((await store.LoadAsync(default)).LastScaleDownAt);
    }
}
