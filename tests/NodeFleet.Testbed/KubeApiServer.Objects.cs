using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace NodeFleet.Testbed;

/// <summary>
/// Pod creation (what <c>kubectl create -f</c> and <c>kubectl apply -f</c> post), the OpenAPI v3
/// documents kubectl reads first, and PersistentVolumes, PersistentVolumeClaims and DaemonSets.
/// </summary>
public sealed partial class KubeApiServer
{
    private static readonly string[] NamespacedFields = ["metadata.name", "metadata.namespace"];
    private static readonly string[] ClusterFields = ["metadata.name"];

    /// <summary>
    /// kubectl validates a manifest on the server (<c>fieldValidation=Strict</c>) when the OpenAPI
    /// v3 document of its group version lists that query parameter on the kind's PATCH, and
    /// otherwise downloads the whole schema to validate it itself. These documents say the first:
    /// the server takes the parameter (unknown fields are kept as given, not refused: the testbed
    /// does not carry the whole Pod schema).
    /// </summary>
    private static void MapOpenApi(WebApplication web)
    {
        (string Path, string Group, string Kind, string Item)[] kinds =
        [
            ("api/v1", "", "Pod", "/api/v1/namespaces/{namespace}/pods/{name}"),
            ("apis/apps/v1", "apps", "DaemonSet", "/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}"),
            ("apis/policy/v1", "policy", "PodDisruptionBudget", "/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}"),
        ];
        web.MapGet("/openapi/v3", () => Json(new JsonObject
        {
            ["paths"] = new JsonObject(kinds.Select(k => KeyValuePair.Create(k.Path, (JsonNode?)new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{k.Path}?hash=1" }))),
        }));
        foreach (var kind in kinds)
        {
            web.MapGet("/openapi/v3/" + kind.Path, () => Json(new JsonObject
            {
                ["openapi"] = "3.0.0",
                ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.31.4+k3s1" },
                ["paths"] = new JsonObject
                {
                    [kind.Item] = new JsonObject
                    {
                        ["patch"] = new JsonObject
                        {
                            ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = kind.Group, ["version"] = "v1", ["kind"] = kind.Kind },
                            ["parameters"] = new JsonArray(new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } }),
                            ["responses"] = new JsonObject(),
                        },
                    },
                },
            }));
        }
    }

    private void MapPodCreate(WebApplication web) =>
        web.MapPost("/api/v1/namespaces/{ns}/pods", async (HttpContext c, string ns) =>
        {
            if (Authorized(c, "create", "", "pods", ns, null) is { } refused)
            {
                return refused;
            }

            if (!string.Equals(c.Request.ContentType?.Split(';')[0].Trim(), "application/json", StringComparison.OrdinalIgnoreCase))
            {
                return Status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json");
            }

            if (await ReadJsonAsync(c) is not JsonObject manifest)
            {
                return Status(400, "BadRequest", "the body of the request is not a JSON object");
            }

            var (pod, problem) = PodFromManifest(manifest, ns);
            if (problem is not null)
            {
                return problem;
            }

            if (c.Request.Query["dryRun"] == "All")
            {
                return Results.Text(PodJson(pod!).ToJsonString(), "application/json", statusCode: 201);
            }

            return Cluster.Create(pod!)
                ? Results.Text(PodJson(pod!).ToJsonString(), "application/json", statusCode: 201)
                : Status(409, "AlreadyExists", $"pods \"{pod!.Name}\" already exists", new JsonObject { ["name"] = pod.Name, ["kind"] = "pods" });
        });

