using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>
/// The emulated API refuses what kube-apiserver refuses, with the same Status bodies, so a client
/// that sends the wrong thing fails here as it would against a real cluster.
/// </summary>
public sealed class KubeApiServerTests : IAsyncLifetime
{
    private KubeApiServer server = null!;

    public async Task InitializeAsync()
    {
        var cluster = new ClusterModel();
        cluster.Add(new TestNode { Name = "w1" });
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-1", NodeName = "w1" });
        server = await KubeApiServer.StartAsync(cluster);
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    /// <summary>A plain HTTPS client that trusts the testbed's CA and sends the admin token.</summary>
    private HttpClient Http()
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(server.Certificates.Authority);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate!));
        };
        var http = new HttpClient(handler) { BaseAddress = server.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", KubeApiServer.AdminToken);
        return http;
    }

    [Theory]
    [InlineData("PATCH", "api/v1/nodes/w1", "application/json", """{"spec":{"unschedulable":true}}""", 415, "UnsupportedMediaType", "accepted media types include: application/merge-patch+json")]
    [InlineData("PATCH", "api/v1/nodes/w9", "application/merge-patch+json", """{"spec":{"unschedulable":true}}""", 404, "NotFound", "nodes \"w9\" not found")]
    [InlineData("POST", "api/v1/namespaces/shop/pods/web-1/eviction", "application/json", """{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web-2"}}""", 400, "BadRequest", "name in URL does not match name in Eviction object")]
    [InlineData("POST", "api/v1/namespaces/shop/pods/web-1/eviction", "application/json", """{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web-1","namespace":"other"}}""", 400, "BadRequest", "does not match the namespace sent on the request")]
    [InlineData("POST", "api/v1/namespaces/shop/pods/web-1/eviction", "application/json", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1"}}""", 400, "BadRequest", "no kind \"Pod\"")]
    [InlineData("GET", "api/v1/pods?fieldSelector=spec.restartPolicy%3DAlways", null, null, 400, "BadRequest", "field label not supported: spec.restartPolicy")]
    [InlineData("GET", "api/v1/nodes?labelSelector=a%20%3D%3D%3D%20b", null, null, 400, "BadRequest", "unable to parse requirement")]
    [InlineData("GET", "api/v1/pods?limit=1&continue=not-a-token", null, null, 400, "BadRequest", "continue key is not valid")]
    [InlineData("GET", "api/v1/configmaps", null, null, 404, "NotFound", "the server could not find the requested resource")]
    [InlineData("GET", "api/v1/persistentvolumes?fieldSelector=spec.storageClassName%3Dgp3", null, null, 400, "BadRequest", "field label not supported: spec.storageClassName")]
    [InlineData("GET", "apis/apps/v1/namespaces/shop/daemonsets/nope", null, null, 404, "NotFound", "daemonsets.apps \"nope\" not found")]
    [InlineData("POST", "api/v1/namespaces/shop/pods", "application/yaml", "kind: Pod", 415, "UnsupportedMediaType", "accepted media types include: application/json")]
    [InlineData("POST", "api/v1/namespaces/shop/pods", "application/json", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"other"},"spec":{"containers":[{"name":"a","image":"a"}]}}""", 400, "BadRequest", "does not match the namespace sent on the request")]
    [InlineData("POST", "api/v1/namespaces/shop/pods", "application/json", """{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"a"}],"topologySpreadConstraints":[{"maxSkew":"one","topologyKey":"z","whenUnsatisfiable":"DoNotSchedule"}]}}""", 400, "BadRequest", "cannot be handled as a Pod")]
    [InlineData("POST", "api/v1/namespaces/shop/pods", "application/json", """{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"lots"}}}]}}""", 400, "BadRequest", "quantities must match the regular expression")]
    [InlineData("POST", "api/v1/namespaces/shop/pods", "application/json", """{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[]}}""", 422, "Invalid", "Pod \"p\" is invalid: spec.containers: Required value")]
    [InlineData("POST", "api/v1/namespaces/shop/pods", "application/json", """{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a"}],"initContainers":[{"name":"i","image":"i","restartPolicy":"OnFailure"}]}}""", 422, "Invalid", "Pod \"p\" is invalid: [spec.containers[0].image: Required value, spec.initContainers[0].restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\"]")]
    [InlineData("POST", "api/v1/namespaces/shop/pods", "application/json", """{"kind":"Pod","metadata":{"name":"web-1"},"spec":{"containers":[{"name":"a","image":"a"}]}}""", 409, "AlreadyExists", "pods \"web-1\" already exists")]
    public async Task Request_TheApiRefuses_IsAStatusSayingWhy(string method, string path, string? contentType, string? body, int code, string reason, string message)
    {
        using var http = Http();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType!);
        }

        using var response = await http.SendAsync(request);
        var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(code, (int)response.StatusCode);
        Assert.Equal(("Status", code, reason), (status.GetProperty("kind").GetString(), status.GetProperty("code").GetInt32(), status.GetProperty("reason").GetString()));
        Assert.Contains(message, status.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_WithLimit_PagesInKeyOrderWithRemainingCount()
    {
        using var http = Http();
        server.Cluster.Add(new TestPod { Namespace = "a", Name = "z" });
        server.Cluster.Add(new TestPod { Namespace = "a", Name = "b" });

        var first = JsonDocument.Parse(await http.GetStringAsync("api/v1/pods?limit=2")).RootElement;
        var token = first.GetProperty("metadata").GetProperty("continue").GetString();
        var second = JsonDocument.Parse(await http.GetStringAsync($"api/v1/pods?limit=2&continue={Uri.EscapeDataString(token!)}")).RootElement;

        Assert.Equal(["b", "z"], first.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("metadata").GetProperty("name").GetString()));
        Assert.Equal(1, first.GetProperty("metadata").GetProperty("remainingItemCount").GetInt32());
        Assert.Equal(["web-1"], second.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("metadata").GetProperty("name").GetString()));
        Assert.False(second.GetProperty("metadata").TryGetProperty("continue", out _));
    }

    [Fact]
    public void Discovery_ListsTheNewResources_SoKubectlResolvesTheirShortNames()
    {
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"kubeconfig-{Guid.NewGuid():N}");
        File.WriteAllText(kubeconfig, server.Kubeconfig());
        try
        {
            var resources = Tool.Run("kubectl", ["--kubeconfig", kubeconfig, "api-resources", "--no-headers"]).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToDictionary(f => f[0], f => f[1]);

            Assert.Equal(("pv", "pvc", "ds"), (resources["persistentvolumes"], resources["persistentvolumeclaims"], resources["daemonsets"]));
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }
}
