using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;

namespace NodeFleet.Cluster.Prometheus;

/// <summary>
/// The cluster snapshot from Prometheus, every query evaluated at the same instant: nodes and
/// utilisation. Pods (the unschedulable ones with their constraints, and which pods a drain may
/// evict) come from the Kubernetes API, not from here.
/// </summary>
public sealed class PrometheusMetricsSource(IPrometheusQuery prometheus, ScalingSettings settings) : IMetricsSource
{
    /// <summary>Time a new worker is given, beyond cpuRateWindow, before its utilisation series must exist.</summary>
    public static readonly TimeSpan UtilizationGrace = TimeSpan.FromMinutes(2);

    private const string ManagedLabel = "label_nodefleet_io_managed";
    private const string CapacityLabel = "label_nodefleet_io_capacity_type";
    private const string ZoneLabel = "label_topology_kubernetes_io_zone";
    private const string TypeLabel = "label_node_kubernetes_io_instance_type";

    public async Task<ClusterSnapshot> CollectAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        Task<IReadOnlyList<Sample>> Q(string name, string promql) => prometheus.QueryAsync(name, promql, at, cancellationToken);
        var cpu = PromQl.WorkerCpu(settings.CpuRateWindow);

        var nodesQ = Q("nodes", PromQl.Nodes);
        var readyQ = Q("ready", PromQl.Ready);
        var allocatableQ = Q("allocatable", PromQl.Allocatable);
        var cordonedQ = Q("cordoned", PromQl.Cordoned);
        var controlPlaneQ = Q("controlPlane", PromQl.ControlPlane);
        var labelsQ = Q("labels", PromQl.Labels);
        var createdQ = Q("created", PromQl.Created);
        var requestedQ = Q("requested", PromQl.Requested);
        var podCountQ = Q("podCount", PromQl.PodCount);
        var cpuNowQ = Q("cpuNow", cpu);
        var cpuUpQ = Q("cpuMinOverUpWindow", PromQl.MinOver(cpu, settings.ScaleUpCpuWindow));
        var cpuDownQ = Q("cpuMaxOverDownWindow", PromQl.MaxOver(cpu, settings.ScaleDownWindow));
        var memoryNowQ = Q("memoryNow", PromQl.WorkerMemory);
        var memoryDownQ = Q("memoryMaxOverDownWindow", PromQl.MaxOver(PromQl.WorkerMemory, settings.ScaleDownWindow));
        var memoryUseQ = Q("memoryUseOfRequests", PromQl.MaxOver($"({PromQl.MemoryUseOfRequests})", settings.ScaleDownWindow));
        var predictedQ = settings.PredictiveHorizon > TimeSpan.Zero
            ? Q("predictedCpuUtilization", PromQl.PredictedCpu(cpu, settings.PredictiveLookback, settings.PredictiveHorizon))
            : null;
        var customQ = settings.CustomMetricQuery is { } custom ? Q("customMetricValue", custom) : null;
        var riseQ = settings.Headroom > 0 ? Q("requestedCpuRise", PromQl.RequestedCpuRise(settings.HeadroomWindow)) : null;
        var quartersQ = settings.Headroom > 0 ? Q("requestedCpuRisingQuarters", PromQl.RequestedCpuRisingQuarters(settings.HeadroomWindow)) : null;
        var swingQ = Q("requestedCpuSwing", PromQl.RequestedCpuSwing(settings.HeadroomWindow));
        await Task.WhenAll(new Task[] { nodesQ, readyQ, allocatableQ, cordonedQ, controlPlaneQ, labelsQ, createdQ, requestedQ, podCountQ, cpuNowQ, cpuUpQ, cpuDownQ, memoryNowQ, memoryDownQ, memoryUseQ }
            .Concat(predictedQ is null ? [] : [predictedQ]).Concat(customQ is null ? [] : [customQ]).Concat(riseQ is null ? [] : [riseQ, quartersQ!]).Append(swingQ)).ConfigureAwait(false);