    /// <summary>
    /// A Pod manifest as the API admits it: metadata checked against the URL, the spec read in its
    /// JSON shape (a field of the wrong type is a 400), validated (422 naming every bad field), the
    /// priority class resolved (403 for an unknown one), defaults applied; with spec.nodeName it is
    /// bound (and running) at once, otherwise Pending for the scheduler.
    /// </summary>
    private (TestPod? Pod, IResult? Problem) PodFromManifest(JsonObject manifest, string ns)
    {
        if (manifest["kind"]?.GetValue<string>() is { } kind && kind != "Pod" || manifest["apiVersion"]?.GetValue<string>() is { } version && version != "v1")
        {
            return (null, Status(400, "BadRequest", $"the API version in the data ({manifest["apiVersion"]}) does not match the expected API version (v1) or kind ({manifest["kind"]}) is not Pod"));
        }

        var metadata = manifest["metadata"] as JsonObject ?? [];
        var name = metadata["name"]?.GetValue<string>()
            ?? (metadata["generateName"]?.GetValue<string>() is { } prefix ? prefix + Guid.NewGuid().ToString("N")[..5] : null);
        if (metadata["namespace"]?.GetValue<string>() is { } given && given != ns)
        {
            return (null, Status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"));
        }

        PodSpec spec;
        Dictionary<string, string> labels, annotations;
        string? nodeName;
        try
        {
            var specJson = manifest["spec"]?.DeepClone() as JsonObject ?? [];
            nodeName = specJson["nodeName"]?.GetValue<string>();
            specJson.Remove("nodeName");
            spec = PodSpec.Parse(specJson);
            labels = metadata["labels"]?.Deserialize<Dictionary<string, string>>() ?? [];
            annotations = metadata["annotations"]?.Deserialize<Dictionary<string, string>>() ?? [];
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return (null, Status(400, "BadRequest", $"Pod in version \"v1\" cannot be handled as a Pod: {e.Message}"));
        }

        var errors = new List<FieldError>();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(FieldError.Required("metadata.name", "name or generateName is required"));
        }

        errors.AddRange(PodValidation.Validate(spec));
        if (errors.Count > 0)
        {
            return (null, Invalid("Pod", name ?? "", errors));
        }

        var priority = 0;
        if (spec.PriorityClassName is { Length: > 0 } className && !ClusterModel.PriorityClasses.TryGetValue(className, out priority))
        {
            return (null, Status(403, "Forbidden", $"pods \"{name}\" is forbidden: no PriorityClass with name {className} was found", new JsonObject { ["name"] = name, ["kind"] = "pods" }));
        }

        var owner = (manifest["metadata"]?["ownerReferences"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(o => o["controller"]?.GetValue<bool>() == true);
        var now = Cluster.Clock.GetUtcNow();
        return (new TestPod
        {
            Namespace = ns,
            Name = name!,
            Labels = labels,
            Annotations = annotations,
            OwnerKind = owner?["kind"]?.GetValue<string>(),
            OwnerName = owner?["name"]?.GetValue<string>(),
            Created = now,
            Spec = spec with { Priority = priority, TerminationGracePeriodSeconds = spec.TerminationGracePeriodSeconds ?? 30 },
            NodeName = nodeName,
            Phase = nodeName is null ? "Pending" : "Running",
        }, null);
    }

    private static IResult Invalid(string kind, string name, IReadOnlyList<FieldError> errors)
    {
        var detail = errors.Count == 1 ? errors[0].ToString() : $"[{string.Join(", ", errors)}]";
        return Status(422, "Invalid", $"{kind} \"{name}\" is invalid: {detail}", new JsonObject
        {
            ["name"] = name,
            ["kind"] = kind,
            ["causes"] = new JsonArray([.. errors.Select(e => (JsonNode)new JsonObject { ["reason"] = e.Reason, ["message"] = e.Message, ["field"] = e.Field })]),
        });
    }

    private void MapStorageAndDaemonSets(WebApplication web)
    {
        // Every namespace exists in the model (kubectl apply reads the pod's before it creates the pod).
        web.MapGet("/api/v1/namespaces/{ns}", (HttpContext c, string ns) => Authorized(c, "get", "", "namespaces", null, ns) ?? Json(new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Namespace",
            ["metadata"] = new JsonObject
            {
                ["name"] = ns, ["uid"] = "ns-" + ns, ["resourceVersion"] = "1", ["creationTimestamp"] = "2026-11-18T08:00:00Z",
                ["labels"] = new JsonObject(Cluster.LabelsOf(ns).Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            },
            ["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") },
            ["status"] = new JsonObject { ["phase"] = "Active" },
        }));

        web.MapGet("/api/v1/persistentvolumes", (HttpContext c) => Authorized(c, "list", "", "persistentvolumes", null, null) ??
            List(c, "PersistentVolumeList", "v1", ClusterFields, o => o.Volumes, v => v.Name, v => v.Labels, (v, _) => v.Name, VolumeJson));
        web.MapGet("/api/v1/persistentvolumes/{name}", (HttpContext c, string name) => Authorized(c, "get", "", "persistentvolumes", null, name) ??
            (Cluster.Read(o => o.Volumes.FirstOrDefault(v => v.Name == name) is { } v ? VolumeJson(v) : null) is { } found ? Json(found) : NotFound("", "persistentvolumes", name)));

        web.MapGet("/api/v1/persistentvolumeclaims", (HttpContext c) => Authorized(c, "list", "", "persistentvolumeclaims", null, null) ??
            List(c, "PersistentVolumeClaimList", "v1", NamespacedFields, o => o.Claims, v => $"{v.Namespace}/{v.Name}", v => v.Labels, (v, f) => f == "metadata.name" ? v.Name : v.Namespace, ClaimJson));
        web.MapGet("/api/v1/namespaces/{ns}/persistentvolumeclaims", (HttpContext c, string ns) => Authorized(c, "list", "", "persistentvolumeclaims", ns, null) ??
            List(c, "PersistentVolumeClaimList", "v1", NamespacedFields, o => o.Claims.Where(v => v.Namespace == ns), v => $"{v.Namespace}/{v.Name}", v => v.Labels, (v, f) => f == "metadata.name" ? v.Name : v.Namespace, ClaimJson));
        web.MapGet("/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}", (HttpContext c, string ns, string name) => Authorized(c, "get", "", "persistentvolumeclaims", ns, name) ??
            (Cluster.Read(o => o.Claims.FirstOrDefault(v => v.Namespace == ns && v.Name == name) is { } v ? ClaimJson(v) : null) is { } found ? Json(found) : NotFound("", "persistentvolumeclaims", name)));

        web.MapGet("/apis/apps/v1/daemonsets", (HttpContext c) => Authorized(c, "list", "apps", "daemonsets", null, null) ??
            List(c, "DaemonSetList", "apps/v1", NamespacedFields, o => o.DaemonSets, d => $"{d.Namespace}/{d.Name}", d => d.Labels, (d, f) => f == "metadata.name" ? d.Name : d.Namespace, DaemonSetJson));
        web.MapGet("/apis/apps/v1/namespaces/{ns}/daemonsets", (HttpContext c, string ns) => Authorized(c, "list", "apps", "daemonsets", ns, null) ??
            List(c, "DaemonSetList", "apps/v1", NamespacedFields, o => o.DaemonSets.Where(d => d.Namespace == ns), d => $"{d.Namespace}/{d.Name}", d => d.Labels, (d, f) => f == "metadata.name" ? d.Name : d.Namespace, DaemonSetJson));
        web.MapGet("/apis/apps/v1/namespaces/{ns}/daemonsets/{name}", (HttpContext c, string ns, string name) => Authorized(c, "get", "apps", "daemonsets", ns, name) ??
            (Cluster.Read(o => o.DaemonSets.FirstOrDefault(d => d.Namespace == ns && d.Name == name) is { } d ? DaemonSetJson(d) : null) is { } found ? Json(found) : NotFound("apps", "daemonsets", name)));
    }

    private JsonObject Metadata(string name, string? ns, string uidPrefix, IReadOnlyDictionary<string, string> labels)
    {
        var metadata = new JsonObject
        {
            ["name"] = name,
            ["uid"] = $"{uidPrefix}-{ns}-{name}",
            ["resourceVersion"] = Cluster.Revision.ToString(CultureInfo.InvariantCulture),
            ["creationTimestamp"] = "2026-11-18T08:00:00Z",
            ["labels"] = new JsonObject(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
        };
        if (ns is not null)
        {
            metadata["namespace"] = ns;
        }

        return metadata;
    }

    private static JsonObject NodeSelectorJson(IReadOnlyList<NodeSelectorTermSpec> terms) =>
        new() { ["nodeSelectorTerms"] = JsonSerializer.SerializeToNode(terms, PodSpec.JsonOptions) };

    /// <summary>A PersistentVolume; Bound (with its claimRef) while a claim names it.</summary>
    private JsonNode VolumeJson(TestVolume v)
    {
        var claim = Cluster.Read(o => o.Claims.FirstOrDefault(c => c.VolumeName == v.Name));
        var metadata = Metadata(v.Name, null, "pv", v.Labels);
        var spec = new JsonObject
        {
            ["capacity"] = new JsonObject { ["storage"] = v.Capacity.Text },
            ["accessModes"] = new JsonArray("ReadWriteOnce"),
            ["persistentVolumeReclaimPolicy"] = "Delete",
            ["storageClassName"] = v.StorageClassName,
            ["volumeMode"] = "Filesystem",
        };
        if (v.NodeAffinity is { } terms)
        {
            spec["nodeAffinity"] = new JsonObject { ["required"] = NodeSelectorJson(terms) };
        }

        if (claim is not null)
        {
            spec["claimRef"] = new JsonObject { ["kind"] = "PersistentVolumeClaim", ["namespace"] = claim.Namespace, ["name"] = claim.Name, ["apiVersion"] = "v1" };
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "PersistentVolume", ["metadata"] = metadata, ["spec"] = spec,
            ["status"] = new JsonObject { ["phase"] = claim is null ? "Available" : "Bound" },
        };
    }

    /// <summary>A PersistentVolumeClaim; spec.volumeName binds it (Bound), else it is Pending.</summary>
    private JsonNode ClaimJson(TestClaim c)
    {
        var spec = new JsonObject
        {
            ["accessModes"] = new JsonArray("ReadWriteOnce"),
            ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["storage"] = c.Request.Text } },
            ["storageClassName"] = c.StorageClassName,
            ["volumeMode"] = "Filesystem",
        };
        if (c.VolumeName is not null)
        {
            spec["volumeName"] = c.VolumeName;
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "PersistentVolumeClaim", ["metadata"] = Metadata(c.Name, c.Namespace, "pvc", c.Labels), ["spec"] = spec,
            ["status"] = new JsonObject { ["phase"] = c.VolumeName is null ? "Pending" : "Bound" },
        };
    }

