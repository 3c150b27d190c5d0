using NodeFleet.Aws;
using NodeFleet.Cluster;
using NodeFleet.Core.Cluster;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.DrainNode;

/// <summary>
/// One step of a drain: start (cordon, evict), continue (evict what remains), abort (uncordon)
/// or delete the Node object once its instance is gone. Returns in seconds; the state machine
/// waits between calls and acts on the status.
/// </summary>
public sealed class Function
{
    private readonly Drainer drainer;
    private readonly IFleetStateStore store;
    private readonly TimeProvider clock;
    private readonly StepLog log;

    public Function()
        : this(ClusterSettings.FromEnvironment(Environment.GetEnvironmentVariable, needsPrometheus: false))
    {
    }

    private Function(ClusterSettings settings)
        : this(ClusterAdapters.KubernetesFromEnvironment(settings), RealStore(), settings.DrainTimeout, settings.DrainGraceMargin, TimeProvider.System, Console.Out)
    {
    }

    public Function(IClusterApi kubernetes, IFleetStateStore store, TimeSpan drainTimeout, TimeSpan graceMargin, TimeProvider clock, TextWriter logOutput)
    {
        drainer = new Drainer(kubernetes, drainTimeout, graceMargin);
        this.store = store;
        this.clock = clock;
        log = new StepLog(logOutput, clock, "DrainNode");
    }

    /// <summary>How far a start may lie ahead of this function's clock (the caller's clock may run a little fast).</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.DrainRequest).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(request.Node))
        {
            throw new InvalidInputException("Invalid input: $.node: must name the node to drain");
        }

        if (request.Action is DrainAction.Start or DrainAction.Continue && string.IsNullOrWhiteSpace(request.ExecutionId))
        {
            throw new InvalidInputException($"Invalid input: $.executionId: a {request.Action} must name its execution (the cordon mark records it)");
        }

        if (request.Also.Count > 0 && request.Interruption is not null)
        {
            throw new InvalidInputException("Invalid input: $.also: only a scale-down removes empty workers with its node; an interruption drains one node");
        }

        if (request.Also.FirstOrDefault(n => string.IsNullOrWhiteSpace(n.Name) || n.Name == request.Node) is { } badAlso)
        {
            throw new InvalidInputException($"Invalid input: $.also: '{badAlso.Name}' must name another node than $.node");
        }

        var now = clock.GetUtcNow();
        // The drain's timeout counts from its start: a Continue without it (or with one still to
        // come) would restart the timeout on every call, and the drain would never end.
        if (request.Action == DrainAction.Continue && request.StartedAt is null)
        {
            throw new InvalidInputException("Invalid input: $.startedAt: a Continue must carry the drain's start (DrainNode's Start returns it)");
        }

        if (request.StartedAt > now + ClockSkew)
        {
            throw new InvalidInputException($"Invalid input: $.startedAt: {request.StartedAt:O} is after now ({now:O})");
        }

        var lease = ContractValidation.RequireLease(request.Lock);
        // The fence before the side effect: a preempted or expired execution cordons, evicts, uncordons
        // and deletes nothing; a cordon it leaves is lifted by the next tick's reconcile.
        try
        {
            await store.EnsureHeldAsync(lease, now, CancellationToken.None).ConfigureAwait(false);
        }
        catch (LeaseNotHeldException e) when (request.Action is DrainAction.Start or DrainAction.Continue && request.Interruption is null)
        {
            // A scale-down drain whose lease another execution took (pending pods preempt it): it stops
            // here, touching nothing; the new holder's reconcile lifts the cordon, the pods left stay.
            log.Info($"{request.Action} {request.Node}: Preempted, nothing changed ({e.Message})",
                new Dictionary<string, object?> { ["node"] = request.Node, ["status"] = nameof(DrainStatus.Preempted) });
            return StepJson.Write(new DrainProgress { Node = request.Node, Status = DrainStatus.Preempted, StartedAt = request.StartedAt ?? now, Note = e.Message }, NodeFleetJsonContext.Default.DrainProgress);
        }

        var progress = await drainer.RunAsync(request, now, CancellationToken.None).ConfigureAwait(false);
        log.Info($"{request.Action} {request.Node}{(request.Also.Count > 0 ? $" and {progress.Also.Count} of {request.Also.Count} empty workers ({string.Join(", ", progress.Also.Select(n => n.Name))})" : "")}: {progress.Status}, {progress.Evicted} evicted, {progress.Remaining.Count} left"
                + (progress.Blockers.Count > 0 ? $" ({string.Join("; ", progress.Blockers.Select(b => $"{b.Pod}: {b.Reason} {b.Detail}".TrimEnd()))})" : "")
                + (progress.Terminating.Count > 0 ? $", {progress.Terminating.Count} terminating ({string.Join("; ", progress.Terminating.Select(t => $"{t.Pod} until {t.Until:O}"))})" : "")
                + (progress.Note is { } note ? $"; {note}" : ""),
            new Dictionary<string, object?> { ["node"] = request.Node, ["status"] = progress.Status.ToString() });
        return StepJson.Write(progress, NodeFleetJsonContext.Default.DrainProgress);
    }

    private static IFleetStateStore RealStore()
    {
        var settings = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, SettingsCatalog.StateTable);
        return AwsAdapters.StateStore(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable), settings);
    }
}
