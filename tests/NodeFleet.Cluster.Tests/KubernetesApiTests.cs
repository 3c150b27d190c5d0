using System.Text.Json;
using NodeFleet.Cluster.Kubernetes;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>The Kubernetes adapter (the official client) against the emulated API over TLS, with kubectl as an independent client.</summary>
public sealed class KubernetesApiTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);
    private static readonly CordonMark Mark = new() { ExecutionId = "arn:aws:states:us-east-1:1:execution:nodefleet:exec-1", Reason = CordonReason.ScaleDown, At = Start };
    private readonly ManualClock clock = new(Start);
    private readonly ClusterModel cluster;

    public KubernetesApiTests() => cluster = new ClusterModel(clock);
    private KubeApiServer server = null!;
    private string kubeconfig = "";

    public async Task InitializeAsync()
    {
        cluster.Add(new TestNode { Name = "master", ProviderId = "k3s://master", Labels = { ["node-role.kubernetes.io/control-plane"] = "true" } });
        cluster.Add(new TestNode { Name = "w1", ProviderId = "aws:///us-east-1a/i-0aaa1", Labels = { ["nodefleet.io/managed"] = "true" } });
        cluster.Add(new TestNode { Name = "w2", ProviderId = "aws:///us-east-1b/i-0bbb2", Labels = { ["nodefleet.io/managed"] = "true" }, Ready = false, Taints = { new TestTaint("node.kubernetes.io/not-ready", "NoSchedule") } });
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

    private KubernetesApi Api(string token = KubeApiServer.AdminToken, string? caPem = null, Uri? url = null, TimeSpan? timeout = null, int pageSize = KubernetesApi.DefaultPageSize) =>
        new(KubernetesConnection.CreateClient(url ?? server.Url, token, caPem ?? server.Certificates.AuthorityPem, timeout ?? TimeSpan.FromSeconds(5)),
            timeout ?? TimeSpan.FromSeconds(5), pageSize);

    private JsonElement Kubectl(params string[] args) =>
        JsonDocument.Parse(Tool.Run("kubectl", ["--kubeconfig", kubeconfig, .. args, "-o", "json"])).RootElement.Clone();

    private static IEnumerable<string> Names(JsonElement list) =>
        list.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("metadata").GetProperty("name").GetString()!);

    private void AddPods(int count, string node)
    {
        for (var i = 0; i < count; i++)
        {
            cluster.Add(new TestPod { Namespace = $"team-{i % 3}", Name = $"batch-{i:D3}", NodeName = node });
        }
    }

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
        Assert.Equal(new Core.Contracts.Resources(2000, 8L << 30, 110), w2.Allocatable);
    }

    [Fact]
    public async Task GetNodeAsync_Missing_IsNull()
    {
        Assert.Null(await Api().GetNodeAsync("nope", default));
        Assert.NotNull(await Api().GetNodeAsync("w1", default));
    }

    [Fact]
    public async Task CordonAsync_WithItsMark_IsWhatKubectlShows_AndUncordonRemovesBoth()
    {
        cluster.Node("w1")!.Annotations["operator/note"] = "kept";

        await Api().CordonAsync("w1", Mark, default);
        var cordoned = Kubectl("get", "node", "w1");
        var read = await Api().GetNodeAsync("w1", default);
        await Api().UncordonAsync("w1", default);
        var uncordoned = Kubectl("get", "node", "w1");

        Assert.True(cordoned.GetProperty("spec").GetProperty("unschedulable").GetBoolean());
        var annotations = cordoned.GetProperty("metadata").GetProperty("annotations");
        Assert.Equal(Mark.ExecutionId, annotations.GetProperty("nodefleet.io/cordoned-by").GetString());
        Assert.Equal("ScaleDown", annotations.GetProperty("nodefleet.io/cordon-reason").GetString());
        Assert.Equal("2026-11-18T12:00:00Z", annotations.GetProperty("nodefleet.io/cordoned-at").GetString());
        Assert.Equal(Mark, CordonMark.FromAnnotations(read!.Annotations));
        Assert.False(uncordoned.GetProperty("spec").TryGetProperty("unschedulable", out _));
        var left = uncordoned.GetProperty("metadata").GetProperty("annotations");
        Assert.Equal(["operator/note"], left.EnumerateObject().Select(a => a.Name));
        // One PATCH each: nobody ever sees the cordon without its mark, or the mark without the cordon.
        var patches = server.Requests.Where(r => r.Method == "PATCH").ToList();
        Assert.Equal(2, patches.Count);
        Assert.All(patches, r => Assert.StartsWith("application/merge-patch+json", r.ContentType, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EvictAsync_Accepted_PodIsTerminatingUntilItExits_AsKubectlShows()
    {
        cluster.Add(new TestPod { Namespace = "shop", Name = "slow", NodeName = "w1", TerminationGracePeriodSeconds = 60, ExitAfter = null });

        var outcome = await Api().EvictAsync("shop", "slow", default);
        clock.Advance(TimeSpan.FromSeconds(59));
        var terminating = (await Api().ListPodsOnNodeAsync("w1", default)).Single(p => p.Name == "slow");
        var shown = Kubectl("get", "pod", "-n", "shop", "slow");
        clock.Advance(TimeSpan.FromSeconds(1));
        var after = await Api().ListPodsOnNodeAsync("w1", default);

        Assert.Equal(EvictionResult.Evicted, outcome.Result);
        Assert.Equal(Start.AddSeconds(60), terminating.DeletionTimestamp);
        Assert.Equal(60, terminating.TerminationGracePeriodSeconds);
        Assert.Equal("Running", terminating.Phase);
        Assert.Equal("2026-11-18T12:01:00Z", shown.GetProperty("metadata").GetProperty("deletionTimestamp").GetString());
        Assert.Equal(60, shown.GetProperty("metadata").GetProperty("deletionGracePeriodSeconds").GetInt64());
        Assert.Equal(60, shown.GetProperty("spec").GetProperty("terminationGracePeriodSeconds").GetInt64());
        Assert.DoesNotContain(after, p => p.Name == "slow");
        // Its ReplicaSet's replacement was created at once, unbound, while it still ran.
        Assert.True(cluster.Read((_, pods, _) => pods.Any(p => p.Name == "slow-r" && p.NodeName is null && p.Phase == "Pending")));
        Assert.Empty(cluster.KilledEarly);
    }

    [Fact]
    public async Task KubectlCordon_StrategicMergePatch_IsWhatTheAdapterReads()
    {
        Tool.Run("kubectl", ["--kubeconfig", kubeconfig, "cordon", "w1"]);
        var cordoned = await Api().GetNodeAsync("w1", default);
        Tool.Run("kubectl", ["--kubeconfig", kubeconfig, "uncordon", "w1"]);
        var uncordoned = await Api().GetNodeAsync("w1", default);

        Assert.True(cordoned!.Unschedulable);
        Assert.False(uncordoned!.Unschedulable);
        Assert.Contains(server.Requests, r => r.Method == "PATCH" && r.ContentType?.StartsWith("application/strategic-merge-patch+json", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task CordonAsync_MissingNode_IsRejectedNamingIt()
    {
        var error = await Assert.ThrowsAsync<ClusterRequestRejectedException>(() => Api().CordonAsync("gone", Mark, default));

        Assert.Contains("patch nodes: the API answered HTTP 404: nodes \"gone\" not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListPodsOnNodeAsync_FieldSelector_MatchesKubectl()
    {
        var pods = await Api().ListPodsOnNodeAsync("w1", default);
        var seen = Kubectl("get", "pods", "-A", "--field-selector", "spec.nodeName=w1");

        Assert.Equal(Names(seen).Order(), pods.Select(p => p.Name).Order());
        var web = pods.Single(p => p.Name == "web-1");
        Assert.Equal((250, 256L << 20, "ReplicaSet"), (web.CpuMillis, web.MemoryBytes, web.OwnerKind));
        var cache = pods.Single(p => p.Name == "cache");
        Assert.True(cache.HasLocalStorage);
        Assert.Equal("false", cache.Annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"]);
        Assert.Equal("DaemonSet", pods.Single(p => p.Name == "agent-x").OwnerKind);
    }

    [Fact]
    public async Task ListPodsAsync_MoreThanAPage_ReadsEveryPageOnceAsKubectlChunksDo()
    {
        AddPods(23, "w1");

        var pods = await Api(pageSize: 5).ListPodsAsync(default);
        var seen = Kubectl("get", "pods", "-A", "--chunk-size", "4");
        var lists = server.Requests.Where(r => r.Path == "/api/v1/pods").ToList();

        Assert.Equal(27, pods.Count);
        Assert.Equal(pods.Count, pods.Select(p => $"{p.Namespace}/{p.Name}").Distinct().Count());
        Assert.Equal(Names(seen).Order(), pods.Select(p => p.Name).Order());
        Assert.Equal(6 + 7, lists.Count); // 27 in pages of 5, then kubectl's pages of 4
        Assert.All(lists.Take(6), r => Assert.Equal("5", r.Query["limit"]));
        Assert.Equal(5, lists.Take(6).Count(r => r.Query.ContainsKey("continue")));
        Assert.All(lists.Skip(6), r => Assert.Equal("4", r.Query["limit"]));
    }

    [Fact]
    public async Task ListPodsOnNodeAsync_Paged_SendsTheFieldSelectorWithEveryPage()
    {
        AddPods(12, "w2");

        var pods = await Api(pageSize: 4).ListPodsOnNodeAsync("w2", default);

        Assert.Equal(13, pods.Count); // web-2 and the batch
        Assert.All(pods, p => Assert.Equal("w2", p.NodeName));
        Assert.All(server.Requests.Where(r => r.Path == "/api/v1/pods"), r => Assert.Equal("spec.nodeName=w2", r.Query["fieldSelector"]));
    }

    [Fact]
    public async Task ListNodesAsync_Paged_SendsTheLabelSelectorWithEveryPage()
    {
        for (var i = 0; i < 6; i++)
        {
            cluster.Add(new TestNode { Name = $"x{i}", Labels = { ["nodefleet.io/managed"] = i % 2 == 0 ? "true" : "false" } });
        }

        var nodes = await Api(pageSize: 2).ListNodesAsync("nodefleet.io/managed=true", default);

        Assert.Equal(["w1", "w2", "x0", "x2", "x4"], nodes.Select(n => n.Name).Order());
        Assert.True(server.Requests.Count(r => r.Path == "/api/v1/nodes") >= 3);
    }

    [Fact]
    public async Task ListPodsAsync_ContinueTokenExpiresMidList_IsUnavailableSoTheStepRetries()
    {
        AddPods(10, "w1");
        server.Faults = request =>
        {
            if (request.Query.ContainsKey("continue"))
            {
                cluster.Add(new TestPod { Namespace = "shop", Name = "late", NodeName = "w2" }); // the cluster moves on, etcd compacts
                server.Compact();
            }

            return null;
        };

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => Api(pageSize: 5).ListPodsAsync(default));

        Assert.Contains("continue token expired", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvictAsync_PdbAllowsNone_Is429NamingTheBudget_ThenGoneIs404()
    {
        // The budget keeps at least one of the two web pods: the first eviction passes, the second is refused
        // (a terminating pod is not healthy). Evicting the terminating pod again is accepted without asking the
        // budget, as the API does; once it has exited it is gone.
        var first = await Api().EvictAsync("shop", "web-1", default);
        var second = await Api().EvictAsync("shop", "web-2", default);
        var again = await Api().EvictAsync("shop", "web-1", default);
        clock.Advance(TimeSpan.FromSeconds(1));
        var gone = await Api().EvictAsync("shop", "web-1", default);

        Assert.Equal(EvictionResult.Evicted, first.Result);
        Assert.Equal(EvictionResult.BlockedByDisruptionBudget, second.Result);
        Assert.Contains("disruption budget web", second.Detail, StringComparison.Ordinal);
        Assert.Equal(EvictionResult.Evicted, again.Result);
        Assert.Equal(EvictionResult.AlreadyGone, gone.Result);
    }

    [Fact]
    public async Task EvictAsync_ApiThrottles_IsUnavailableNotABudget()
    {
        server.Faults = request => request.Path.EndsWith("/eviction", StringComparison.Ordinal)
            ? new ApiFault(429, "TooManyRequests", "Too many requests, please try again later.")
            : null;

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => Api().EvictAsync("shop", "web-1", default));

        Assert.Contains("create pods/eviction: the API answered HTTP 429: Too many requests", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListDisruptionBudgetsAsync_ReportsSelectorAndAllowedDisruptions()
    {
        var budget = Assert.Single(await Api().ListDisruptionBudgetsAsync(default));

        Assert.Equal(("shop", "web", 1), (budget.Namespace, budget.Name, budget.DisruptionsAllowed));
        Assert.True(budget.Selector!.Matches(new Dictionary<string, string> { ["app"] = "web" }));
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

    [Theory]
    [InlineData("patch", "nodes")]
    [InlineData("create", "pods/eviction")]
    [InlineData("delete", "nodes")]
    public async Task Call_WithoutThePermission_NamesTheMissingRule(string verb, string resource)
    {
        var api = Api(KubeApiServer.ReadOnlyToken);

        var error = await Assert.ThrowsAsync<ClusterPermissionException>(() => verb switch
        {
            "patch" => api.CordonAsync("w1", Mark, default),
            "create" => api.EvictAsync("shop", "web-1", default),
            _ => api.DeleteNodeAsync("w1", default),
        });

        Assert.Contains($"must grant verb '{verb}' on resource '{resource}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"cannot {verb} resource \"{resource}\"", error.Message, StringComparison.Ordinal); // the API's own words follow
    }

    [Theory]
    [InlineData(500, "InternalError", "Internal error occurred: etcdserver: request timed out")]
    [InlineData(503, "ServiceUnavailable", "the server is currently unable to handle the request")]
    public async Task AnyCall_ServerError_IsUnavailableWithTheApiMessage(int status, string reason, string message)
    {
        server.Faults = _ => new ApiFault(status, reason, message);

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => Api().ListPodsAsync(default));

        Assert.Contains($"list pods: the API answered HTTP {status}: {message}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(200, """{"kind":"PodList","apiVersion":"v1","metadata":{},"items":5}""", "could not be read")]
    [InlineData(200, """{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":5}}]}""", "could not be read")]
    [InlineData(200, """[1,2,3]""", "could not be read")]
    [InlineData(200, """{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"spec":{}}]}""", "metadata.name")]
    [InlineData(500, """["an","array","as","the","error"]""", "the API answered HTTP 500")]
    [InlineData(502, """<html>bad gateway</html>""", "the API answered HTTP 502")]
    public async Task ListPodsAsync_AnswerOfTheWrongShape_IsANamedClusterError(int status, string body, string expected)
    {
        server.Faults = _ => new ApiFault(Status: status, Body: body);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Api().ListPodsAsync(default));

        Assert.StartsWith("NodeFleet.", error.GetType().Assembly.GetName().Name, StringComparison.Ordinal); // an error name the workflow knows
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCall_SlowerThanTheTimeout_IsUnavailable()
    {
        server.Faults = _ => new ApiFault(Delay: TimeSpan.FromSeconds(10));

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => Api(timeout: TimeSpan.FromMilliseconds(500)).GetNodeAsync("w1", default));

        Assert.Contains("did not answer within 0.5 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCall_NothingListening_IsUnavailable()
    {
        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() =>
            Api(url: new Uri($"https://127.0.0.1:{Loopback.FreePort()}/")).ListNodesAsync(null, default));

        Assert.Contains("could not be reached", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCall_ServerCertificateFromAnotherCa_IsRefused()
    {
        using var other = new TestCertificates();

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => Api(caPem: other.AuthorityPem).ListNodesAsync(null, default));

        Assert.Contains("could not be reached", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Requests, r => r.Path == "/api/v1/nodes"); // the token never left
    }

    [Fact]
    public async Task AnyCall_CertificateForAnotherName_IsRefused()
    {
        // Signed by the right CA, but for another host than the address dialled.
        await using var elsewhere = await KubeApiServer.StartAsync(cluster, new TestCertificates(serverName: "kube-apiserver.example"));

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() =>
            Api(caPem: elsewhere.Certificates.AuthorityPem, url: elsewhere.Url).ListNodesAsync(null, default));

        Assert.Contains("could not be reached", error.Message, StringComparison.Ordinal);
        Assert.Empty(elsewhere.Requests);
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
