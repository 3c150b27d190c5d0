using System.Text.Json;
using NodeFleet.Cluster.Kubernetes;
using NodeFleet.Core.Ports;
using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>The Kubernetes adapter against the emulated API over TLS, with kubectl as an independent client.</summary>
public sealed class KubernetesApiTests : IAsyncLifetime
{
    private KubeApiServer server = null!;
    private string kubeconfig = "";

    public async Task InitializeAsync()
    {
        var cluster = new ClusterModel();
        cluster.Add(new TestNode { Name = "master", ProviderId = "k3s://master", Labels = { ["node-role.kubernetes.io/control-plane"] = "true" } });
        cluster.Add(new TestNode { Name = "w1", ProviderId = "aws:///us-east-1a/i-0aaa1", Labels = { ["nodefleet.io/managed"] = "true" } });
        cluster.Add(new TestNode { Name = "w2", ProviderId = "aws:///us-east-1b/i-0bbb2", Labels = { ["nodefleet.io/managed"] = "true" }, Ready = false, Taints = { ("node.kubernetes.io/not-ready", "NoSchedule") } });
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-1", NodeName = "w1", Labels = { ["app"] = "web" }, CpuMillis = 250, MemoryBytes = 256L << 20 });
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-2", NodeName = "w2", Labels = { ["app"] = "web" } });
        cluster.Add(new TestPod { Namespace = "shop", Name = "cache", NodeName = "w1", EmptyDir = true, Annotations = { ["cluster-autoscaler.kubernetes.io/safe-to-evict"] = "false" } });
        cluster.Add(new TestPod { Namespace = "kube-system", Name = "agent-x", NodeName = "w1", OwnerKind = "DaemonSet", OwnerName = "agent" });
        cluster.Add(new TestBudget { Namespace = "shop", Name = "web", MatchLabels = new() { ["app"] = "web" }, MinAvailable = 1 });
        server = await KubeApiServer.StartAsync(cluster);
        kubeconfig = Path.Combine(Path.GetTempPath(), $"kubeconfig-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(kubeconfig, server.Kubeconfig());
    }

    public async Task DisposeAsync()
    {
        File.Delete(kubeconfig);
        await server.DisposeAsync();
    }

    private KubernetesApi Api(string token = KubeApiServer.AdminToken, string? caPem = null) =>
        new(KubernetesConnection.CreateHttpClient(caPem ?? server.Certificates.AuthorityPem, TimeSpan.FromSeconds(5)), server.Url, token);

    private JsonElement Kubectl(params string[] args) =>
        JsonDocument.Parse(Tool.Run("kubectl", ["--kubeconfig", kubeconfig, .. args, "-o", "json"])).RootElement.Clone();

    [Fact]
    public async Task ListNodesAsync_LabelSelector_ReturnsManagedNodesWithReadinessAndProviderId()
    {
        var nodes = await Api().ListNodesAsync("nodefleet.io/managed=true", default);
        var seen = Kubectl("get", "nodes", "-l", "nodefleet.io/managed=true");

        Assert.Equal(["w1", "w2"], nodes.Select(n => n.Name).Order());
        Assert.Equal(nodes.Select(n => n.ProviderId).Order(),
            seen.GetProperty("items").EnumerateArray().Select(n => n.GetProperty("spec").GetProperty("providerID").GetString()).Order());
        var w2 = nodes.Single(n => n.Name == "w2");
        Assert.False(w2.Ready);
        Assert.Equal("aws:///us-east-1b/i-0bbb2", w2.ProviderId);
        Assert.Contains(new Taint("node.kubernetes.io/not-ready", "NoSchedule"), w2.Taints);
    }

    [Fact]
    public async Task GetNodeAsync_Missing_IsNull()
    {
        Assert.Null(await Api().GetNodeAsync("nope", default));
        Assert.NotNull(await Api().GetNodeAsync("w1", default));
    }

    [Fact]
    public async Task SetUnschedulableAsync_Cordon_IsWhatKubectlShows()
    {
        await Api().SetUnschedulableAsync("w1", true, default);
        var cordoned = Kubectl("get", "node", "w1");
        await Api().SetUnschedulableAsync("w1", false, default);
        var uncordoned = Kubectl("get", "node", "w1");

        Assert.True(cordoned.GetProperty("spec").GetProperty("unschedulable").GetBoolean());
        Assert.False(uncordoned.GetProperty("spec").TryGetProperty("unschedulable", out _));
    }

    [Fact]
    public async Task ListPodsOnNodeAsync_FieldSelector_MatchesKubectl()
    {
        var pods = await Api().ListPodsOnNodeAsync("w1", default);
        var seen = Kubectl("get", "pods", "-A", "--field-selector", "spec.nodeName=w1");

        Assert.Equal(
            seen.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("metadata").GetProperty("name").GetString()).Order(),
            pods.Select(p => p.Name).Order());
        var web = pods.Single(p => p.Name == "web-1");
        Assert.Equal((250, 256L << 20, "ReplicaSet"), (web.CpuMillis, web.MemoryBytes, web.OwnerKind));
        var cache = pods.Single(p => p.Name == "cache");
        Assert.True(cache.HasLocalStorage);
        Assert.Equal("false", cache.Annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"]);
        Assert.Equal("DaemonSet", pods.Single(p => p.Name == "agent-x").OwnerKind);
    }

    [Fact]
    public async Task EvictAsync_PdbAllowsNone_Is429NamingTheBudget_ThenGoneIs404()
    {
        // The budget keeps at least one of the two web pods: the first eviction passes, the second is refused.
        var first = await Api().EvictAsync("shop", "web-1", default);
        var second = await Api().EvictAsync("shop", "web-2", default);
        var again = await Api().EvictAsync("shop", "web-1", default);

        Assert.Equal(EvictionResult.Evicted, first.Result);
        Assert.Equal(EvictionResult.BlockedByDisruptionBudget, second.Result);
        Assert.Contains("disruption budget web", second.Detail, StringComparison.Ordinal);
        Assert.Equal(EvictionResult.AlreadyGone, again.Result);
    }

    [Fact]
    public async Task ListDisruptionBudgetsAsync_ReportsSelectorAndAllowedDisruptions()
    {
        var budget = Assert.Single(await Api().ListDisruptionBudgetsAsync(default));

        Assert.Equal(("shop", "web", 1), (budget.Namespace, budget.Name, budget.DisruptionsAllowed));
        Assert.True(budget.Selector.Matches(new Dictionary<string, string> { ["app"] = "web" }));
    }

    [Fact]
    public async Task DeleteNodeAsync_RemovesItAndAgainSucceeds()
    {
        await Api().DeleteNodeAsync("w2", default);
        await Api().DeleteNodeAsync("w2", default);

        Assert.Null(await Api().GetNodeAsync("w2", default));
    }

    [Fact]
    public async Task AnyCall_TokenRejected_NamesTheProblem()
    {
        var error = await Assert.ThrowsAsync<ClusterPermissionException>(() => Api("stolen").ListNodesAsync(null, default));

        Assert.Contains("rejected NodeFleet's token (401)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("stolen", error.Message, StringComparison.Ordinal); // errors reach logs: never the token
    }

    [Fact]
    public async Task Cordon_WithoutPatchPermission_NamesTheMissingRule()
    {
        var error = await Assert.ThrowsAsync<ClusterPermissionException>(() => Api(KubeApiServer.ReadOnlyToken).SetUnschedulableAsync("w1", true, default));

        Assert.Contains("must grant verb 'patch' on resource 'nodes'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCall_ServerCertificateFromAnotherCa_IsRefused()
    {
        using var other = new TestCertificates();

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => Api(caPem: other.AuthorityPem).ListNodesAsync(null, default));

        Assert.Contains("could not be reached", error.Message, StringComparison.Ordinal);
    }
}

public class ClusterSettingsTests
{
    [Fact]
    public void FromEnvironment_NothingSet_ListsEveryMissingSetting()
    {
        var error = Assert.Throws<Core.Settings.InvalidSettingsException>(() => ClusterSettings.FromEnvironment(_ => null, needsPrometheus: true));

        Assert.Contains("NODEFLEET_PROMETHEUS_URL: required", error.Errors);
        Assert.Contains("NODEFLEET_KUBE_API_URL: required", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("NODEFLEET_KUBE_TOKEN_PARAMETER or NODEFLEET_KUBE_TOKEN_FILE", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("NODEFLEET_KUBE_CA_PARAMETER or NODEFLEET_KUBE_CA_FILE", StringComparison.Ordinal));
    }

    [Fact]
    public void FromEnvironment_Malformed_NamesTheVariable()
    {
        var env = new Dictionary<string, string>
        {
            ["NODEFLEET_KUBE_API_URL"] = "ftp://master:6443",
            ["NODEFLEET_KUBE_TOKEN_FILE"] = "/tmp/token",
            ["NODEFLEET_KUBE_CA_PARAMETER"] = "/nodefleet/prod/kube-ca",
            ["NODEFLEET_DRAIN_TIMEOUT"] = "ten minutes",
        };

        var error = Assert.Throws<Core.Settings.InvalidSettingsException>(() => ClusterSettings.FromEnvironment(n => env.GetValueOrDefault(n), needsPrometheus: false));

        Assert.Equal(2, error.Errors.Count);
        Assert.Contains("NODEFLEET_KUBE_API_URL: 'ftp://master:6443' is not an http(s) URL", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("NODEFLEET_DRAIN_TIMEOUT:", StringComparison.Ordinal));
    }
}
