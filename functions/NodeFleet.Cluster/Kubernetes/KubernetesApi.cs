using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NodeFleet.Core.Kubernetes;
using NodeFleet.Core.Ports;

namespace NodeFleet.Cluster.Kubernetes;

/// <summary>The API answered with an error that is not about permissions or availability (e.g. 422).</summary>
public sealed class ClusterRequestRejectedException(string message) : Exception(message);

/// <summary>
/// The Kubernetes REST calls NodeFleet makes, over HTTPS with a ServiceAccount bearer token.
/// Reads only the fields the steps use. 401/403 become <see cref="ClusterPermissionException"/>
/// naming the missing permission; 5xx and network failures <see cref="ClusterUnavailableException"/>.
/// </summary>
public sealed class KubernetesApi(HttpClient http, Uri server, string token) : IClusterApi
{
    public async Task<IReadOnlyList<ClusterNode>> ListNodesAsync(string? labelSelector, CancellationToken cancellationToken)
    {
        var query = labelSelector is null ? "" : "?labelSelector=" + Uri.EscapeDataString(labelSelector);
        var list = await SendAsync(HttpMethod.Get, "/api/v1/nodes" + query, null, "list", "nodes", cancellationToken).ConfigureAwait(false);
        return Items(list).Select(ParseNode).ToList();
    }

    public async Task<ClusterNode?> GetNodeAsync(string name, CancellationToken cancellationToken)
    {
        var node = await SendAsync(HttpMethod.Get, $"/api/v1/nodes/{Uri.EscapeDataString(name)}", null, "get", "nodes", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return node is null ? null : ParseNode(node);
    }

    public async Task SetUnschedulableAsync(string nodeName, bool unschedulable, CancellationToken cancellationToken)
    {
        // A JSON merge patch; null removes the field, as `kubectl uncordon` leaves it.
        var patch = new JsonObject { ["spec"] = new JsonObject { ["unschedulable"] = unschedulable ? true : null } };
        var content = new StringContent(patch.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/merge-patch+json");
        await SendAsync(HttpMethod.Patch, $"/api/v1/nodes/{Uri.EscapeDataString(nodeName)}", content, "patch", "nodes", cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ClusterPod>> ListPodsOnNodeAsync(string nodeName, CancellationToken cancellationToken)
    {
        var list = await SendAsync(HttpMethod.Get, "/api/v1/pods?fieldSelector=" + Uri.EscapeDataString($"spec.nodeName={nodeName}"), null, "list", "pods", cancellationToken).ConfigureAwait(false);
        return Items(list).Select(ParsePod).ToList();
    }

    public async Task<IReadOnlyList<ClusterPod>> ListPodsAsync(CancellationToken cancellationToken)
    {
        var list = await SendAsync(HttpMethod.Get, "/api/v1/pods", null, "list", "pods", cancellationToken).ConfigureAwait(false);
        return Items(list).Select(ParsePod).ToList();
    }

    public async Task<IReadOnlyList<DisruptionBudget>> ListDisruptionBudgetsAsync(CancellationToken cancellationToken)
    {
        var list = await SendAsync(HttpMethod.Get, "/apis/policy/v1/poddisruptionbudgets", null, "list", "poddisruptionbudgets.policy", cancellationToken).ConfigureAwait(false);
        return Items(list).Select(ParseBudget).ToList();
    }

    public async Task<EvictionOutcome> EvictAsync(string podNamespace, string podName, CancellationToken cancellationToken)
    {
        var eviction = new JsonObject
        {
            ["apiVersion"] = "policy/v1",
            ["kind"] = "Eviction",
            ["metadata"] = new JsonObject { ["name"] = podName, ["namespace"] = podNamespace },
        };
        using var request = Request(HttpMethod.Post, $"/api/v1/namespaces/{Uri.EscapeDataString(podNamespace)}/pods/{Uri.EscapeDataString(podName)}/eviction",
            new StringContent(eviction.ToJsonString(), Encoding.UTF8, "application/json"));
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.Created or HttpStatusCode.OK => new EvictionOutcome(EvictionResult.Evicted),
            HttpStatusCode.TooManyRequests => new EvictionOutcome(EvictionResult.BlockedByDisruptionBudget, StatusMessage(body)),
            HttpStatusCode.NotFound => new EvictionOutcome(EvictionResult.AlreadyGone),
            _ => throw Failure(response.StatusCode, body, "create", "pods/eviction"),
        };
    }

    public async Task DeleteNodeAsync(string nodeName, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Delete, $"/api/v1/nodes/{Uri.EscapeDataString(nodeName)}", null, "delete", "nodes", cancellationToken, allowNotFound: true).ConfigureAwait(false);

    private HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, new Uri(server, path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ClusterUnavailableException($"The Kubernetes API at {server} could not be reached: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClusterUnavailableException($"The Kubernetes API at {server} did not answer within {http.Timeout.TotalSeconds:0.#} s", e);
        }
    }

    private async Task<JsonObject?> SendAsync(HttpMethod method, string path, HttpContent? content, string verb, string resource, CancellationToken cancellationToken, bool allowNotFound = false)
    {
        using var request = Request(method, path, content);
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound && allowNotFound)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw Failure(response.StatusCode, body, verb, resource);
        }

        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new ClusterUnavailableException($"{verb} {resource}: the API answered without a JSON object");
        }
        catch (JsonException e)
        {
            throw new ClusterUnavailableException($"{verb} {resource}: the API answered with a body that is not JSON", e);
        }
    }

    private static Exception Failure(HttpStatusCode status, string body, string verb, string resource) => status switch
    {
        HttpStatusCode.Unauthorized => new ClusterPermissionException(
            $"The Kubernetes API rejected NodeFleet's token (401) on {verb} {resource}: the ServiceAccount token is missing, expired or from another cluster"),
        HttpStatusCode.Forbidden => new ClusterPermissionException(
            $"The Kubernetes API forbids {verb} {resource} (403): NodeFleet's ClusterRole must grant verb '{verb}' on resource '{resource}'. The API said: {StatusMessage(body)}"),
        >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests => new ClusterUnavailableException($"{verb} {resource}: the API answered HTTP {(int)status}: {StatusMessage(body)}"),
        _ => new ClusterRequestRejectedException($"{verb} {resource}: the API answered HTTP {(int)status}: {StatusMessage(body)}"),
    };

    private static string StatusMessage(string body)
    {
        try
        {
            // A Status' causes carry the specifics, e.g. which disruption budget refused an eviction.
            var status = JsonNode.Parse(body);
            var causes = (status?["details"]?["causes"] as JsonArray ?? []).Select(c => c?["message"]?.GetValue<string>()).OfType<string>();
            return string.Join(" ", new[] { status?["message"]?.GetValue<string>() ?? body }.Concat(causes));
        }
        catch (JsonException)
        {
            return body.Length > 200 ? body[..200] : body;
        }
    }

    private static IEnumerable<JsonObject> Items(JsonObject? list) =>
        (list?["items"] as JsonArray ?? []).OfType<JsonObject>();

    private static Dictionary<string, string> Map(JsonNode? node) =>
        node is JsonObject o ? o.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal) : [];

