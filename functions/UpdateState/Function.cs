using NodeFleet.Aws;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Workflow;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.UpdateState;

/// <summary>
/// Records what the path achieved (history, cooldown clock, launches no longer in flight) and
/// releases the lease, in one conditional write. The outcome is derived from the path's results
/// (<see cref="Outcomes"/>); with a caught error it is Failed, and the lease is released all the same.
/// </summary>
public sealed class Function
{
    private readonly IFleetStateStore store;
    private readonly TimeProvider clock;
    private readonly StepLog log;

    public Function()
        : this(RealStore(), TimeProvider.System, Console.Out)
    {
    }

    public Function(IFleetStateStore store, TimeProvider clock, TextWriter logOutput)
    {
        this.store = store;
        this.clock = clock;
        log = new StepLog(logOutput, clock, "UpdateState");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.UpdateStateRequest).ConfigureAwait(false);
        var lease = ContractValidation.RequireLease(request.Lock);
        var derived = Outcomes.Of(request);
        var now = clock.GetUtcNow();
        var outcome = new ScalingOutcome
        {
            Kind = derived.Kind,
            At = now,
            Summary = Outcomes.Summarize(request.Decision, derived),
            CompletedLaunches = Outcomes.CompletedLaunches(request),
            DrainAborted = FleetTransitions.BackoffFor(request, derived.Kind, now),
            RemovedNodes = request.Terminated is not null && request.Decision.NodeToRemove is { } removed
                ? [removed.Name, .. request.Drain?.Also.Select(n => n.Name) ?? []]
                : [],
            NoScaleUp = request.Decision.NoScaleUp,
        };
        string recorded;
        if (request.Launch is { LeaseReleased: true } launch)
        {
            // The boot ran without the lease: only this launch's own record may be changed.
            recorded = await store.RecordLaunchEndAsync(launch.LaunchId, outcome, CancellationToken.None).ConfigureAwait(false)
                ? $"Recorded {outcome.Kind} for launch {launch.LaunchId}"
                : $"Not recorded: launch {launch.LaunchId} is no longer in flight (a later execution's reconcile expired it)";
        }
        else if (derived.Kind == OutcomeKind.DrainPreempted)
        {
            await store.RecordPreemptedAsync(lease, outcome, CancellationToken.None).ConfigureAwait(false);
            recorded = "Recorded that another execution took the lease";
        }
        else
        {
            await store.RecordAndReleaseAsync(lease, outcome, CancellationToken.None).ConfigureAwait(false);
            recorded = $"Recorded {outcome.Kind} and released the lease";
        }

        log.Info($"{recorded}: {outcome.Summary}",
            new Dictionary<string, object?> { ["outcome"] = outcome.Kind.ToString(), ["fence"] = lease.Fence });
        return StepJson.Write(new RecordResult { Outcome = derived.Kind, Detail = derived.Detail, Summary = outcome.Summary }, NodeFleetJsonContext.Default.RecordResult);
    }

    private static IFleetStateStore RealStore()
    {
        var settings = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, SettingsCatalog.StateTable);
        return AwsAdapters.StateStore(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable), settings);
    }
}
