using NodeFleet.Aws;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Hosting;

namespace NodeFleet.UpdateState;

/// <summary>
/// Records what the execution did (history, cooldown clock, launches no longer in flight) and
/// releases the lease, in one conditional write. Also the release on the failure path.
/// </summary>
public sealed class Function
{
    private readonly IFleetStateStore store;
    private readonly TimeProvider clock;
    private readonly StepLog log;

    public Function()
        : this(FromEnvironment(), TimeProvider.System, Console.Out)
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
        var state = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.WorkflowState).ConfigureAwait(false);
        var lease = ContractValidation.RequireLease(state);
        var report = state.Outcome ?? (state.Error is not null ? new OutcomeReport { Kind = OutcomeKind.Failed } : null)
            ?? throw new InvalidInputException("Invalid input: $.outcome: required (the state machine names the path's outcome)");

        var outcome = new ScalingOutcome
        {
            Kind = report.Kind,
            At = clock.GetUtcNow(),
            Summary = Summarize(state, report),
            CompletedLaunches = state.Launch is { } launch ? [launch.LaunchId] : [],
        };
        await store.RecordAndReleaseAsync(lease, outcome, CancellationToken.None).ConfigureAwait(false);
        log.Info($"Recorded {outcome.Kind} and released the lease: {outcome.Summary}",
            new Dictionary<string, object?> { ["outcome"] = outcome.Kind.ToString(), ["fence"] = lease.Fence });
        return StepJson.Write(new StepResult { Summary = $"{outcome.Kind}: {outcome.Summary}" }, NodeFleetJsonContext.Default.StepResult);
    }

    private static string Summarize(WorkflowState state, OutcomeReport report)
    {
        var parts = new List<string>();
        if (state.Decision is { } d)
        {
            parts.Add(d.Reason);
        }

        if (report.Detail is { Length: > 0 } detail)
        {
            parts.Add(detail);
        }

        if (state.Error is { } e)
        {
            parts.Add($"{e.Error}: {e.Cause}");
        }

        var text = string.Join(" | ", parts);
        return text.Length <= 500 ? text : text[..497] + "...";
    }

    private static IFleetStateStore FromEnvironment()
    {
        var settings = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, "NODEFLEET_STATE_TABLE");
        return AwsAdapters.StateStore(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable), settings);
    }
}
