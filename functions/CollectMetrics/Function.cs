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
/// Measures the cluster for Decide: utilisation and unschedulable pods from Prometheus, which
/// pods each worker's drain could move (Kubernetes API), and the remembered state (DynamoDB).
/// Any of them failing fails the step with a named error; nothing is ever reported as zero.
/// </summary>
public sealed class Function
{
    private readonly IMetricsSource metrics;
    private readonly IClusterApi cluster;
    private readonly IFleetStateStore store;
    private readonly TimeProvider clock;
    private readonly StepLog log;
    private readonly string clusterName;

    public Function()
        : this(FromEnvironment(out var cluster, out var store, out var name), cluster, store, TimeProvider.System, Console.Out, name)
    {
    }

    public Function(IMetricsSource metrics, IClusterApi cluster, IFleetStateStore store, TimeProvider clock, TextWriter logOutput, string clusterName)
    {
        this.metrics = metrics;
        this.cluster = cluster;
        this.store = store;
        this.clock = clock;
        this.clusterName = clusterName;
        log = new StepLog(logOutput, clock, "CollectMetrics");
    }

    /// <summary>The input (the trigger) is not read: every tick measures the same things.</summary>
    public async Task<Stream> FunctionHandler(Stream input)
    {
        var now = clock.GetUtcNow();
        var snapshotTask = metrics.CollectAsync(now, CancellationToken.None);
        var podsTask = cluster.ListPodsAsync(CancellationToken.None);
        var budgetsTask = cluster.ListDisruptionBudgetsAsync(CancellationToken.None);
        var fleetTask = store.LoadAsync(CancellationToken.None);
        await Task.WhenAll(snapshotTask, podsTask, budgetsTask, fleetTask).ConfigureAwait(false);

        var snapshot = PodFactsMapping.WithPodFacts(snapshotTask.Result, podsTask.Result, budgetsTask.Result);
        var u = snapshot.Utilization;
        log.Metrics(
            $"Measured {snapshot.Nodes.Count} node(s), {snapshot.UnschedulablePods.Sum(g => g.Count)} unschedulable pod(s)",
            clusterName,
            new Dictionary<string, double>
            {
                ["Nodes"] = snapshot.Nodes.Count,
                ["PendingPods"] = snapshot.UnschedulablePods.Sum(g => g.Count),
            },
            new Dictionary<string, object?> { ["cpuNow"] = u.CpuNow, ["memoryNow"] = u.MemoryNow, ["inFlight"] = fleetTask.Result.InFlight.Count });
        return StepJson.Write(new Observation { Snapshot = snapshot, Fleet = fleetTask.Result }, NodeFleetJsonContext.Default.Observation);
    }

    private static IMetricsSource FromEnvironment(out IClusterApi cluster, out IFleetStateStore store, out string clusterName)
    {
        var scaling = SettingsCatalog.FromEnvironment(Environment.GetEnvironmentVariable);
        var settings = ClusterSettings.FromEnvironment(Environment.GetEnvironmentVariable, needsPrometheus: true);
        var fleet = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, "NODEFLEET_STATE_TABLE");
        cluster = ClusterAdapters.KubernetesFromEnvironment(settings);
        store = AwsAdapters.StateStore(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable), fleet);
        clusterName = scaling.ClusterName;
        return ClusterAdapters.Metrics(settings, scaling);
    }
}
