using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;

namespace NodeFleet.Cluster.Kubernetes;

/// <summary>The API answered with an error that is not about permissions or availability (e.g. 400, 422), or with an object missing a field NodeFleet needs.</summary>
public sealed class ClusterRequestRejectedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The Kubernetes calls NodeFleet makes, through the official client. Every list is read in
/// pages of <paramref name="pageSize"/> (<c>limit</c>/<c>continue</c>), each page mapped to Core's
/// records before the next is fetched, so a large cluster never sits in memory as API objects.
/// 401/403 become <see cref="ClusterPermissionException"/> naming the missing permission; 5xx,
/// throttling, timeouts and network failures <see cref="ClusterUnavailableException"/>; any other
/// refusal <see cref="ClusterRequestRejectedException"/>.
/// </summary>
/// <param name="client">Built once per process (<see cref="KubernetesConnection.CreateClient"/>); its per-call timeout is <paramref name="callTimeout"/>.</param>
/// <param name="callTimeout">Only to say in an error how long the API was given.</param>
public sealed class KubernetesApi(IKubernetes client, TimeSpan callTimeout, int pageSize = KubernetesApi.DefaultPageSize) : IClusterApi
{
    /// <summary>kubectl's default chunk size.</summary>
    public const int DefaultPageSize = 500;

    private const string Nodes = "nodes";
    private const string Pods = "pods";
    private const string Budgets = "poddisruptionbudgets.policy";
    private const string Claims = "persistentvolumeclaims";
    private const string Volumes = "persistentvolumes";
    private const string DaemonSets = "daemonsets.apps";

    public Task<IReadOnlyList<ClusterNode>> ListNodesAsync(string? labelSelector, CancellationToken cancellationToken) =>
        ListAsync<V1NodeList, V1Node, ClusterNode>(Nodes,
            (next, c) => client.CoreV1.ListNodeAsync(continueParameter: next, labelSelector: labelSelector, limit: pageSize, cancellationToken: c),
            KubernetesModels.ToNode, cancellationToken);

    public Task<ClusterNode?> GetNodeAsync(string name, CancellationToken cancellationToken) =>
        CallAsync("get", Nodes, async c =>
        {
            try
            {
                return KubernetesModels.ToNode(await client.CoreV1.ReadNodeAsync(name, cancellationToken: c).ConfigureAwait(false));
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound)
            {
                return (ClusterNode?)null;
            }
        }, cancellationToken);

    public Task CordonAsync(string nodeName, CordonMark mark, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mark);
        // One JSON merge patch: the cordon and its mark change together, so no reader sees one without the other.
        var annotations = new JsonObject();
        foreach (var (key, value) in mark.ToAnnotations())
        {
            annotations[key] = value;
        }

