using System.Text.Json;
using NodeFleet.Cluster.Kubernetes;
using NodeFleet.Core.Cluster;
using NodeFleet.Core.Contracts;
using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>Drains against the emulated API: budgets honoured, DaemonSets kept, hopeless drains reported.</summary>
public sealed class DrainerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);
    private readonly ClusterModel cluster = new();
    private KubeApiServer server = null!;
    private Drainer drainer = null!;

    public async Task InitializeAsync()
    {
        cluster.Add(new TestNode { Name = "w1", ProviderId = "aws:///us-east-1a/i-0aaa1", Labels = { ["nodefleet.io/managed"] = "true" } });
        cluster.Add(new TestNode { Name = "w2", ProviderId = "aws:///us-east-1a/i-0bbb2", Labels = { ["nodefleet.io/managed"] = "true" } });
        server = await KubeApiServer.StartAsync(cluster);
        var timeout = TimeSpan.FromSeconds(5);
        drainer = new Drainer(new KubernetesApi(KubernetesConnection.CreateClient(server.Url, KubeApiServer.AdminToken, server.Certificates.AuthorityPem, timeout), timeout), TimeSpan.FromMinutes(10));
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    private List<string> PodsOn(string node) => cluster.Read((_, pods, _) => pods.Where(p => p.NodeName == node).Select(p => p.Name).Order().ToList());

    [Fact]
    public async Task Start_EvictsMovablePodsAndKeepsDaemonSets()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "api", NodeName = "w1" });
        cluster.Add(new TestPod { Namespace = "kube-system", Name = "flannel-x", NodeName = "w1", OwnerKind = "DaemonSet" });
        cluster.Add(new TestPod { Namespace = "shop", Name = "done", NodeName = "w1", Phase = "Succeeded", OwnerKind = null });

        var progress = await drainer.RunAsync(new DrainRequest { Action = DrainAction.Start, Node = "w1" }, Now, default);

        Assert.Equal(DrainStatus.Drained, progress.Status);
        Assert.Equal(1, progress.Evicted);
        Assert.Equal(["done", "flannel-x"], PodsOn("w1"));
        Assert.True(cluster.Node("w1")!.Unschedulable);
    }

    [Fact]
    public async Task PodDisruptionBudget_RefusesUntilAllowed_ThenTheDrainFinishes()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-1", NodeName = "w1", Labels = { ["app"] = "web" } });
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-2", NodeName = "w1", Labels = { ["app"] = "web" } });
        cluster.Add(new TestBudget { Namespace = "shop", Name = "web", MatchLabels = new() { ["app"] = "web" }, MinAvailable = 1 });

        var first = await drainer.RunAsync(new DrainRequest { Action = DrainAction.Start, Node = "w1" }, Now, default);
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-3", NodeName = "w2", Labels = { ["app"] = "web" } }); // the replacement runs elsewhere
        var second = await drainer.RunAsync(new DrainRequest { Action = DrainAction.Continue, Node = "w1", StartedAt = first.StartedAt }, Now.AddMinutes(1), default);

        Assert.Equal(DrainStatus.Draining, first.Status);
        var blocker = Assert.Single(first.Blockers);
        Assert.Equal(EvictionBlockReason.PodDisruptionBudget, blocker.Reason);
        Assert.Contains("disruption budget web", blocker.Detail, StringComparison.Ordinal);
        Assert.Equal(DrainStatus.Drained, second.Status);
        Assert.Empty(PodsOn("w1"));
    }

    [Fact]
    public async Task BudgetNeverAllowing_PastTheTimeout_IsOverdue()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "db-0", NodeName = "w1", Labels = { ["app"] = "db" } });
        cluster.Add(new TestBudget { Namespace = "shop", Name = "db", MatchLabels = new() { ["app"] = "db" }, MaxUnavailable = 0 });

        var progress = await drainer.RunAsync(new DrainRequest { Action = DrainAction.Continue, Node = "w1", StartedAt = Now }, Now.AddMinutes(10), default);

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

        var progress = await drainer.RunAsync(new DrainRequest { Action = DrainAction.Start, Node = "w1" }, Now, default);

        Assert.Equal(DrainStatus.Blocked, progress.Status);
        Assert.Equal(reason, Assert.Single(progress.Blockers).Reason);
        Assert.Equal(0, progress.Evicted);
        Assert.Equal(["api", name], PodsOn("w1").Order());
    }

    [Fact]
    public async Task Abort_UncordonsAsKubectlSees()
    {
        await drainer.RunAsync(new DrainRequest { Action = DrainAction.Start, Node = "w2" }, Now, default);

        var progress = await drainer.RunAsync(new DrainRequest { Action = DrainAction.Abort, Node = "w2" }, Now, default);

        Assert.Equal(DrainStatus.Aborted, progress.Status);
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"kubeconfig-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(kubeconfig, server.Kubeconfig());
        using var node = JsonDocument.Parse(Tool.Run("kubectl", ["--kubeconfig", kubeconfig, "get", "node", "w2", "-o", "json"]));
        File.Delete(kubeconfig);
        Assert.False(node.RootElement.GetProperty("spec").TryGetProperty("unschedulable", out _));
    }

    [Fact]
    public async Task Delete_RemovesTheNodeObject()
    {
        var progress = await drainer.RunAsync(new DrainRequest { Action = DrainAction.Delete, Node = "w2" }, Now, default);

        Assert.Equal(DrainStatus.Deleted, progress.Status);
        Assert.Null(cluster.Node("w2"));
    }

    [Fact]
    public async Task Start_NodeAlreadyGone_IsDrained()
    {
        var progress = await drainer.RunAsync(new DrainRequest { Action = DrainAction.Start, Node = "ghost" }, Now, default);

        Assert.Equal(DrainStatus.Drained, progress.Status);
    }
}
