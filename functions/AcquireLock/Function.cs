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
        : this(FromEnvironment(out var scaling, out var fleet), scaling, fleet.LeaseDuration, TimeProvider.System, Console.Out)
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
        var state = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.WorkflowState).ConfigureAwait(false);
        var (executionId, decision) = ContractValidation.RequireDecision(state, ScalingAction.ScaleUp, ScalingAction.ScaleDown, ScalingAction.Replace);
        var grant = await store.AcquireAsync(
            new LeaseRequest(executionId, clock.GetUtcNow(), leaseDuration, decision.Cooldown, scaling.ScaleUpCooldown, scaling.ScaleDownCooldown,
                Preempt: decision.Action == ScalingAction.Replace),
            CancellationToken.None).ConfigureAwait(false);
        var result = grant.Lease is { } lease
            ? new LockResult { Acquired = true, Owner = lease.Owner, Fence = lease.Fence, ExpiresAt = lease.ExpiresAt }
            : new LockResult { Acquired = false, RefusedBecause = grant.RefusedBecause };
        log.Info(result.Acquired ? $"Lease taken with fence {result.Fence}" : $"Lease refused: {result.RefusedBecause}",
            new Dictionary<string, object?> { ["acquired"] = result.Acquired, ["fence"] = result.Fence, ["executionId"] = executionId });
        return StepJson.Write(result, NodeFleetJsonContext.Default.LockResult);
    }

    private static IFleetStateStore FromEnvironment(out ScalingSettings scaling, out FleetSettings fleet)
    {
        scaling = SettingsCatalog.FromEnvironment(Environment.GetEnvironmentVariable);
        fleet = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, "NODEFLEET_STATE_TABLE");
        return AwsAdapters.StateStore(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable), fleet);
    }
}
