using NodeFleet.Aws;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using NodeFleet.Core.Workflow;
using NodeFleet.Hosting;

namespace NodeFleet.LaunchNodes;

/// <summary>
/// Launches the decided number of workers in one step and remembers them as in flight. A retry
/// of the same execution reuses its launch id, so it launches only what is still missing. Refuses
/// a count outside 1..maxStep or one that would take the managed instances past maxNodes. Pools
/// that answered a capacity error are recorded as unavailable for <c>unavailablePoolTtl</c>, and
/// the launch asks the pools recorded so last.
/// </summary>
public sealed class Function
{
    /// <summary>
    /// The overall budget of the EC2 part (DescribeInstances' pages, then one CreateFleet per pool
    /// set asked): steps.json's budget for LaunchNodes counts it as its deadline.
    /// </summary>
    public static readonly TimeSpan LaunchBudget = TimeSpan.FromSeconds(60);

    private readonly IComputeFleet fleet;
    private readonly IFleetStateStore store;
    private readonly TimeProvider clock;
    private readonly StepLog log;
    private readonly ScalingSettings scaling;
    private readonly TimeSpan unavailablePoolTtl;
    private readonly TimeSpan launchBudget;

    public Function()
        : this(RealAdapters())
    {
    }

    private Function((IComputeFleet Fleet, IFleetStateStore Store, ScalingSettings Scaling, TimeSpan PoolTtl) real)
        : this(real.Fleet, real.Store, TimeProvider.System, Console.Out, real.Scaling, real.PoolTtl)
    {
    }

    public Function(IComputeFleet fleet, IFleetStateStore store, TimeProvider clock, TextWriter logOutput, ScalingSettings scaling, TimeSpan unavailablePoolTtl, TimeSpan? launchBudget = null)
    {
        ArgumentNullException.ThrowIfNull(scaling);
        this.fleet = fleet;
        this.store = store;
        this.clock = clock;
        this.scaling = scaling;
        this.unavailablePoolTtl = unavailablePoolTtl;
        this.launchBudget = launchBudget ?? LaunchBudget;
        log = new StepLog(logOutput, clock, "LaunchNodes");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.LaunchNodesRequest).ConfigureAwait(false);
        var executionId = ContractValidation.RequireExecutionId(request.ExecutionId);
        var lease = ContractValidation.RequireLease(request.Lock);
        if (request.NodesToAdd < 1 || request.NodesToAdd > scaling.MaxStep)
        {
            throw InvalidInputException.For([$"$.nodesToAdd: must be 1 to maxStep ({scaling.MaxStep}) (got {request.NodesToAdd})"]);
        }

        ContractValidation.RequireZoneShares(request.Zones, request.NodesToAdd, scaling.Platform.Zones);
        var launchId = LaunchIds.For(executionId);
        var startedAt = clock.GetUtcNow();
        var state = await store.LoadAsync(CancellationToken.None).ConfigureAwait(false);
        // The fence before the side effect: a preempted or expired execution launches nothing.
        await store.EnsureHeldAsync(lease, startedAt, CancellationToken.None).ConfigureAwait(false);
        var result = await AwsCalls.WithinAsync("ec2", "LaunchNodes' EC2 calls", launchBudget, async deadline =>
        {
            // EC2 is the truth: every running or pending managed instance counts, recorded or not;
            // this launch's own (a retry's) are part of nodesToAdd.
            var managed = await fleet.DescribeManagedAsync(deadline).ConfigureAwait(false);
            var others = managed.Count(i => i.LaunchId != launchId);
            var leaving = request.Route == WorkflowRoute.Replace ? 1 : 0;
            if (others - leaving + request.NodesToAdd > scaling.MaxNodes)
            {
                throw InvalidInputException.For([$"$.nodesToAdd: {request.NodesToAdd} more would make {others - leaving + request.NodesToAdd} managed instances, above maxNodes ({scaling.MaxNodes}); {others} run already" + (leaving > 0 ? ", one of them being replaced" : "")]);
            }

            return await fleet.LaunchAsync(new LaunchRequest(launchId, request.NodesToAdd)
            {
                TryLast = FleetTransitions.Unavailable(state, startedAt),
                Zones = request.Zones.ToDictionary(z => z.Zone, z => z.Nodes),
            }, deadline).ConfigureAwait(false);
        }, clock).ConfigureAwait(false);