    private static string Text(JsonNode? node, string name) =>
        node?[name]?.GetValue<string>() ?? throw new ClusterRequestRejectedException($"the API returned an object without {name}");

    private static ClusterNode ParseNode(JsonObject node)
    {
        var metadata = node["metadata"];
        var spec = node["spec"];
        var ready = (node["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>()
            .Any(c => c["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True");
        var taints = (spec?["taints"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(t => new Taint(t["key"]?.GetValue<string>() ?? "", t["effect"]?.GetValue<string>() ?? "")).ToList();
        var allocatable = node["status"]?["allocatable"];
        return new ClusterNode(
            Text(metadata, "name"),
            spec?["providerID"]?.GetValue<string>(),
            ready,
            spec?["unschedulable"]?.GetValue<bool>() ?? false,
            Map(metadata?["labels"]),
            taints,
            DateTimeOffset.Parse(Text(metadata, "creationTimestamp"), System.Globalization.CultureInfo.InvariantCulture))
        {
            Allocatable = new Core.Contracts.Resources(
                allocatable?["cpu"] is { } cpu ? Quantity.CpuMillis(cpu.ToString()) : 0,
                allocatable?["memory"] is { } memory ? Quantity.Bytes(memory.ToString()) : 0,
                allocatable?["pods"] is { } pods ? (int)Quantity.Value(pods.ToString()) : 0),
        };
    }

    private static ClusterPod ParsePod(JsonObject pod)
    {
        var metadata = pod["metadata"];
        var spec = pod["spec"];
        var annotations = Map(metadata?["annotations"]);
        var owner = (metadata?["ownerReferences"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(o => o["controller"]?.GetValue<bool>() == true);
        var localStorage = (spec?["volumes"] as JsonArray ?? []).OfType<JsonObject>().Any(v => v.ContainsKey("emptyDir") || v.ContainsKey("hostPath"));
        long cpu = 0, memory = 0;
        foreach (var container in (spec?["containers"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var requests = container["resources"]?["requests"];
            cpu += requests?["cpu"] is { } c ? Quantity.CpuMillis(c.ToString()) : 0;
            memory += requests?["memory"] is { } m ? Quantity.Bytes(m.ToString()) : 0;
        }

        return new ClusterPod(
            Text(metadata, "namespace"),
            Text(metadata, "name"),
            spec?["nodeName"]?.GetValue<string>(),
            pod["status"]?["phase"]?.GetValue<string>() ?? "Unknown",
            owner?["kind"]?.GetValue<string>(),
            annotations.ContainsKey("kubernetes.io/config.mirror"),
            localStorage,
            annotations,
            Map(metadata?["labels"]),
            cpu,
            memory);
    }

    private static DisruptionBudget ParseBudget(JsonObject pdb)
    {
        var selector = pdb["spec"]?["selector"];
        var expressions = (selector?["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>().Select(e => new SelectorRequirement(
            Text(e, "key"), Text(e, "operator"), (e["values"] as JsonArray ?? []).Select(v => v!.GetValue<string>()).ToList())).ToList();
        return new DisruptionBudget(
            Text(pdb["metadata"], "namespace"),
            Text(pdb["metadata"], "name"),
            new LabelSelector(Map(selector?["matchLabels"]), expressions),
            pdb["status"]?["disruptionsAllowed"]?.GetValue<int>() ?? 0);
    }
}
