using NodeFleet.Aws;
using NodeFleet.Cluster;
using NodeFleet.Core.Cluster;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.CollectMetrics;

/// <summary>
/// Measures the cluster for Decide: utilisation from Prometheus; the unschedulable pods with their
/// scheduling constraints, the DaemonSets and which pods each worker's drain could move from the
/// Kubernetes API; and the remembered state (DynamoDB).
/// Any of them failing fails the step with a named error; nothing is ever reported as zero.
/// </summary>
public sealed class Function
{
    private readonly IMetricsSource metrics;
    private readonly IClusterApi kubernetes;
    private readonly IComputeFleet instances;
    private readonly IFleetStateStore store;
    private readonly TimeProvider clock;
    private readonly StepLog log;
    private readonly string clusterName;
    private readonly EventOrigin origin;

    public Function()
        : this(RealAdapters())
    {
    }

    private Function((IMetricsSource Metrics, IClusterApi Kubernetes, IComputeFleet Instances, IFleetStateStore Store, string ClusterName, EventOrigin Origin) real)
        : this(real.Metrics, real.Kubernetes, real.Instances, real.Store, TimeProvider.System, Console.Out, real.ClusterName, real.Origin)
    {
    }

    /// <param name="origin">The account and region whose EC2 events are trusted.</param>
    public Function(IMetricsSource metrics, IClusterApi kubernetes, IComputeFleet instances, IFleetStateStore store, TimeProvider clock, TextWriter logOutput, string clusterName, EventOrigin origin)
    {
        this.origin = origin;
        this.metrics = metrics;
        this.kubernetes = kubernetes;
        this.instances = instances;
        this.store = store;
        this.clock = clock;
        this.clusterName = clusterName;
        log = new StepLog(logOutput, clock, "CollectMetrics");
    }

    /// <summary>
    /// The request carries the execution's input (the trigger). A tick measures everything; an EC2 event needs only
    /// the nodes, read from the Kubernetes API, so a Prometheus outage cannot delay an interruption. Both list
    /// the managed instances and the API's nodes (the inventory): the reconcile pass and the maximum count on them.
    /// </summary>
    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.CollectMetricsRequest).ConfigureAwait(false);
        var trigger = Trigger.Parse(request.Event, origin);
        var now = clock.GetUtcNow();
        var fleetTask = store.LoadAsync(CancellationToken.None);
        var instancesTask = instances.DescribeManagedAsync(CancellationToken.None);
        var nodesTask = kubernetes.ListNodesAsync(null, CancellationToken.None);
        var clusterNodes = await nodesTask.ConfigureAwait(false);
        var apiNodes = clusterNodes.Select(NodeMapping.ToNodeInfo).ToList();
        var snapshot = trigger.IsInterruption ? NodesOnly(now, apiNodes) : await MeasureAsync(now, clusterNodes).ConfigureAwait(false);
        var fleet = await fleetTask.ConfigureAwait(false);
        var inventory = new Inventory
        {
            Instances = (await instancesTask.ConfigureAwait(false)).Select(i => new InstanceInfo
            {
                InstanceId = i.InstanceId, Zone = i.Zone, State = i.State, LaunchedAt = i.LaunchedAt, LaunchId = i.LaunchId,
            }).ToList(),
            Nodes = apiNodes,
        };

        var u = snapshot.Utilization;
        log.Metrics(
            $"{trigger.Kind}{(trigger.InstanceId is null ? "" : " " + trigger.InstanceId)}: {snapshot.Nodes.Count} node(s), {snapshot.UnschedulablePods.Sum(g => g.Count)} unschedulable pod(s)",
            clusterName,
            new Dictionary<string, double>
            {
                ["Nodes"] = snapshot.Nodes.Count,
                ["PendingPods"] = snapshot.UnschedulablePods.Sum(g => g.Count),
            },
            new Dictionary<string, object?>
            {
                ["trigger"] = trigger.Kind.ToString(), ["cpuNow"] = u.CpuNow, ["memoryNow"] = u.MemoryNow, ["inFlight"] = fleet.InFlight.Count,
                ["managedInstances"] = inventory.Instances.Count,
            });
        return StepJson.Write(new Observation { Trigger = trigger, Snapshot = PodSets.Pack(snapshot), Fleet = fleet, Inventory = inventory }, NodeFleetJsonContext.Default.Observation);
    }

    /// <summary>
    /// Utilisation from Prometheus; the pods, their budgets and everything scheduling needs
    /// (unschedulable pods with their constraints, bound volumes, DaemonSets) from the API.
    /// </summary>
    private async Task<ClusterSnapshot> MeasureAsync(DateTimeOffset now, IReadOnlyList<ClusterNode> nodes)
    {
        var snapshotTask = metrics.CollectAsync(now, CancellationToken.None);
        var podsTask = kubernetes.ListPodsAsync(CancellationToken.None);
        var budgetsTask = kubernetes.ListDisruptionBudgetsAsync(CancellationToken.None);
        var claimsTask = kubernetes.ListPersistentVolumeClaimsAsync(CancellationToken.None);
        var volumesTask = kubernetes.ListPersistentVolumesAsync(CancellationToken.None);
        var daemonSetsTask = kubernetes.ListDaemonSetsAsync(CancellationToken.None);
        await Task.WhenAll(snapshotTask, podsTask, budgetsTask, claimsTask, volumesTask, daemonSetsTask).ConfigureAwait(false);
        var objects = new ClusterObjects
        {
            Pods = podsTask.Result,
            Nodes = nodes,
            Claims = claimsTask.Result,
            Volumes = volumesTask.Result,
            DaemonSets = daemonSetsTask.Result,
        };
        return PodFactsMapping.WithPodFacts(snapshotTask.Result, podsTask.Result, budgetsTask.Result, objects);
    }

    private static ClusterSnapshot NodesOnly(DateTimeOffset now, IReadOnlyList<NodeInfo> nodes) => new()
    {
        CapturedAt = now,
        Utilization = new UtilizationMetrics(),
        Nodes = nodes,
        UnschedulablePods = [],
    };

    private static (IMetricsSource, IClusterApi, IComputeFleet, IFleetStateStore, string, EventOrigin) RealAdapters()
    {
        var env = new EnvironmentReader(Environment.GetEnvironmentVariable);
        var origin = env.Valid(new EventOrigin(env.Get(SettingsCatalog.AwsAccount, required: true) ?? "", env.Get(SettingsCatalog.AwsRegion, required: true) ?? ""));
        var scaling = SettingsCatalog.FromEnvironment(Environment.GetEnvironmentVariable);
        var settings = ClusterSettings.FromEnvironment(Environment.GetEnvironmentVariable, needsPrometheus: true);
        var fleet = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, SettingsCatalog.StateTable);
        var endpoint = AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable);
        return (ClusterAdapters.Metrics(settings, scaling), ClusterAdapters.KubernetesFromEnvironment(settings),
            AwsAdapters.ComputeFleet(endpoint, fleet), AwsAdapters.StateStore(endpoint, fleet), scaling.ClusterName, origin);
    }
}