        var nodes = BuildNodes(nodesQ.Result, readyQ.Result, allocatableQ.Result, cordonedQ.Result,
            controlPlaneQ.Result, labelsQ.Result, createdQ.Result, requestedQ.Result, podCountQ.Result);
        // A worker's CPU rate exists only once node-exporter on it has been scraped twice within
        // cpuRateWindow. While every Ready worker is younger than that (plus time for node-exporter
        // to start), missing utilisation is expected and left null: Decide then still acts on
        // pending pods. Once one is older, missing utilisation is a broken scrape and fails loudly.
        var establishedWorker = nodes.Any(n => n.IsWorker && n.Ready && !(n.CreatedAt > at - settings.CpuRateWindow - UtilizationGrace));
        return new ClusterSnapshot
        {
            CapturedAt = at,
            Nodes = nodes,
            Utilization = new UtilizationMetrics
            {
                CpuNow = Scalar("cpuNow", cpuNowQ.Result, establishedWorker),
                CpuMinOverUpWindow = Scalar("cpuMinOverUpWindow", cpuUpQ.Result, establishedWorker),
                CpuMaxOverDownWindow = Scalar("cpuMaxOverDownWindow", cpuDownQ.Result, establishedWorker),
                MemoryNow = Scalar("memoryNow", memoryNowQ.Result, establishedWorker),
                MemoryMaxOverDownWindow = Scalar("memoryMaxOverDownWindow", memoryDownQ.Result, establishedWorker),
                // Optional: without cAdvisor (or with no pod on a worker) memory in use counts as measured.
                MemoryUseOfRequests = Scalar("memoryUseOfRequests", memoryUseQ.Result, required: false),
            },
            // Pending pods come from the API with their scheduling constraints (PodFactsMapping), never from metrics.
            UnschedulablePods = [],
            PredictedCpuUtilization = predictedQ is null ? null : Scalar("predictedCpuUtilization", predictedQ.Result, establishedWorker),
            CustomMetricValue = customQ is null ? null : Scalar("customMetricValue", customQ.Result, required: true),
            // Without it headroom is simply not kept: a missing rise never launches anything.
            RequestedCpuRise = riseQ is null ? null : Millicores(Scalar("requestedCpuRise", riseQ.Result, required: false)),
            RequestedCpuRisingQuarters = quartersQ is null || Scalar("requestedCpuRisingQuarters", quartersQ.Result, required: false) is not { } quarters ? null : (int)Math.Round(quarters),
            RequestedCpuSwing = Millicores(Scalar("requestedCpuSwing", swingQ.Result, required: false)),
        };
    }

    /// <summary>
    /// One number from a query that aggregates to a single series. Empty is allowed only when it
    /// may be (worker utilisation before any Ready worker is established); otherwise it is missing
    /// data, never zero.
    /// </summary>
    private static double? Scalar(string name, IReadOnlyList<Sample> samples, bool required)
    {
        if (samples.Count == 0)
        {
            return required ? throw new MetricsUnavailableException($"{name}: the query returned no series although Ready workers exist (is node-exporter scraped with a node label?)") : null;
        }

        var value = samples[0].Value;
        return double.IsFinite(value) ? value : throw new MetricsUnavailableException($"{name}: the query returned {value}");
    }

    /// <summary>
    /// Cores to whole millicores. Requests are whole millicores; a difference of two sums of them
    /// carries float noise (4e-13 cores, in the order Prometheus happened to add) that must not
    /// read as a growing workload.
    /// </summary>
    private static double? Millicores(double? cores) => cores is { } c ? Math.Round(c * 1000) : null;

    private static List<NodeInfo> BuildNodes(
        IReadOnlyList<Sample> info, IReadOnlyList<Sample> ready, IReadOnlyList<Sample> allocatable, IReadOnlyList<Sample> cordoned,
        IReadOnlyList<Sample> controlPlane, IReadOnlyList<Sample> labels, IReadOnlyList<Sample> created,
        IReadOnlyList<Sample> requested, IReadOnlyList<Sample> podCount)
    {
        if (info.Count == 0)
        {
            throw new MetricsUnavailableException("nodes: kube_node_info returned no series (the control plane always reports: is kube-state-metrics scraped?)");
        }

        static HashSet<string> Names(IReadOnlyList<Sample> s) => s.Select(x => x.Label("node")).ToHashSet(StringComparer.Ordinal);
        var readySet = Names(ready);
        // Cordoned only: taints are the API's facts on the node (NodeInfo.Taints), which a pod may tolerate.
        var unschedulable = Names(cordoned).ToHashSet(StringComparer.Ordinal);
        var controlPlaneSet = Names(controlPlane);
        var labelsByNode = labels.GroupBy(l => l.Label("node")).ToDictionary(g => g.Key, g => g.First().Labels);
        var createdByNode = created.GroupBy(c => c.Label("node")).ToDictionary(g => g.Key, g => g.First().Value);
        var podsByNode = podCount.GroupBy(c => c.Label("node")).ToDictionary(g => g.Key, g => (int)g.First().Value);
        long Resource(IReadOnlyList<Sample> samples, string node, string resource, double scale) =>
            (long)Math.Round(samples.Where(s => s.Label("node") == node && s.Label("resource") == resource).Sum(s => s.Value) * scale);

        var nodes = new List<NodeInfo>();
        foreach (var series in info.DistinctBy(s => s.Label("node")))
        {
            var name = series.Label("node");
            var nodeLabels = labelsByNode.GetValueOrDefault(name) ?? new Dictionary<string, string>();
            // A node whose provider id is not aws:///zone/i-... maps to no instance (K3s' default k3s://host).
            var mapped = ProviderId.TryParse(series.Label("provider_id"), out var zone, out var instanceId);
            var alloc = new Resources(Resource(allocatable, name, "cpu", 1000), Resource(allocatable, name, "memory", 1), (int)Resource(allocatable, name, "pods", 1));
            var isReady = readySet.Contains(name);
            if (isReady && (alloc.CpuMillis == 0 || alloc.MemoryBytes == 0))
            {
                throw new MetricsUnavailableException($"allocatable: no cpu or memory series for the Ready node {name}");
            }

            nodes.Add(new NodeInfo
            {
                Name = name,
                InstanceId = mapped ? instanceId : null,
                Zone = nodeLabels.GetValueOrDefault(ZoneLabel) is { Length: > 0 } z ? z : mapped ? zone : null,
                InstanceType = nodeLabels.GetValueOrDefault(TypeLabel) is { Length: > 0 } t ? t : null,
                CapacityType = nodeLabels.GetValueOrDefault(CapacityLabel) switch
                {
                    "spot" => CapacityType.Spot,
                    "on-demand" => CapacityType.OnDemand,
                    _ => null,
                },
                Ready = isReady,
                Unschedulable = unschedulable.Contains(name),
                ControlPlane = controlPlaneSet.Contains(name),
                Managed = nodeLabels.GetValueOrDefault(ManagedLabel) == "true",
                CreatedAt = createdByNode.TryGetValue(name, out var c) ? DateTimeOffset.FromUnixTimeMilliseconds((long)(c * 1000)) : null,
                Allocatable = alloc,
                Requested = new Resources(Resource(requested, name, "cpu", 1000), Resource(requested, name, "memory", 1), podsByNode.GetValueOrDefault(name)),
            });
        }

        return nodes.OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
    }
}
