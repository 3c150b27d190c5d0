using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NodeFleet.Testbed;

/// <summary>
/// The Kubernetes API subset NodeFleet uses, served over HTTPS on a loopback port from a
/// <see cref="ClusterModel"/>: nodes (list with label selector, get, merge-patch, delete), pods
/// (list, field selector spec.nodeName), policy/v1 evictions and PodDisruptionBudgets, and the
/// discovery documents kubectl reads. Requests need a bearer token; a token limited to
/// some verbs gets 403 for the others, worded as the real API server words it.
/// </summary>
public sealed class KubeApiServer : IAsyncDisposable
{
    public const string AdminToken = "nodefleet-admin-token";
    public const string ReadOnlyToken = "nodefleet-readonly-token";

    private readonly WebApplication app;

    private KubeApiServer(WebApplication app, ClusterModel cluster, TestCertificates certificates)
    {
        this.app = app;
        Cluster = cluster;
        Certificates = certificates;
    }

    public ClusterModel Cluster { get; }

    public TestCertificates Certificates { get; }

    public Uri Url { get; private set; } = null!;

    public static async Task<KubeApiServer> StartAsync(ClusterModel cluster)
    {
        var certificates = new TestCertificates();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificates.Server)));
        var app = builder.Build();
        var server = new KubeApiServer(app, cluster, certificates);
        server.Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return server;
    }

    /// <summary>A kubeconfig for kubectl: this server, its CA, and a token.</summary>
    public string Kubeconfig(string token = AdminToken) => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: testbed
          cluster:
            server: {Url.ToString().TrimEnd('/')}
            certificate-authority-data: {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Certificates.AuthorityPem))}
        users:
        - name: nodefleet
          user:
            token: {token}
        contexts:
        - name: testbed
          context:
            cluster: testbed
            user: nodefleet
        current-context: testbed
        """;

    private static readonly Dictionary<string, string[]> Grants = new()
    {
        [AdminToken] = ["get", "list", "patch", "delete", "create"],
        [ReadOnlyToken] = ["get", "list"],
    };

    private void Map(WebApplication web)
    {
        web.MapGet("/api", () => Json(new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1") }));
        web.MapGet("/apis", () => Json(new JsonObject
        {
            ["kind"] = "APIGroupList",
            ["apiVersion"] = "v1",
            ["groups"] = new JsonArray(new JsonObject
            {
                ["name"] = "policy",
                ["versions"] = new JsonArray(new JsonObject { ["groupVersion"] = "policy/v1", ["version"] = "v1" }),
                ["preferredVersion"] = new JsonObject { ["groupVersion"] = "policy/v1", ["version"] = "v1" },
            }),
        }));
        web.MapGet("/api/v1", () => Json(ResourceList("v1",
            ("nodes", "Node", false, "get,list,patch,delete"), ("pods", "Pod", true, "get,list"), ("pods/eviction", "Eviction", true, "create"))));
        web.MapGet("/apis/policy/v1", () => Json(ResourceList("policy/v1", ("poddisruptionbudgets", "PodDisruptionBudget", true, "get,list"))));

        web.MapGet("/api/v1/nodes", (HttpContext c) => Authorized(c, "list", "nodes", () =>
            Json(List("NodeList", Cluster.Read((nodes, _, _) => nodes.Where(n => LabelsMatch(n.Labels, c.Request.Query["labelSelector"])).Select(NodeJson).ToList())))));
        web.MapGet("/api/v1/nodes/{name}", (HttpContext c, string name) => Authorized(c, "get", "nodes", () =>
            Cluster.Node(name) is { } n ? Json(NodeJson(n)) : NotFound("nodes", name)));
        web.MapMethods("/api/v1/nodes/{name}", ["PATCH"], async (HttpContext c, string name) =>
        {
            var patch = JsonNode.Parse(await new StreamReader(c.Request.Body).ReadToEndAsync());
            return Authorized(c, "patch", "nodes", () =>
            {
                var node = patch?["spec"] is JsonObject spec && spec.ContainsKey("unschedulable")
                    ? Cluster.SetUnschedulable(name, spec["unschedulable"]?.GetValue<bool>() ?? false)
                    : Cluster.Node(name);
                return node is null ? NotFound("nodes", name) : Json(NodeJson(node));
            });
        });
        web.MapDelete("/api/v1/nodes/{name}", (HttpContext c, string name) => Authorized(c, "delete", "nodes", () =>
            Cluster.RemoveNode(name) ? Json(new JsonObject { ["kind"] = "Status", ["status"] = "Success" }) : NotFound("nodes", name)));

        web.MapGet("/api/v1/pods", (HttpContext c) => Authorized(c, "list", "pods", () => Json(List("PodList", Pods(c, null)))));
        web.MapGet("/api/v1/namespaces/{ns}/pods", (HttpContext c, string ns) => Authorized(c, "list", "pods", () => Json(List("PodList", Pods(c, ns)))));
        web.MapPost("/api/v1/namespaces/{ns}/pods/{name}/eviction", (HttpContext c, string ns, string name) => Authorized(c, "create", "pods/eviction", () =>
        {
            var (status, message) = Cluster.Evict(ns, name);
            return status switch
            {
                201 => Results.Json(new JsonObject { ["kind"] = "Status", ["status"] = "Success" }, statusCode: 201),
                429 => Status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                    new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "DisruptionBudget", ["message"] = message }) }),
                _ => NotFound("pods", name),
            };
        }));
        web.MapGet("/apis/policy/v1/poddisruptionbudgets", (HttpContext c) => Authorized(c, "list", "poddisruptionbudgets", () =>
            Json(List("PodDisruptionBudgetList", Cluster.Read((_, _, budgets) => budgets.Select(BudgetJson).ToList())))));
    }

    private List<JsonNode> Pods(HttpContext c, string? ns)
    {
        var field = c.Request.Query["fieldSelector"].ToString();
        var node = field.StartsWith("spec.nodeName=", StringComparison.Ordinal) ? field["spec.nodeName=".Length..] : null;
        return Cluster.Read((_, pods, _) => pods
            .Where(p => (ns is null || p.Namespace == ns) && (node is null || p.NodeName == node))
            .Select(PodJson).ToList());
    }

    private static IResult Authorized(HttpContext c, string verb, string resource, Func<IResult> action)
    {
        var header = c.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : "";
        if (!Grants.TryGetValue(token, out var verbs))
        {
            return Status(401, "Unauthorized", "Unauthorized");
        }

        return verbs.Contains(verb)
            ? action()
            : Status(403, "Forbidden", $"{resource} is forbidden: User \"system:serviceaccount:kube-system:nodefleet\" cannot {verb} resource \"{resource}\" in API group \"\" at the cluster scope");
    }

    private static bool LabelsMatch(Dictionary<string, string> labels, string? selector) =>
        string.IsNullOrEmpty(selector) || selector.Split(',').All(term => term.Split('=', 2) switch
        {
            [var key, var value] => labels.TryGetValue(key, out var v) && v == value,
            [var key] => labels.ContainsKey(key),
            _ => false,
        });

    private JsonNode NodeJson(TestNode n)
    {
        var spec = new JsonObject
        {
            ["taints"] = new JsonArray(n.Taints.Select(t => (JsonNode)new JsonObject { ["key"] = t.Key, ["effect"] = t.Effect }).ToArray()),
        };
        if (n.ProviderId is not null)
        {
            spec["providerID"] = n.ProviderId;
        }

        if (n.Unschedulable)
        {
            spec["unschedulable"] = true;
        }

        var resources = new JsonObject { ["cpu"] = $"{n.CpuMillis}m", ["memory"] = $"{n.MemoryBytes}", ["pods"] = $"{n.MaxPods}" };
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject
            {
                ["name"] = n.Name,
                ["uid"] = "node-" + n.Name,
                ["resourceVersion"] = "1",
                ["creationTimestamp"] = n.Created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                ["labels"] = new JsonObject(n.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            },
            ["spec"] = spec,
            ["status"] = new JsonObject
            {
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = n.Ready ? "True" : "False" }),
                ["allocatable"] = resources,
                ["capacity"] = resources.DeepClone(),
            },
        };
    }

    private static JsonNode PodJson(TestPod p)
    {
        var metadata = new JsonObject
        {
            ["name"] = p.Name,
            ["namespace"] = p.Namespace,
            ["uid"] = $"pod-{p.Namespace}-{p.Name}",
            ["resourceVersion"] = "1",
            ["creationTimestamp"] = "2026-11-18T08:00:00Z",
            ["labels"] = new JsonObject(p.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            ["annotations"] = new JsonObject(p.Annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))),
        };
        if (p.OwnerKind is not null)
        {
            metadata["ownerReferences"] = new JsonArray(new JsonObject { ["kind"] = p.OwnerKind, ["name"] = p.OwnerName, ["controller"] = true, ["apiVersion"] = "apps/v1", ["uid"] = "owner" });
        }

        var spec = new JsonObject
        {
            ["containers"] = new JsonArray(new JsonObject
            {
                ["name"] = "app",
                ["image"] = "app:1",
                ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["cpu"] = $"{p.CpuMillis}m", ["memory"] = $"{p.MemoryBytes / (1024 * 1024)}Mi" } },
            }),
            ["volumes"] = p.EmptyDir ? new JsonArray(new JsonObject { ["name"] = "scratch", ["emptyDir"] = new JsonObject() }) : new JsonArray(),
        };
        if (p.NodeName is not null)
        {
            spec["nodeName"] = p.NodeName;
        }

        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = metadata, ["spec"] = spec, ["status"] = new JsonObject { ["phase"] = p.Phase } };
    }

    private JsonNode BudgetJson(TestBudget b)
    {
        var spec = new JsonObject { ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject(b.MatchLabels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))) } };
        if (b.MinAvailable is { } min)
        {
            spec["minAvailable"] = min;
        }

        if (b.MaxUnavailable is { } max)
        {
            spec["maxUnavailable"] = max;
        }

        return new JsonObject
        {
            ["apiVersion"] = "policy/v1",
            ["kind"] = "PodDisruptionBudget",
            ["metadata"] = new JsonObject { ["name"] = b.Name, ["namespace"] = b.Namespace, ["uid"] = "pdb-" + b.Name, ["resourceVersion"] = "1" },
            ["spec"] = spec,
            ["status"] = new JsonObject { ["disruptionsAllowed"] = Cluster.DisruptionsAllowed(b) },
        };
    }

    private static JsonObject List(string kind, IEnumerable<JsonNode> items) => new()
    {
        ["apiVersion"] = kind == "PodDisruptionBudgetList" ? "policy/v1" : "v1",
        ["kind"] = kind,
        ["metadata"] = new JsonObject { ["resourceVersion"] = "1" },
        ["items"] = new JsonArray(items.ToArray()),
    };

    private static JsonObject ResourceList(string groupVersion, params (string Name, string Kind, bool Namespaced, string Verbs)[] resources) => new()
    {
        ["kind"] = "APIResourceList",
        ["apiVersion"] = "v1",
        ["groupVersion"] = groupVersion,
        ["resources"] = new JsonArray(resources.Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Name,
            ["singularName"] = r.Name.TrimEnd('s'),
            ["namespaced"] = r.Namespaced,
            ["kind"] = r.Kind,
            ["verbs"] = new JsonArray(r.Verbs.Split(',').Select(v => (JsonNode)v).ToArray()),
        }).ToArray()),
    };

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json");

    private static IResult NotFound(string resource, string name) => Status(404, "NotFound", $"{resource} \"{name}\" not found");

    private static IResult Status(int code, string reason, string message, JsonObject? details = null) =>
        Results.Text(new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["details"] = details,
            ["code"] = code,
        }.ToJsonString(), "application/json", statusCode: code);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        Certificates.Dispose();
    }
}
