using NodeFleet.Aws;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.TerminateNode;

/// <summary>
/// Terminates the given instances: the drained node, or instances that never joined. Only this
/// cluster's managed workers; anything else (the control plane above all) is refused whole.
/// </summary>
public sealed class Function
{
    private readonly IComputeFleet fleet;
    private readonly IFleetStateStore store;
    private readonly TimeProvider clock;
    private readonly StepLog log;

    public Function()
        : this(RealAdapters())
    {
    }

    private Function((IComputeFleet Fleet, IFleetStateStore Store) real)
        : this(real.Fleet, real.Store, TimeProvider.System, Console.Out)
    {
    }

    public Function(IComputeFleet fleet, IFleetStateStore store, TimeProvider clock, TextWriter logOutput)
    {
        this.fleet = fleet;
        this.store = store;
        this.clock = clock;
        log = new StepLog(logOutput, clock, "TerminateNode");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.TerminateRequest).ConfigureAwait(false);
        var bad = request.InstanceIds.Where(id => !IsInstanceId(id)).ToList();
        if (bad.Count > 0)
        {
            throw new InvalidInputException($"Invalid input: $.instanceIds holds values that are not instance ids: {string.Join(", ", bad.Select(b => $"'{b}'"))}");
        }

        var badAlso = request.Also.Where(n => !IsInstanceId(n.InstanceId)).ToList();
        if (badAlso.Count > 0)
        {
            throw new InvalidInputException($"Invalid input: $.also: {string.Join(", ", badAlso.Select(n => $"{n.Name} has instance id '{n.InstanceId}'"))}, not an instance id");
        }

        if (request.Also.Count > 0 && request.Launch is not null)
        {
            throw new InvalidInputException("Invalid input: $.also: a launch's cleanup terminates only that launch's instances, never a scale-down's empty workers");
        }

        // The scale-down's empty workers go with the drained node: DrainNode kept only those still cordoned and empty.
        var ids = request.InstanceIds.Concat(request.Also.Select(n => n.InstanceId)).Distinct().ToList();
        if (request.Launch is { LeaseReleased: true } launch)
        {
            // A scale-up's boot runs without the lease: its own launch record is the fence, and
            // it may terminate only that launch's instances.
            var foreign = ids.Except(launch.Instances.Select(i => i.InstanceId)).ToList();
            if (foreign.Count > 0)
            {
                throw new InvalidInputException($"Invalid input: $.instanceIds: {string.Join(", ", foreign)} not launched by {launch.LaunchId}, whose cleanup this is");
            }

            await store.EnsureLaunchRecordedAsync(launch.LaunchId, CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            // The fence before the side effect: a preempted or expired execution terminates nothing.
            await store.EnsureHeldAsync(ContractValidation.RequireLease(request.Lock), clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        }

        await fleet.TerminateAsync(ids, CancellationToken.None).ConfigureAwait(false);
        var summary = ids.Count == 0 ? "Nothing to terminate" : $"Terminated {string.Join(", ", ids)}";
        log.Info(summary, new Dictionary<string, object?> { ["instanceIds"] = string.Join(",", ids) });
        return StepJson.Write(new StepResult { Summary = summary, Ids = ids }, NodeFleetJsonContext.Default.StepResult);
    }

    private static bool IsInstanceId(string? id) => !string.IsNullOrWhiteSpace(id) && id.StartsWith("i-", StringComparison.Ordinal);

    private static (IComputeFleet, IFleetStateStore) RealAdapters()
    {
        var settings = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, SettingsCatalog.StateTable);
        var endpoint = AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable);
        return (AwsAdapters.ComputeFleet(endpoint, settings), AwsAdapters.StateStore(endpoint, settings));
    }
}
