using System.Globalization;
using NodeFleet.Aws;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Hosting;

namespace NodeFleet.Notify;

/// <summary>Tells people what the execution did, why, and the worker count before and after.</summary>
public sealed class Function
{
    private readonly INotifier notifier;
    private readonly string cluster;
    private readonly StepLog log;

    public Function()
        : this(FromEnvironment(out var cluster), cluster, TimeProvider.System, Console.Out)
    {
    }

    public Function(INotifier notifier, string cluster, TimeProvider clock, TextWriter logOutput)
    {
        this.notifier = notifier;
        this.cluster = cluster;
        log = new StepLog(logOutput, clock, "Notify");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var state = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.WorkflowState).ConfigureAwait(false);
        var notification = Compose(state, cluster);
        var messageId = await notifier.PublishAsync(notification, CancellationToken.None).ConfigureAwait(false);
        log.Info($"Notified {notification.Kind}: {notification.Title}", new Dictionary<string, object?> { ["messageId"] = messageId });
        return StepJson.Write(new StepResult { Summary = $"{notification.Kind}: {notification.Title}", Ids = [messageId] }, NodeFleetJsonContext.Default.StepResult);
    }

    /// <summary>Chooses the kind of message from the path's outcome, an error, or the decision.</summary>
    public static Notification Compose(WorkflowState state, string cluster)
    {
        ArgumentNullException.ThrowIfNull(state);
        var decision = state.Decision;
        var before = decision?.Figures.ManagedWorkers ?? 0;
        var launched = state.Launch?.Instances.Count ?? 0;
        var reason = decision?.Reason ?? "no decision was made";
        var figures = Figures(decision);
        if (state.Launch is { Errors.Count: > 0 } withErrors)
        {
            figures["launchErrors"] = string.Join("; ", withErrors.Errors);
        }

        if (state.Drain is { Blockers.Count: > 0 } blocked)
        {
            figures["drainBlockers"] = string.Join("; ", blocked.Blockers.Take(5).Select(b => $"{b.Pod}: {b.Detail ?? b.Reason.ToString()}"))
                + (blocked.Blockers.Count > 5 ? $"; and {blocked.Blockers.Count - 5} more" : "");
        }

        if (state.Error is { } error)
        {
            return new Notification(NotificationKind.Failure, cluster, $"Execution failed: {error.Error}", $"{error.Cause ?? error.Error} (while acting on: {reason})", before, before + launched, figures);
        }

        return state.Outcome?.Kind switch
        {
            OutcomeKind.ScaledUp => new(NotificationKind.ScaleUp, cluster, $"Added {launched} worker(s)", reason, before, before + launched, figures),
            OutcomeKind.ScaledDown => new(NotificationKind.ScaleDown, cluster, $"Removed {decision?.NodeToRemove?.Name ?? "a worker"}", reason, before, Math.Max(0, before - 1), figures),
            OutcomeKind.LaunchFailed => new(NotificationKind.Failure, cluster, $"Launch failed: {launched} of {state.Launch?.Requested ?? decision?.NodesToAdd} worker(s) launched, those that did not join were removed", $"{state.Outcome.Detail ?? ""} {reason}".Trim(), before, before, figures),
            OutcomeKind.Replaced => new(NotificationKind.Interruption, cluster, $"Replaced {decision?.NodeToRemove?.Name ?? "an interrupted worker"}" + (launched > 0 ? $" with {launched} new worker(s)" : " (no replacement: at the maximum)"), reason, before, Math.Max(0, before - 1) + launched, figures),
            OutcomeKind.ScaleDownAborted => new(NotificationKind.Failure, cluster, $"Scale-down of {decision?.NodeToRemove?.Name} aborted, node uncordoned", $"{state.Outcome.Detail ?? ""} {reason}".Trim(), before, before, figures),
            OutcomeKind.Failed => new(NotificationKind.Failure, cluster, "Execution failed", $"{state.Outcome.Detail ?? ""} {reason}".Trim(), before, before, figures),
            _ when decision is { DryRun: true } => new(NotificationKind.DryRun, cluster, $"Dry run: would {decision.Action}", reason, before, before, figures),
            _ when decision is { ReasonCode: DecisionReason.AtMaximum } => new(NotificationKind.AtMaximum, cluster, "At maximum size", reason, before, before, figures),
            _ => throw new Core.Errors.InvalidInputException("Invalid input: nothing to notify: $.outcome, $.error, a dry-run decision or an at-maximum decision is required"),
        };
    }

    private static Dictionary<string, string> Figures(Decision? decision)
    {
        var result = new Dictionary<string, string>();
        if (decision is null)
        {
            return result;
        }

        var f = decision.Figures;
        result["decision"] = $"{decision.Action} ({decision.ReasonCode})";
        result["readyManagedWorkers"] = f.ReadyManagedWorkers.ToString(CultureInfo.InvariantCulture);
        result["unschedulablePods"] = f.UnschedulablePods.ToString(CultureInfo.InvariantCulture);
        if (f.CpuNow is { } cpu)
        {
            result["cpu"] = cpu.ToString("P0", CultureInfo.InvariantCulture);
        }

        if (f.MemoryNow is { } memory)
        {
            result["memory"] = memory.ToString("P0", CultureInfo.InvariantCulture);
        }

        return result;
    }

    private static INotifier FromEnvironment(out string cluster)
    {
        var settings = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, "NODEFLEET_TOPIC_ARN");
        cluster = settings.ClusterName;
        return AwsAdapters.Notifier(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable), settings);
    }
}