        var body = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = annotations }, ["spec"] = new JsonObject { ["unschedulable"] = true } };
        return PatchAsync(nodeName, body.ToJsonString(), cancellationToken);
    }

    public Task UncordonAsync(string nodeName, CancellationToken cancellationToken)
    {
        // null removes a field or key, as `kubectl uncordon` leaves spec.unschedulable.
        var annotations = new JsonObject();
        foreach (var key in CordonMark.Annotations)
        {
            annotations[key] = null;
        }

        var body = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = annotations }, ["spec"] = new JsonObject { ["unschedulable"] = null } };
        return PatchAsync(nodeName, body.ToJsonString(), cancellationToken);
    }

    private Task PatchAsync(string nodeName, string mergePatch, CancellationToken cancellationToken)
    {
        var patch = new V1Patch(mergePatch, V1Patch.PatchType.MergePatch);
        return CallAsync("patch", Nodes, c => client.CoreV1.PatchNodeAsync(patch, nodeName, cancellationToken: c), cancellationToken);
    }

    public Task<IReadOnlyList<ClusterPod>> ListPodsOnNodeAsync(string nodeName, CancellationToken cancellationToken) =>
        ListAsync<V1PodList, V1Pod, ClusterPod>(Pods,
            (next, c) => client.CoreV1.ListPodForAllNamespacesAsync(continueParameter: next, fieldSelector: $"spec.nodeName={nodeName}", limit: pageSize, cancellationToken: c),
            KubernetesModels.ToPod, cancellationToken);

    public Task<IReadOnlyList<ClusterPod>> ListPodsAsync(CancellationToken cancellationToken) =>
        ListAsync<V1PodList, V1Pod, ClusterPod>(Pods,
            (next, c) => client.CoreV1.ListPodForAllNamespacesAsync(continueParameter: next, limit: pageSize, cancellationToken: c),
            KubernetesModels.ToPod, cancellationToken);

    public Task<IReadOnlyList<DisruptionBudget>> ListDisruptionBudgetsAsync(CancellationToken cancellationToken) =>
        ListAsync<V1PodDisruptionBudgetList, V1PodDisruptionBudget, DisruptionBudget>(Budgets,
            (next, c) => client.PolicyV1.ListPodDisruptionBudgetForAllNamespacesAsync(continueParameter: next, limit: pageSize, cancellationToken: c),
            KubernetesModels.ToBudget, cancellationToken);

    public Task<IReadOnlyList<ClaimInfo>> ListPersistentVolumeClaimsAsync(CancellationToken cancellationToken) =>
        ListAsync<V1PersistentVolumeClaimList, V1PersistentVolumeClaim, ClaimInfo>(Claims,
            (next, c) => client.CoreV1.ListPersistentVolumeClaimForAllNamespacesAsync(continueParameter: next, limit: pageSize, cancellationToken: c),
            KubernetesModels.ToClaim, cancellationToken);

    public Task<IReadOnlyList<VolumeInfo>> ListPersistentVolumesAsync(CancellationToken cancellationToken) =>
        ListAsync<V1PersistentVolumeList, V1PersistentVolume, VolumeInfo>(Volumes,
            (next, c) => client.CoreV1.ListPersistentVolumeAsync(continueParameter: next, limit: pageSize, cancellationToken: c),
            KubernetesModels.ToVolume, cancellationToken);

    public Task<IReadOnlyList<DaemonSetSpec>> ListDaemonSetsAsync(CancellationToken cancellationToken) =>
        ListAsync<V1DaemonSetList, V1DaemonSet, DaemonSetSpec>(DaemonSets,
            (next, c) => client.AppsV1.ListDaemonSetForAllNamespacesAsync(continueParameter: next, limit: pageSize, cancellationToken: c),
            KubernetesModels.ToDaemonSet, cancellationToken);

    public Task<EvictionOutcome> EvictAsync(string podNamespace, string podName, CancellationToken cancellationToken)
    {
        var eviction = new V1Eviction
        {
            ApiVersion = "policy/v1",
            Kind = "Eviction",
            Metadata = new V1ObjectMeta { Name = podName, NamespaceProperty = podNamespace },
        };
        return CallAsync("create", "pods/eviction", async c =>
        {
            try
            {
                await client.CoreV1.CreateNamespacedPodEvictionAsync(eviction, podName, podNamespace, cancellationToken: c).ConfigureAwait(false);
                return new EvictionOutcome(EvictionResult.Evicted);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound)
            {
                return new EvictionOutcome(EvictionResult.AlreadyGone);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.TooManyRequests && RefusedByBudget(Status(e.Response.Content)))
            {
                // Any other 429 is the API's own throttling (priority and fairness): unavailable, retried.
                return new EvictionOutcome(EvictionResult.BlockedByDisruptionBudget, Describe(e.Response.Content));
            }
        }, cancellationToken);
    }

    public Task DeleteNodeAsync(string nodeName, CancellationToken cancellationToken) =>
        CallAsync("delete", Nodes, async c =>
        {
            try
            {
                return await client.CoreV1.DeleteNodeAsync(nodeName, cancellationToken: c).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound)
            {
                return null; // already gone: what a delete wants
            }
        }, cancellationToken);

    private async Task<IReadOnlyList<TOut>> ListAsync<TList, TItem, TOut>(
        string resource, Func<string?, CancellationToken, Task<TList>> page, Func<TItem, TOut> map, CancellationToken cancellationToken)
        where TList : IItems<TItem>, IMetadata<V1ListMeta>
    {
        var result = new List<TOut>();
        string? next = null;
        do
        {
            var token = next;
            var list = await CallAsync("list", resource, c => page(token, c), cancellationToken).ConfigureAwait(false);
            result.AddRange((list.Items ?? []).Select(map));
            next = list.Metadata?.ContinueProperty;
            if (next is { Length: > 0 } && next == token)
            {
                throw new ClusterRequestRejectedException($"list {resource}: the API answered a page with the continue token it was given; the list would never end");
            }
        }
        while (!string.IsNullOrEmpty(next));

        return result;
    }

    private async Task<T> CallAsync<T>(string verb, string resource, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e)
        {
            throw Failure(e, verb, resource);
        }
        catch (HttpRequestException e)
        {
            throw new ClusterUnavailableException($"{verb} {resource}: the Kubernetes API at {client.BaseUri} could not be reached: {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClusterUnavailableException($"{verb} {resource}: the Kubernetes API at {client.BaseUri} did not answer within {callTimeout.TotalSeconds:0.#} s", e);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new ClusterUnavailableException($"{verb} {resource}: the Kubernetes API answered with a body that could not be read: {e.Message}", e);
        }
    }

    private static Exception Failure(HttpOperationException e, string verb, string resource)
    {
        var code = e.Response?.StatusCode ?? 0;
        var said = Describe(e.Response?.Content);
        return code switch
        {
            HttpStatusCode.Unauthorized => new ClusterPermissionException(
                $"The Kubernetes API rejected NodeFleet's token (401) on {verb} {resource}: the ServiceAccount token is missing, expired or from another cluster"),
            HttpStatusCode.Forbidden => new ClusterPermissionException(
                $"The Kubernetes API forbids {verb} {resource} (403): NodeFleet's ClusterRole must grant verb '{verb}' on resource '{resource}'. The API said: {said}"),
            // A continue token outlives the history it points into (etcd compaction): the list must start over.
            HttpStatusCode.Gone => new ClusterUnavailableException($"{verb} {resource}: the list's continue token expired before its last page (410), so it must be read again from the start: {said}", e),
            >= HttpStatusCode.InternalServerError or HttpStatusCode.TooManyRequests => new ClusterUnavailableException($"{verb} {resource}: the API answered HTTP {(int)code}: {said}", e),
            _ => new ClusterRequestRejectedException($"{verb} {resource}: the API answered HTTP {(int)code}: {said}", e),
        };
    }

    private static bool RefusedByBudget(V1Status? status) =>
        status?.Details?.Causes?.Any(c => c.Reason == "DisruptionBudget") == true;

    private static V1Status? Status(string? body)
    {
        try
        {
            return string.IsNullOrEmpty(body) ? null : KubernetesJson.Deserialize<V1Status>(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A Status' message and its causes, which carry the specifics (e.g. which budget refused an eviction).</summary>
    private static string Describe(string? body)
    {
        if (Status(body) is { } status && (status.Message is not null || status.Details?.Causes is { Count: > 0 }))
        {
            return string.Join(" ", new[] { status.Message }.Concat((status.Details?.Causes ?? []).Select(c => c.Message)).OfType<string>());
        }

        body ??= "";
        return body.Length > 200 ? body[..200] : body;
    }
}
