using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NodeFleet.Testbed;

/// <summary>
/// What <see cref="KubeApiServer.Faults"/> does to a request: wait <see cref="Delay"/>, then answer a
/// Status error (or, with no <see cref="Status"/>, serve it late); with a <see cref="Body"/>, answer
/// that JSON as it is, under <see cref="Status"/> (200 when 0): a broken or foreign API server.
/// </summary>
public sealed record ApiFault(int Status = 0, string Reason = "", string Message = "", TimeSpan Delay = default, string? Body = null);

/// <summary>One request as the server received it.</summary>
public sealed record ApiRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, string? ContentType);

/// <summary>
/// The Kubernetes API subset NodeFleet uses, served over HTTPS (HTTP/1.1 and HTTP/2) on a loopback
/// port from a <see cref="ClusterModel"/>, with the wire behaviour of kube-apiserver that clients
/// rely on: nodes (list, get, merge and strategic-merge patch, delete), pods (list, get, and create
/// as <c>kubectl create</c> and <c>kubectl apply</c> post them, validated), policy/v1 evictions (the
/// Eviction body checked as the API checks it; graceful: the pod is Terminating, with
/// metadata.deletionTimestamp, until it exits) and PodDisruptionBudgets, PersistentVolumes,
/// PersistentVolumeClaims and DaemonSets (list, get), node annotations, the discovery and OpenAPI
/// documents kubectl reads. Lists are in key order (namespace/name, as etcd keeps them),
/// take label and field selectors, and are paged with <c>limit</c>/<c>continue</c> (tokens expire
/// once <see cref="Compact"/> drops their revision: 410, as after etcd's compaction). Errors are Status objects worded as
/// the API words them. Requests need a bearer token; a token limited to some verbs (or, NodeFleet's,
/// to its ClusterRole's rules) gets 403 for the others.
/// </summary>
public sealed partial class KubeApiServer : IAsyncDisposable
{
    public const string AdminToken = "nodefleet-admin-token";
    public const string ReadOnlyToken = "nodefleet-readonly-token";

    /// <summary>The token NodeFleet's steps get: exactly what its ClusterRole grants (<see cref="NodeFleetRules"/>).</summary>
    public const string NodeFleetToken = "nodefleet-steps-token";
    public const string ServiceAccount = "system:serviceaccount:kube-system:nodefleet";

    /// <summary>NodeFleet's ClusterRole, as scripts/master-user-data.sh applies it: API group, resource, verbs.</summary>
    public static readonly IReadOnlyList<(string Group, string Resource, string[] Verbs)> NodeFleetRules =
    [
        ("", "nodes", ["get", "list", "patch", "delete"]),
        ("", "pods", ["list"]),
        ("", "pods/eviction", ["create"]),
        ("policy", "poddisruptionbudgets", ["list"]),
        ("", "persistentvolumeclaims", ["list"]),
        ("", "persistentvolumes", ["list"]),
        ("apps", "daemonsets", ["list"]),
    ];

    /// <summary>Tokens that may use a verb on every resource.</summary>
    private static readonly Dictionary<string, string[]> Grants = new()
    {
        [AdminToken] = ["get", "list", "patch", "delete", "create"],
        [ReadOnlyToken] = ["get", "list"],
    };

    private static readonly string[] PatchTypes = ["application/merge-patch+json", "application/strategic-merge-patch+json"];
    private static readonly string[] NodeFields = ["metadata.name", "spec.unschedulable"];
    private static readonly string[] PodFields = ["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"];
    private static readonly string[] BudgetFields = ["metadata.name", "metadata.namespace"];

    private readonly WebApplication app;
    private long compactedRevision;

    private KubeApiServer(WebApplication app, ClusterModel cluster, TestCertificates certificates)
    {
        this.app = app;
        Cluster = cluster;
        Certificates = certificates;
    }

    public ClusterModel Cluster { get; }

    public TestCertificates Certificates { get; }

    public Uri Url { get; private set; } = null!;

