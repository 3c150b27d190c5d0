using System.Text.Json;
using NodeFleet.Cluster.Kubernetes;
using NodeFleet.Core.Cluster;
using NodeFleet.Core.Contracts;
using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>
/// Drains against the emulated API: budgets honoured, DaemonSets kept, hopeless drains reported,
/// evicted pods waited for until they have exited (or their grace period plus the margin ended),
/// the cordon marked, interruption drains on their own terms.
/// </summary>
public sealed class DrainerTests : IAsyncLifetime
{
    private const string Execution = "arn:aws:states:us-east-1:1:execution:nodefleet:exec-1";
    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(15);
    private readonly ManualClock clock = new(Now);
    private readonly ClusterModel cluster;
    private KubeApiServer server = null!;
    private Drainer drainer = null!;

    public DrainerTests() => cluster = new ClusterModel(clock);

    public async Task InitializeAsync()
    {
        cluster.Add(new TestNode { Name = "w1", ProviderId = "aws:///us-east-1a/i-0aaa1", Labels = { ["nodefleet.io/managed"] = "true" } });
        cluster.Add(new TestNode { Name = "w2", ProviderId = "aws:///us-east-1a/i-0bbb2", Labels = { ["nodefleet.io/managed"] = "true" } });
        server = await KubeApiServer.StartAsync(cluster);
        var timeout = TimeSpan.FromSeconds(5);
        drainer = new Drainer(new KubernetesApi(KubernetesConnection.CreateClient(server.Url, KubeApiServer.AdminToken, server.Certificates.AuthorityPem, timeout), timeout), TimeSpan.FromMinutes(10), Margin);
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    private List<string> PodsOn(string node) => cluster.Read((_, pods, _) => pods.Where(p => p.NodeName == node).Select(p => p.Name).Order().ToList());

    private Task<DrainProgress> Run(DrainAction action, string node = "w1", DateTimeOffset? startedAt = null, InterruptionNotice? interruption = null, string execution = Execution) =>
        drainer.RunAsync(new DrainRequest { Action = action, Node = node, StartedAt = startedAt, ExecutionId = execution, Interruption = interruption }, clock.GetUtcNow(), default);

    private static InterruptionNotice Spot => new() { Kind = TriggerKind.SpotInterruption, NotAfter = Now + InterruptionNotice.SpotWarning };

    private static InterruptionNotice Rebalance => new() { Kind = TriggerKind.Rebalance };

    [Fact]
    public async Task Start_EvictsMovablePodsAndKeepsDaemonSets_DrainedOnceTheEvictedPodExited()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "api", NodeName = "w1" });
        cluster.Add(new TestPod { Namespace = "kube-system", Name = "flannel-x", NodeName = "w1", OwnerKind = "DaemonSet" });
        cluster.Add(new TestPod { Namespace = "shop", Name = "done", NodeName = "w1", Phase = "Succeeded", OwnerKind = null });

        var started = await Run(DrainAction.Start);
        var podsWhileTerminating = PodsOn("w1");
        clock.Advance(TimeSpan.FromSeconds(1));
        var after = await Run(DrainAction.Continue, startedAt: started.StartedAt);

        Assert.Equal(DrainStatus.Terminating, started.Status);
        Assert.Equal(1, started.Evicted);
        var terminating = Assert.Single(started.Terminating);
        Assert.Equal(new TerminatingPod { Pod = "shop/api", Until = Now.AddSeconds(30) + Margin }, terminating);
        Assert.Equal(["api", "done", "flannel-x"], podsWhileTerminating);
        Assert.Equal(DrainStatus.Drained, after.Status);
        Assert.Equal(0, after.Evicted);
        Assert.Equal(["done", "flannel-x"], PodsOn("w1"));
        Assert.True(cluster.Node("w1")!.Unschedulable);
    }

    [Fact]
    public async Task PodIgnoringSigterm_IsWaitedForUntilItsGracePeriodEnds()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "stubborn", NodeName = "w1", TerminationGracePeriodSeconds = 60, ExitAfter = null });

        var started = await Run(DrainAction.Start);
        clock.Advance(TimeSpan.FromSeconds(59));
        var before = await Run(DrainAction.Continue, startedAt: started.StartedAt);
        clock.Advance(TimeSpan.FromSeconds(1));
        var after = await Run(DrainAction.Continue, startedAt: started.StartedAt);

        Assert.Equal(DrainStatus.Terminating, before.Status);
        Assert.Equal(Now.AddSeconds(60) + Margin, Assert.Single(before.Terminating).Until);
        Assert.Equal(DrainStatus.Drained, after.Status);
        Assert.Empty(PodsOn("w1"));
        Assert.Empty(cluster.KilledEarly);
    }

    [Fact]
    public async Task PodStillTerminatingAtTheDrainTimeout_IsOverdue_NotDrained()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "batch", NodeName = "w1", TerminationGracePeriodSeconds = 3600, ExitAfter = null });

        var started = await Run(DrainAction.Start);
        clock.Advance(TimeSpan.FromMinutes(10));
        var progress = await Run(DrainAction.Continue, startedAt: started.StartedAt);

        Assert.Equal(DrainStatus.Overdue, progress.Status);
        // The wait is capped by the drain timeout, and says so.
        Assert.Equal(Now.AddMinutes(10), Assert.Single(progress.Terminating).Until);
    }

    [Fact]
    public async Task PodDisruptionBudget_RefusesUntilAllowed_ThenTheDrainFinishes()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-1", NodeName = "w1", Labels = { ["app"] = "web" } });
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-2", NodeName = "w1", Labels = { ["app"] = "web" } });
        cluster.Add(new TestBudget { Namespace = "shop", Name = "web", MatchLabels = new() { ["app"] = "web" }, MinAvailable = 1 });

        var first = await Run(DrainAction.Start);
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-3", NodeName = "w2", Labels = { ["app"] = "web" } }); // the replacement runs elsewhere
        clock.Advance(TimeSpan.FromMinutes(1));
        var second = await Run(DrainAction.Continue, startedAt: first.StartedAt);
        clock.Advance(TimeSpan.FromSeconds(1));
        var third = await Run(DrainAction.Continue, startedAt: first.StartedAt);

        Assert.Equal(DrainStatus.Draining, first.Status);
        var blocker = Assert.Single(first.Blockers);
        Assert.Equal(EvictionBlockReason.PodDisruptionBudget, blocker.Reason);
        Assert.Contains("disruption budget web", blocker.Detail, StringComparison.Ordinal);
        Assert.Equal(DrainStatus.Terminating, second.Status);
        Assert.Equal(["shop/web-2"], second.Terminating.Select(t => t.Pod));
        Assert.Equal(DrainStatus.Drained, third.Status);
        Assert.Empty(PodsOn("w1"));
    }

    [Fact]
    public async Task BudgetNeverAllowing_PastTheTimeout_IsOverdue()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "db-0", NodeName = "w1", Labels = { ["app"] = "db" } });
        cluster.Add(new TestBudget { Namespace = "shop", Name = "db", MatchLabels = new() { ["app"] = "db" }, MaxUnavailable = 0 });
        clock.Advance(TimeSpan.FromMinutes(10));

        var progress = await Run(DrainAction.Continue, startedAt: Now);

        Assert.Equal(DrainStatus.Overdue, progress.Status);
        Assert.Equal(["shop/db-0"], progress.Remaining);
    }

    [Theory]
    [InlineData("bare", null, false, null, EvictionBlockReason.NoController)]
    [InlineData("scratch", "ReplicaSet", true, null, EvictionBlockReason.LocalStorage)]
    [InlineData("pinned", "ReplicaSet", false, "false", EvictionBlockReason.SafeToEvictFalse)]
    public async Task PodThatMayNeverBeEvicted_IsReportedAtOnceAndNothingIsEvicted(string name, string? owner, bool emptyDir, string? safeToEvict, EvictionBlockReason reason)
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "api", NodeName = "w1" });
        var pod = new TestPod { Namespace = "shop", Name = name, NodeName = "w1", OwnerKind = owner, EmptyDir = emptyDir };
        if (safeToEvict is not null)
        {
            pod.Annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] = safeToEvict;
        }

        cluster.Add(pod);

        var progress = await Run(DrainAction.Start);

        Assert.Equal(DrainStatus.Blocked, progress.Status);
        Assert.Equal(reason, Assert.Single(progress.Blockers).Reason);
        Assert.Equal(0, progress.Evicted);
        Assert.Equal(["api", name], PodsOn("w1").Order());
        Assert.True(cluster.Read((_, pods, _) => pods.All(p => p.DeletionRequestedAt is null)));
    }

    [Fact]
    public async Task Start_MarksTheCordonInTheSamePatch_AbortRemovesTheMarkAsKubectlSees()
    {
        await Run(DrainAction.Start, node: "w2");
        var marked = CordonMark.FromAnnotations(cluster.Node("w2")!.Annotations);
        var patchesAtStart = server.Requests.Count(r => r.Method == "PATCH");

        var progress = await Run(DrainAction.Abort, node: "w2");

        Assert.Equal(new CordonMark { ExecutionId = Execution, Reason = CordonReason.ScaleDown, At = Now }, marked);
        Assert.Equal(1, patchesAtStart);
        Assert.Equal(DrainStatus.Aborted, progress.Status);
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"kubeconfig-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(kubeconfig, server.Kubeconfig());
        using var node = JsonDocument.Parse(Tool.Run("kubectl", ["--kubeconfig", kubeconfig, "get", "node", "w2", "-o", "json"]));
        File.Delete(kubeconfig);
        Assert.False(node.RootElement.GetProperty("spec").TryGetProperty("unschedulable", out _));
        Assert.DoesNotContain(node.RootElement.GetProperty("metadata").GetProperty("annotations").EnumerateObject(), a => a.Name.StartsWith("nodefleet.io/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Abort_NodeSinceMarkedByAnotherExecution_IsLeftCordoned()
    {
        await Run(DrainAction.Start, node: "w2");
        await Run(DrainAction.Start, node: "w2", interruption: Spot, execution: "exec-spot");

        var progress = await Run(DrainAction.Abort, node: "w2");

        Assert.Equal(DrainStatus.Aborted, progress.Status);
        Assert.Contains("exec-spot", progress.Note, StringComparison.Ordinal);
        Assert.True(cluster.Node("w2")!.Unschedulable);
        Assert.Equal("exec-spot", CordonMark.FromAnnotations(cluster.Node("w2")!.Annotations)!.ExecutionId);
    }

    [Fact]
    public async Task SpotWarning_EvictsWhatMayGo_WaitsOnlyUntilEc2TakesTheInstance()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "api", NodeName = "w1", TerminationGracePeriodSeconds = 300, ExitAfter = null });
        cluster.Add(new TestPod { Namespace = "shop", Name = "bare", NodeName = "w1", OwnerKind = null });

        var started = await Run(DrainAction.Start, interruption: Spot);
        clock.Advance(TimeSpan.FromMinutes(1));
        var before = await Run(DrainAction.Continue, startedAt: started.StartedAt, interruption: Spot);
        clock.Advance(TimeSpan.FromMinutes(1));
        var atWarningEnd = await Run(DrainAction.Continue, startedAt: started.StartedAt, interruption: Spot);

        // A pod that may not be evicted does not hold the others back: the instance goes anyway.
        Assert.Equal(1, started.Evicted);
        Assert.Equal(DrainStatus.Draining, started.Status);
        Assert.Equal(CordonReason.Interruption, CordonMark.FromAnnotations(cluster.Node("w1")!.Annotations)!.Reason);
        Assert.Equal(Spot.NotAfter, Assert.Single(before.Terminating).Until);
        Assert.Equal(DrainStatus.Drained, atWarningEnd.Status);
    }

    [Fact]
    public async Task Rebalance_PodABudgetRefuses_KeepsTheNodeAwaitingTheInterruption()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "api", NodeName = "w1" });
        cluster.Add(new TestPod { Namespace = "shop", Name = "db-0", NodeName = "w1", Labels = { ["app"] = "db" } });
        cluster.Add(new TestBudget { Namespace = "shop", Name = "db", MatchLabels = new() { ["app"] = "db" }, MaxUnavailable = 0 });

        var progress = await Run(DrainAction.Start, interruption: Rebalance);

        Assert.Equal(DrainStatus.AwaitingInterruption, progress.Status);
        Assert.Equal(1, progress.Evicted);
        Assert.Equal(["shop/db-0"], progress.Remaining);
        Assert.True(cluster.Node("w1")!.Unschedulable);
        Assert.Equal(new CordonMark { ExecutionId = Execution, Reason = CordonReason.AwaitingInterruption, At = Now }, CordonMark.FromAnnotations(cluster.Node("w1")!.Annotations));
    }

    [Fact]
    public async Task Delete_RemovesTheNodeObject()
    {
        var progress = await Run(DrainAction.Delete, node: "w2");

        Assert.Equal(DrainStatus.Deleted, progress.Status);
        Assert.Null(cluster.Node("w2"));
    }

    [Fact]
    public async Task Start_NodeAlreadyGone_IsDrained()
    {
        var progress = await Run(DrainAction.Start, node: "ghost");

        Assert.Equal(DrainStatus.Drained, progress.Status);
    }
}
