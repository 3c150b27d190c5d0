using NodeFleet.Aws;
using NodeFleet.Cluster;
using NodeFleet.Core.Cluster;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.Reconcile;

/// <summary>
/// Puts EC2, Kubernetes and NodeFleet's memory back in step, as Decide planned it, under the
/// lease: terminates orphans, deletes Node objects without an instance, lifts cordons no drain holds.
/// </summary>
public sealed class Function
{
    private readonly Reconciliation reconciliation;
    private readonly TimeProvider clock;
    private readonly StepLog log;

    public Function()
        : this(RealAdapters())
    {
    }

    private Function((IComputeFleet Fleet, IClusterApi Kubernetes, IFleetStateStore Store) real)
        : this(real.Fleet, real.Kubernetes, real.Store, TimeProvider.System, Console.Out)
    {
    }

    public Function(IComputeFleet fleet, IClusterApi kubernetes, IFleetStateStore store, TimeProvider clock, TextWriter logOutput)
    {
        reconciliation = new Reconciliation(fleet, kubernetes, store);
        this.clock = clock;
        log = new StepLog(logOutput, clock, "Reconcile");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.ReconcileRequest).ConfigureAwait(false);
        var lease = ContractValidation.RequireLease(request.Lock);
        var result = await reconciliation.RunAsync(request.Plan ?? ReconcilePlan.Nothing, lease, clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        log.Info(
            $"Terminated {result.Terminated.Count}, deleted {result.DeletedNodes.Count} node(s), uncordoned {result.Uncordoned.Count}, left {result.Skipped.Count}",
            new Dictionary<string, object?>
            {
                ["terminated"] = string.Join(",", result.Terminated),
                ["deletedNodes"] = string.Join(",", result.DeletedNodes),
                ["uncordoned"] = string.Join(",", result.Uncordoned),
                ["skipped"] = string.Join("; ", result.Skipped),
            });
        return StepJson.Write(result, NodeFleetJsonContext.Default.ReconcileResult);
    }

    private static (IComputeFleet, IClusterApi, IFleetStateStore) RealAdapters()
    {
        var cluster = ClusterSettings.FromEnvironment(Environment.GetEnvironmentVariable, needsPrometheus: false);
        var fleet = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, SettingsCatalog.StateTable);
        var endpoint = AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable);
        return (AwsAdapters.ComputeFleet(endpoint, fleet), ClusterAdapters.KubernetesFromEnvironment(cluster), AwsAdapters.StateStore(endpoint, fleet));
    }
}