    /// <summary>A DaemonSet with its template and the controller's status: nodes it should run on, pods scheduled and ready.</summary>
    private JsonNode DaemonSetJson(TestDaemonSet d)
    {
        var (desired, scheduled, ready) = Cluster.Read(o =>
        {
            var pods = o.Pods.Where(p => p.Namespace == d.Namespace && p.OwnerKind == "DaemonSet" && p.OwnerName == d.Name && p.NodeName is not null).ToList();
            return (o.Nodes.Count(n => ClusterModel.ShouldRun(d, n)), pods.Count, pods.Count(p => p.Phase == "Running"));
        });
        var labels = new JsonObject(d.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value)));
        return new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "DaemonSet",
            ["metadata"] = Metadata(d.Name, d.Namespace, "ds", d.Labels),
            ["spec"] = new JsonObject
            {
                ["selector"] = new JsonObject { ["matchLabels"] = labels.DeepClone() },
                ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = labels }, ["spec"] = d.Spec.ToJson() },
                ["updateStrategy"] = new JsonObject { ["type"] = "RollingUpdate", ["rollingUpdate"] = new JsonObject { ["maxUnavailable"] = 1, ["maxSurge"] = 0 } },
                ["revisionHistoryLimit"] = 10,
            },
            ["status"] = new JsonObject
            {
                ["desiredNumberScheduled"] = desired,
                ["currentNumberScheduled"] = scheduled,
                ["numberReady"] = ready,
                ["numberAvailable"] = ready,
                ["updatedNumberScheduled"] = scheduled,
                ["numberMisscheduled"] = 0,
                ["observedGeneration"] = 1,
            },
        };
    }

    /// <summary>One field error, worded as apimachinery's field.Error is.</summary>
    internal sealed record FieldError(string Field, string Reason, string Message)
    {
        public static FieldError Required(string field, string detail = "") =>
            new(field, "FieldValueRequired", detail.Length == 0 ? "Required value" : $"Required value: {detail}");

        public static FieldError Invalid(string field, object? value, string detail) =>
            new(field, "FieldValueInvalid", $"Invalid value: {Go(value)}: {detail}");

        public static FieldError NotSupported(string field, string? value, params string[] supported) =>
            new(field, "FieldValueNotSupported", $"Unsupported value: {Go(value)}: supported values: {string.Join(", ", supported.Select(s => $"\"{s}\""))}");

        public static FieldError Forbidden(string field, string detail) => new(field, "FieldValueForbidden", $"Forbidden: {detail}");

        public override string ToString() => $"{Field}: {Message}";

        private static string Go(object? value) => value switch
        {
            null => "\"\"",
            string text => $"\"{text}\"",
            IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
    }
}
