using NodeFleet.Aws;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.AcquireLock;

/// <summary>
/// Takes the cluster's lease for this execution, unless another execution holds it or the
/// cooldown the decision must respect still runs; then the workflow stops early.
/// </summary>
public sealed class Function
{
    private readonly IFleetStateStore store;
    private readonly ScalingSettings scaling;
    private readonly TimeSpan leaseDuration;
    private readonly TimeProvider clock;
    private readonly StepLog log;

    public Function()
        : this(RealAdapters())
    {
    }

    private Function((IFleetStateStore Store, ScalingSettings Scaling, TimeSpan LeaseDuration) real)
        : this(real.Store, real.Scaling, real.LeaseDuration, TimeProvider.System, Console.Out)
    {
    }

    public Function(IFleetStateStore store, ScalingSettings scaling, TimeSpan leaseDuration, TimeProvider clock, TextWriter logOutput)
    {
        this.store = store;
        this.scaling = scaling;
        this.leaseDuration = leaseDuration;
        this.clock = clock;
        log = new StepLog(logOutput, clock, "AcquireLock");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.AcquireLockRequest).ConfigureAwait(false);
        var executionId = ContractValidation.RequireExecutionId(request.ExecutionId);
        var route = ContractValidation.RequireActingRoute(request.Route, "$.route");
        var grant = await store.AcquireAsync(
            new LeaseRequest(executionId, clock.GetUtcNow(), leaseDuration, request.Cooldown, scaling.ScaleUpCooldown, scaling.ScaleDownCooldown, Preempt: request.Preempt)
            {
                Route = route,
                PreemptDrain = request.PreemptDrain,
            },
            CancellationToken.None).ConfigureAwait(false);
        var result = grant.Lease is { } lease
            ? new LockResult { Acquired = true, Owner = lease.Owner, Fence = lease.Fence, ExpiresAt = lease.ExpiresAt }
            : new LockResult { Acquired = false, RefusedBecause = grant.RefusedBecause };
        log.Info(result.Acquired ? $"Lease taken with fence {result.Fence} for {route}" : $"Lease refused: {result.RefusedBecause}",
            new Dictionary<string, object?> { ["acquired"] = result.Acquired, ["fence"] = result.Fence, ["executionId"] = executionId, ["route"] = route.ToString() });
        return StepJson.Write(result, NodeFleetJsonContext.Default.LockResult);
    }

    private static (IFleetStateStore, ScalingSettings, TimeSpan) RealAdapters()
    {
        var scaling = SettingsCatalog.FromEnvironment(Environment.GetEnvironmentVariable);
        var fleet = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, SettingsCatalog.StateTable);
        return (AwsAdapters.StateStore(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable), fleet), scaling, fleet.LeaseDuration);
    }
}
