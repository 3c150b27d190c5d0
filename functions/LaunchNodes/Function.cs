using NodeFleet.Aws;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.LaunchNodes;

/// <summary>
/// Launches the decided number of workers in one step and remembers them as in flight. A retry
/// of the same execution reuses its launch id, so it launches only what is still missing.
/// </summary>
public sealed class Function
{
    private readonly IComputeFleet fleet;
    private readonly IFleetStateStore store;
    private readonly TimeProvider clock;
    private readonly StepLog log;
    private readonly string clusterName;

    public Function()
        : this(RealAdapters())
    {
    }

    private Function((IComputeFleet Fleet, IFleetStateStore Store, string ClusterName) real)
        : this(real.Fleet, real.Store, TimeProvider.System, Console.Out, real.ClusterName)
    {
    }

    public Function(IComputeFleet fleet, IFleetStateStore store, TimeProvider clock, TextWriter logOutput, string clusterName)
    {
        this.fleet = fleet;
        this.store = store;
        this.clock = clock;
        this.clusterName = clusterName;
        log = new StepLog(logOutput, clock, "LaunchNodes");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.LaunchNodesRequest).ConfigureAwait(false);
        var executionId = ContractValidation.RequireExecutionId(request.ExecutionId);
        var lease = ContractValidation.RequireLease(request.Lock);
        if (request.NodesToAdd < 1)
        {
            throw InvalidInputException.For([$"$.nodesToAdd: must be 1 or more (got {request.NodesToAdd})"]);
        }

        var launchId = LaunchIds.For(executionId);
        var startedAt = clock.GetUtcNow();
        // The fence before the side effect: a preempted or expired execution launches nothing.
        await store.EnsureHeldAsync(lease, startedAt, CancellationToken.None).ConfigureAwait(false);
        var result = await fleet.LaunchAsync(new LaunchRequest(launchId, request.NodesToAdd), CancellationToken.None).ConfigureAwait(false);
        if (result.Instances.Count > 0)
        {
            await store.RecordLaunchAsync(lease, new InFlightLaunch
            {
                LaunchId = launchId,
                StartedAt = startedAt,
                InstanceIds = result.Instances.Select(i => i.InstanceId).ToList(),
            }, CancellationToken.None).ConfigureAwait(false);
        }

        var outcome = new LaunchOutcome
        {
            LaunchId = launchId,
            Requested = request.NodesToAdd,
            StartedAt = startedAt,
            Instances = result.Instances.Select(i => new LaunchedInstance
            {
                InstanceId = i.InstanceId,
                Zone = i.Zone,
                InstanceType = i.InstanceType,
                CapacityType = i.CapacityType,
            }).ToList(),
            Errors = result.Errors,
        };
        var spot = outcome.Instances.Count(i => i.CapacityType == CapacityType.Spot);
        log.Metrics(
            $"Launched {outcome.Instances.Count} of {outcome.Requested} worker(s) ({spot} spot) under {launchId}" + (outcome.Errors.Count > 0 ? $"; EC2 could not fill: {string.Join("; ", outcome.Errors)}" : ""),
            clusterName,
            new Dictionary<string, double> { ["InstancesLaunched"] = outcome.Instances.Count, ["LaunchShortfall"] = outcome.Requested - outcome.Instances.Count },
            new Dictionary<string, object?> { ["launchId"] = launchId, ["instanceIds"] = string.Join(",", outcome.Instances.Select(i => i.InstanceId)) });
        return StepJson.Write(outcome, NodeFleetJsonContext.Default.LaunchOutcome);
    }

    private static (IComputeFleet, IFleetStateStore, string) RealAdapters()
    {
        var settings = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable,
            SettingsCatalog.StateTable, SettingsCatalog.LaunchTemplateId, SettingsCatalog.WorkerSubnets, SettingsCatalog.InstanceTypes);
        var endpoint = AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable);
        return (AwsAdapters.ComputeFleet(endpoint, settings), AwsAdapters.StateStore(endpoint, settings), settings.ClusterName);
    }
}