        var outOfCapacity = result.FailedPools.Where(f => f.Capacity).Select(f => f.Pool).Distinct().ToList();
        if (outOfCapacity.Count > 0)
        {
            await store.RecordUnavailablePoolsAsync(lease, outOfCapacity, clock.GetUtcNow(), unavailablePoolTtl, CancellationToken.None).ConfigureAwait(false);
        }

        // A scale-up needs the lease no longer: its launch record fences the boot, and another
        // execution may launch for pods this launch does not cover while these nodes join.
        var releases = result.Instances.Count > 0 && FleetTransitions.ReleasesLeaseAtLaunch(request.Route);
        if (result.Instances.Count > 0)
        {
            var record = new InFlightLaunch
            {
                LaunchId = launchId,
                StartedAt = startedAt,
                InstanceIds = result.Instances.Select(i => i.InstanceId).ToList(),
            };
            if (releases)
            {
                await store.ReleaseAfterLaunchAsync(lease, record, $"launched {record.InstanceIds.Count} of {request.NodesToAdd} under {launchId}; the lease is released while they join", CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await store.RecordLaunchAsync(lease, record, CancellationToken.None).ConfigureAwait(false);
            }
        }

        var outcome = new LaunchOutcome
        {
            LaunchId = launchId,
            Requested = request.NodesToAdd,
            StartedAt = startedAt,
            LeaseReleased = releases,
            Instances = result.Instances.Select(i => new LaunchedInstance
            {
                InstanceId = i.InstanceId,
                Zone = i.Zone,
                InstanceType = i.InstanceType,
                CapacityType = i.CapacityType,
            }).ToList(),
            Errors = result.Errors,
            FailedPools = result.FailedPools.Select(f => new FailedPool
            {
                InstanceType = f.Pool.InstanceType,
                Zone = f.Pool.Zone,
                CapacityType = f.Pool.CapacityType,
                Code = f.Code,
                Capacity = f.Capacity,
            }).ToList(),
        };
        var spot = outcome.Instances.Count(i => i.CapacityType == CapacityType.Spot);
        log.Metrics(
            $"Launched {outcome.Instances.Count} of {outcome.Requested} worker(s) ({spot} spot) under {launchId}: {LaunchText.Landed(outcome)}"
                + (outcome.FailedPools.Count > 0 ? $"; refused: {LaunchText.Refused(outcome)}" : ""),
            scaling.ClusterName,
            new Dictionary<string, double> { ["InstancesLaunched"] = outcome.Instances.Count, ["LaunchShortfall"] = outcome.Requested - outcome.Instances.Count, ["PoolsUnavailable"] = outOfCapacity.Count },
            new Dictionary<string, object?> { ["launchId"] = launchId, ["instanceIds"] = string.Join(",", outcome.Instances.Select(i => i.InstanceId)) });
        return StepJson.Write(outcome, NodeFleetJsonContext.Default.LaunchOutcome);
    }

    private static (IComputeFleet, IFleetStateStore, ScalingSettings, TimeSpan) RealAdapters()
    {
        var settings = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable,
            SettingsCatalog.StateTable, SettingsCatalog.LaunchTemplateId, SettingsCatalog.WorkerSubnets, SettingsCatalog.InstanceTypes);
        var scaling = SettingsCatalog.FromEnvironment(Environment.GetEnvironmentVariable);
        var endpoint = AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable);
        return (AwsAdapters.ComputeFleet(endpoint, settings), AwsAdapters.StateStore(endpoint, settings), scaling, settings.UnavailablePoolTtl);
    }
}