    /// <summary>Consulted for every request before it is served: a fault to inject, or null to serve it.</summary>
    public Func<ApiRequest, ApiFault?>? Faults { get; set; }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<ApiRequest> Requests { get; } = new();

    /// <param name="certificates">The server's certificates; by default a fresh CA and a certificate for 127.0.0.1 and localhost.</param>
    public static async Task<KubeApiServer> StartAsync(ClusterModel cluster, TestCertificates? certificates = null)
    {
        certificates ??= new TestCertificates();
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

    /// <summary>
    /// As etcd's compaction at the current revision: continue tokens of lists read before the
    /// model's latest change now answer 410 Expired; lists read since stay valid.
    /// </summary>
    public void Compact() => Interlocked.Exchange(ref compactedRevision, Cluster.Revision);

    /// <summary>A kubeconfig for kubectl: this server, its CA, and a token.</summary>
    public string Kubeconfig(string token = AdminToken) => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: testbed
          cluster:
            server: {Url.ToString().TrimEnd('/')}
            certificate-authority-data: {Convert.ToBase64String(Encoding.UTF8.GetBytes(Certificates.AuthorityPem))}
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

    private void Map(WebApplication web)
    {
        web.Use(async (context, next) =>
        {
            var request = new ApiRequest(context.Request.Method, context.Request.Path.Value ?? "",
                context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal), context.Request.ContentType);
            Requests.Enqueue(request);
            if (Faults?.Invoke(request) is { } fault)
            {
                try
                {
                    await Task.Delay(fault.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return; // the client gave up
                }

                if (fault.Body is { } body)
                {
                    context.Response.StatusCode = fault.Status > 0 ? fault.Status : 200;
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync(body);
                    return;
                }

                if (fault.Status > 0)
                {
                    await Status(fault.Status, fault.Reason, fault.Message).ExecuteAsync(context);
                    return;
                }
            }

            await next(context);
        });

        web.MapGet("/api", () => Json(new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1") }));
        web.MapGet("/apis", () => Json(new JsonObject
        {
            ["kind"] = "APIGroupList",
            ["apiVersion"] = "v1",
            ["groups"] = new JsonArray([.. new[] { "apps", "policy" }.Select(g => (JsonNode)new JsonObject
            {
                ["name"] = g,
                ["versions"] = new JsonArray(new JsonObject { ["groupVersion"] = $"{g}/v1", ["version"] = "v1" }),
                ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{g}/v1", ["version"] = "v1" },
            })]),
        }));
        web.MapGet("/api/v1", () => Json(ResourceList("v1",
            ("nodes", "Node", false, "get,list,patch,delete"), ("pods", "Pod", true, "create,get,list"), ("pods/eviction", "Eviction", true, "create"),
            ("persistentvolumes", "PersistentVolume", false, "get,list"), ("persistentvolumeclaims", "PersistentVolumeClaim", true, "get,list"))));
        web.MapGet("/apis/policy/v1", () => Json(ResourceList("policy/v1", ("poddisruptionbudgets", "PodDisruptionBudget", true, "get,list"))));
        web.MapGet("/apis/apps/v1", () => Json(ResourceList("apps/v1", ("daemonsets", "DaemonSet", true, "get,list"))));
        MapOpenApi(web);

        web.MapGet("/api/v1/nodes", (HttpContext c) => Authorized(c, "list", "", "nodes", null, null) ?? List(c, "NodeList", "v1", NodeFields,
            o => o.Nodes, n => n.Name, n => n.Labels, NodeField, NodeJson));
        web.MapGet("/api/v1/nodes/{name}", (HttpContext c, string name) => Authorized(c, "get", "", "nodes", null, name) ??
            (Cluster.Node(name) is { } n ? Json(NodeJson(n)) : NotFound("", "nodes", name)));
        web.MapMethods("/api/v1/nodes/{name}", ["PATCH"], async (HttpContext c, string name) =>
        {
            if (Authorized(c, "patch", "", "nodes", null, name) is { } refused)
            {
                return refused;
            }

            if (!PatchTypes.Contains(c.Request.ContentType?.Split(';')[0].Trim(), StringComparer.OrdinalIgnoreCase))
            {
                return Status(415, "UnsupportedMediaType",
                    $"the body of the request was in an unknown format - accepted media types include: {string.Join(", ", PatchTypes)}");
            }

            if (await ReadJsonAsync(c) is not JsonObject patch)
            {
                return Status(400, "BadRequest", "the patch is not a JSON object");
            }

            // Both patch types merge a map and a scalar the same way: a value sets the key, null removes it
            // (spec.unschedulable: true cordons, null or false uncordons). One PATCH is one change.
            if (patch["metadata"]?["annotations"] is { } given && given is not JsonObject)
            {
                return Status(400, "BadRequest", "metadata.annotations must be an object of strings");
            }

            var annotations = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var (key, value) in patch["metadata"]?["annotations"] as JsonObject ?? [])
            {
                if (value is not null && value.GetValueKind() != JsonValueKind.String)
                {
                    return Status(400, "BadRequest", $"metadata.annotations.{key}: the value must be a string or null");
                }

                annotations[key] = value?.GetValue<string>();
            }

            bool? unschedulable = patch["spec"] is JsonObject spec && spec.ContainsKey("unschedulable") ? spec["unschedulable"]?.GetValue<bool>() ?? false : null;
            var node = Cluster.Patch(name, annotations, unschedulable);
            return node is null ? NotFound("", "nodes", name) : Json(NodeJson(node));
        });
        web.MapDelete("/api/v1/nodes/{name}", (HttpContext c, string name) => Authorized(c, "delete", "", "nodes", null, name) ??
            (Cluster.RemoveNode(name, "its Node object was deleted")
                ? Json(new JsonObject
                {
                    ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success",
                    ["details"] = new JsonObject { ["name"] = name, ["kind"] = "nodes", ["uid"] = "node-" + name },
                })
                : NotFound("", "nodes", name)));

        web.MapGet("/api/v1/pods", (HttpContext c) => Authorized(c, "list", "", "pods", null, null) ?? List(c, "PodList", "v1", PodFields,
            o => o.Pods, PodKey, p => p.Labels, PodField, PodJson));
        web.MapGet("/api/v1/namespaces/{ns}/pods", (HttpContext c, string ns) => Authorized(c, "list", "", "pods", ns, null) ?? List(c, "PodList", "v1", PodFields,
            o => o.Pods.Where(p => p.Namespace == ns), PodKey, p => p.Labels, PodField, PodJson));
        web.MapGet("/api/v1/namespaces/{ns}/pods/{name}", (HttpContext c, string ns, string name) => Authorized(c, "get", "", "pods", ns, name) ??
            (Cluster.Read((_, pods, _) => pods.FirstOrDefault(p => p.Namespace == ns && p.Name == name) is { } p ? PodJson(p) : null) is { } pod
                ? Json(pod)
                : NotFound("", "pods", name)));
        web.MapPost("/api/v1/namespaces/{ns}/pods/{name}/eviction", async (HttpContext c, string ns, string name) =>
        {
            if (Authorized(c, "create", "", "pods/eviction", ns, name) is { } refused)
            {
                return refused;
            }

            if (!string.Equals(c.Request.ContentType?.Split(';')[0].Trim(), "application/json", StringComparison.OrdinalIgnoreCase))
            {
                return Status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json");
            }

            if (EvictionBodyProblem(await ReadJsonAsync(c), ns, name) is { } problem)
            {
                return Status(400, "BadRequest", problem);
            }

            var (status, message) = Cluster.Evict(ns, name);
            return status switch
            {
                201 => Results.Text(new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["code"] = 201 }.ToJsonString(),
                    "application/json", statusCode: 201),
                429 => Status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                    new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "DisruptionBudget", ["message"] = message }) }),
                _ => NotFound("", "pods", name),
            };
        });
        web.MapGet("/apis/policy/v1/poddisruptionbudgets", (HttpContext c) => Authorized(c, "list", "policy", "poddisruptionbudgets", null, null) ??
            List(c, "PodDisruptionBudgetList", "policy/v1", BudgetFields, o => o.Budgets, b => $"{b.Namespace}/{b.Name}", _ => new Dictionary<string, string>(), BudgetField, BudgetJson));
        web.MapGet("/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", (HttpContext c, string ns) => Authorized(c, "list", "policy", "poddisruptionbudgets", ns, null) ??
            List(c, "PodDisruptionBudgetList", "policy/v1", BudgetFields, o => o.Budgets.Where(b => b.Namespace == ns), b => $"{b.Namespace}/{b.Name}", _ => new Dictionary<string, string>(), BudgetField, BudgetJson));

        MapPodCreate(web);
        MapStorageAndDaemonSets(web);

        web.MapFallback(() => Status(404, "NotFound", "the server could not find the requested resource"));
    }

    /// <summary>What the API refuses in an Eviction body (pkg/registry/core/pod/storage/eviction.go), or null.</summary>
    private static string? EvictionBodyProblem(JsonNode? body, string ns, string name)
    {
        if (body is not JsonObject eviction)
        {
            return "the body of the request is not a JSON object";
        }

        var kind = eviction["kind"]?.GetValue<string>();
        var apiVersion = eviction["apiVersion"]?.GetValue<string>();
        if (kind is not null && kind != "Eviction" || apiVersion is not null and not ("policy/v1" or "policy/v1beta1"))
        {
            return $"no kind \"{kind}\" is registered for version \"{apiVersion}\" in this eviction subresource";
        }

        if (eviction["metadata"]?["name"]?.GetValue<string>() != name)
        {
            return "name in URL does not match name in Eviction object";
        }

        return eviction["metadata"]?["namespace"]?.GetValue<string>() is { } bodyNamespace && bodyNamespace != ns
            ? "the namespace of the provided object does not match the namespace sent on the request"
            : null;
    }

    private static async Task<JsonNode?> ReadJsonAsync(HttpContext c)
    {
        try
        {
            return await JsonNode.ParseAsync(c.Request.Body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Null when the token may do <paramref name="verb"/>; else the API's 401 or 403.</summary>
    private static IResult? Authorized(HttpContext c, string verb, string group, string resource, string? ns, string? name)
    {
        var header = c.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : "";
        if (token == NodeFleetToken
            ? NodeFleetRules.Any(r => r.Group == group && r.Resource == resource && r.Verbs.Contains(verb))
            : Grants.TryGetValue(token, out var verbs) && verbs.Contains(verb))
        {
            return null;
        }

        if (token != NodeFleetToken && !Grants.ContainsKey(token))
        {
            return Status(401, "Unauthorized", "Unauthorized");
        }

        // As the API server's authorization filter words it.
        var baseResource = resource.Split('/')[0];
        var qualified = group.Length == 0 ? baseResource : $"{baseResource}.{group}";
        var scope = ns is null ? "at the cluster scope" : $"in the namespace \"{ns}\"";
        return Status(403, "Forbidden",
            $"{qualified}{(name is null ? "" : $" \"{name}\"")} is forbidden: User \"{ServiceAccount}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}",
            new JsonObject { ["name"] = name, ["group"] = group, ["kind"] = baseResource });
    }

    /// <summary>
    /// A list as the API serves it: the selected objects in key order, at most <c>limit</c> of them,
    /// and a continue token to the rest (with <c>remainingItemCount</c> when nothing was selected by label or field).
    /// </summary>
    private IResult List<T>(HttpContext c, string kind, string apiVersion, string[] fields,
        Func<ClusterObjects, IEnumerable<T>> source,
        Func<T, string> key, Func<T, IReadOnlyDictionary<string, string>> labels, Func<T, string, string> field, Func<T, JsonNode> render)
    {
        var query = c.Request.Query;
        var labelSelector = query["labelSelector"].ToString();
        var fieldSelector = query["fieldSelector"].ToString();
        if (LabelSelector.Parse(labelSelector) is not { } labelMatch)
        {
            return Status(400, "BadRequest", $"unable to parse requirement: invalid label selector \"{labelSelector}\"");
        }

        if (FieldSelector.Parse(fieldSelector, fields, out var fieldProblem) is not { } fieldTerms)
        {
            return Status(400, "BadRequest", fieldProblem!);
        }

        var limit = int.TryParse(query["limit"], out var l) && l > 0 ? l : int.MaxValue;
        var start = "";
        long? revision = null;
        if (query["continue"].ToString() is { Length: > 0 } token)
        {
            if (ContinueToken.Decode(token) is not { } decoded)
            {
                return Status(400, "BadRequest", "continue key is not valid: the token could not be decoded");
            }

            if (decoded.Revision < Interlocked.Read(ref compactedRevision))
            {
                // kube-apiserver's words for a token whose history etcd compacted away.
                return Status(410, "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
            }

            (start, revision) = (decoded.Start, decoded.Revision);
        }

        var body = Cluster.Read((ClusterObjects objects) =>
        {
            var rv = revision ?? Cluster.Revision;
            var selected = source(objects)
                .Where(o => labelMatch(labels(o)) && fieldTerms.All(t => t.Matches(field(o, t.Field))))
                .Select(o => (Key: key(o), Object: o))
                .OrderBy(o => o.Key, StringComparer.Ordinal)
                .Where(o => string.CompareOrdinal(o.Key, start) >= 0)
                .ToList();
            var page = selected.Take(limit).ToList();
            var metadata = new JsonObject { ["resourceVersion"] = rv.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            if (selected.Count > page.Count)
            {
                metadata["continue"] = ContinueToken.Encode(rv, page[^1].Key + "\0");
                if (labelSelector.Length == 0 && fieldSelector.Length == 0)
                {
                    metadata["remainingItemCount"] = selected.Count - page.Count;
                }
            }

            return new JsonObject
            {
                ["kind"] = kind,
                ["apiVersion"] = apiVersion,
                ["metadata"] = metadata,
                ["items"] = new JsonArray(page.Select(o => render(o.Object)).ToArray()),
            };
        });
        return Json(body);
    }

    private static string PodKey(TestPod p) => $"{p.Namespace}/{p.Name}";

    private static string NodeField(TestNode n, string field) => field switch
    {
        "metadata.name" => n.Name,
        _ => n.Unschedulable ? "true" : "false",
    };

    private static string PodField(TestPod p, string field) => field switch
    {
        "metadata.name" => p.Name,
        "metadata.namespace" => p.Namespace,
        "spec.nodeName" => p.NodeName ?? "",
        _ => p.Phase,
    };

    private static string BudgetField(TestBudget b, string field) => field == "metadata.name" ? b.Name : b.Namespace;

    private JsonNode NodeJson(TestNode n)
    {
        var spec = new JsonObject
        {
            ["taints"] = new JsonArray([.. n.Taints.Select(t => (JsonNode)(t.Value is null
                ? new JsonObject { ["key"] = t.Key, ["effect"] = t.Effect }
                : new JsonObject { ["key"] = t.Key, ["value"] = t.Value, ["effect"] = t.Effect }))]),
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
                ["resourceVersion"] = Cluster.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["creationTimestamp"] = n.Created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                ["labels"] = new JsonObject(n.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
                ["annotations"] = new JsonObject(n.Annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))),
            },
            ["spec"] = spec,
            ["status"] = new JsonObject
            {
                ["conditions"] = new JsonArray(new JsonObject
                {
                    ["type"] = "Ready",
                    ["status"] = n.Ready ? "True" : "False",
                    ["lastTransitionTime"] = n.ReadyChangedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                }),
                ["allocatable"] = resources,
                ["capacity"] = resources.DeepClone(),
            },
        };
    }

    /// <summary>
    /// A pod as the API serves it: its spec as created (with spec.nodeName once bound), its owner as
    /// the controller reference, and status.conditions' PodScheduled as the scheduler last wrote it
    /// (False with reason Unschedulable and the scheduler's message, or True once bound).
    /// </summary>
    private static JsonNode PodJson(TestPod p)
    {
        var metadata = new JsonObject
        {
            ["name"] = p.Name,
            ["namespace"] = p.Namespace,
            ["uid"] = $"pod-{p.Namespace}-{p.Name}",
            ["resourceVersion"] = "1",
            ["creationTimestamp"] = Timestamp(p.Created),
            ["labels"] = new JsonObject(p.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            ["annotations"] = new JsonObject(p.Annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))),
        };
        if (p.DeletionTimestamp is { } deletion)
        {
            metadata["deletionTimestamp"] = Timestamp(deletion);
            metadata["deletionGracePeriodSeconds"] = p.TerminationGracePeriodSeconds;
        }

        if (p.OwnerKind is not null)
        {
            var apiVersion = p.OwnerKind switch { "Job" => "batch/v1", "Node" => "v1", "ReplicationController" => "v1", _ => "apps/v1" };
            metadata["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = apiVersion, ["kind"] = p.OwnerKind, ["name"] = p.OwnerName, ["uid"] = $"{p.OwnerKind}-{p.Namespace}-{p.OwnerName}".ToLowerInvariant(),
                ["controller"] = true, ["blockOwnerDeletion"] = true,
            });
        }

        var spec = p.Spec.ToJson();
        if (p.NodeName is not null)
        {
            spec["nodeName"] = p.NodeName;
        }

        var status = new JsonObject { ["phase"] = p.Phase };
        if (p.NodeName is not null)
        {
            var condition = new JsonObject { ["type"] = "PodScheduled", ["status"] = "True", ["lastProbeTime"] = null, ["lastTransitionTime"] = Timestamp(p.ScheduledConditionAt ?? p.Created) };
            status["conditions"] = new JsonArray(condition);
        }
        else if (p.Unschedulable)
        {
            status["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = "PodScheduled", ["status"] = "False", ["lastProbeTime"] = null, ["lastTransitionTime"] = Timestamp(p.ScheduledConditionAt ?? p.Created),
                ["reason"] = "Unschedulable", ["message"] = p.UnschedulableMessage,
            });
        }

        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = metadata, ["spec"] = spec, ["status"] = status };
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

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
            ["shortNames"] = new JsonArray([.. (ShortNames.GetValueOrDefault(r.Name) ?? []).Select(n => (JsonNode)n)]),
        }).ToArray()),
    };

    /// <summary>The resources' short names, as kubectl resolves <c>kubectl get pv</c> through discovery.</summary>
    private static readonly Dictionary<string, string[]> ShortNames = new(StringComparer.Ordinal)
    {
        ["nodes"] = ["no"], ["pods"] = ["po"], ["persistentvolumes"] = ["pv"], ["persistentvolumeclaims"] = ["pvc"],
        ["daemonsets"] = ["ds"], ["poddisruptionbudgets"] = ["pdb"],
    };

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json");

    private static IResult NotFound(string group, string resource, string name) =>
        Status(404, "NotFound", $"{(group.Length == 0 ? resource : $"{resource}.{group}")} \"{name}\" not found",
            new JsonObject { ["name"] = name, ["group"] = group.Length == 0 ? null : group, ["kind"] = resource });

    private static IResult Status(int code, string reason, string message, JsonObject? details = null) =>
        Results.Text(new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
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

    /// <summary>The API's continue token: base64url JSON of the list's revision and the key to start after.</summary>
    private static class ContinueToken
    {
        public static string Encode(long revision, string start) =>
            Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = revision, ["start"] = start }))
                .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public static (long Revision, string Start)? Decode(string token)
        {
            try
            {
                var base64 = token.Replace('-', '+').Replace('_', '/');
                var json = JsonNode.Parse(Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=')));
                return json?["v"]?.GetValue<string>() == "meta.k8s.io/v1" && json["rv"]?.GetValue<long>() is { } rv && json["start"]?.GetValue<string>() is { } start
                    ? (rv, start)
                    : null;
            }
            catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Label selectors in the API's string form: <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>,
    /// <c>k in (a,b)</c>, <c>k notin (a,b)</c>, comma-separated, all of which must hold.
    /// </summary>
    private static partial class LabelSelector
    {
        public static Func<IReadOnlyDictionary<string, string>, bool>? Parse(string text)
        {
            var terms = new List<Func<IReadOnlyDictionary<string, string>, bool>>();
            foreach (var term in Terms(text))
            {
                if (SetTerm().Match(term) is { Success: true } set)
                {
                    var (key, values) = (set.Groups["key"].Value, set.Groups["values"].Value.Split(',').Select(v => v.Trim()).ToHashSet(StringComparer.Ordinal));
                    terms.Add(set.Groups["op"].Value == "in"
                        ? labels => labels.TryGetValue(key, out var v) && values.Contains(v)
                        : labels => !labels.TryGetValue(key, out var v) || !values.Contains(v));
                }
                else if (EqualityTerm().Match(term) is { Success: true } equality)
                {
                    var (key, value) = (equality.Groups["key"].Value, equality.Groups["value"].Value);
                    terms.Add(equality.Groups["op"].Value == "!="
                        ? labels => !labels.TryGetValue(key, out var v) || v != value
                        : labels => labels.TryGetValue(key, out var v) && v == value);
                }
                else if (ExistenceTerm().Match(term) is { Success: true } existence)
                {
                    var key = existence.Groups["key"].Value;
                    var absent = existence.Groups["not"].Success;
                    terms.Add(labels => labels.ContainsKey(key) != absent);
                }
                else
                {
                    return null;
                }
            }

            return labels => terms.All(t => t(labels));
        }

        /// <summary>Splits on the commas outside parentheses.</summary>
        private static IEnumerable<string> Terms(string text)
        {
            var depth = 0;
            var begin = 0;
            for (var i = 0; i <= text.Length; i++)
            {
                if (i == text.Length || (text[i] == ',' && depth == 0))
                {
                    if (text[begin..i].Trim() is { Length: > 0 } term)
                    {
                        yield return term;
                    }

                    begin = i + 1;
                }
                else if (text[i] == '(')
                {
                    depth++;
                }
                else if (text[i] == ')')
                {
                    depth--;
                }
            }
        }

        [GeneratedRegex(@"^(?<key>[A-Za-z0-9._/-]+)\s+(?<op>in|notin)\s+\((?<values>[^()]*)\)$")]
        private static partial Regex SetTerm();

        [GeneratedRegex(@"^(?<key>[A-Za-z0-9._/-]+)\s*(?<op>==|=|!=)\s*(?<value>[A-Za-z0-9._-]*)$")]
        private static partial Regex EqualityTerm();

        [GeneratedRegex(@"^(?<not>!)?\s*(?<key>[A-Za-z0-9._/-]+)$")]
        private static partial Regex ExistenceTerm();
    }

    private sealed record FieldTerm(string Field, bool Equal, string Value)
    {
        public bool Matches(string actual) => (actual == Value) == Equal;
    }

    /// <summary>Field selectors: <c>f=v</c>, <c>f==v</c>, <c>f!=v</c>, comma-separated, over the fields the resource supports.</summary>
    private static class FieldSelector
    {
        public static List<FieldTerm>? Parse(string text, string[] supported, out string? problem)
        {
            problem = null;
            var terms = new List<FieldTerm>();
            foreach (var term in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var (op, at) = term.IndexOf("!=", StringComparison.Ordinal) is var ne and >= 0 ? ("!=", ne)
                    : term.IndexOf("==", StringComparison.Ordinal) is var eq and >= 0 ? ("==", eq)
                    : ("=", term.IndexOf('=', StringComparison.Ordinal));
                if (at <= 0)
                {
                    problem = $"invalid selector: '{text}'; can't understand '{term}'";
                    return null;
                }

                var field = term[..at];
                if (!supported.Contains(field, StringComparer.Ordinal))
                {
                    problem = $"field label not supported: {field}";
                    return null;
                }

                terms.Add(new FieldTerm(field, op != "!=", term[(at + op.Length)..]));
            }

            return terms;
        }
    }
}
