using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Workflow;

/// <summary>
/// The outcome a path's results make, derived in one place from the typed step results instead
/// of being named by Pass states in the state machine. UpdateState records it; Notify reports it.
/// </summary>
public static class Outcomes
{
    public sealed record Derived(OutcomeKind Kind, string? Detail);

    /// <summary>
    /// What the path achieved. A request whose results do not finish its route (UpdateState
    /// reached mid-path) is refused with <see cref="InvalidInputException"/>.
    /// </summary>
    public static Derived Of(UpdateStateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Error is { } error)
        {
            return new(OutcomeKind.Failed, $"{error.Error}: {error.Message}");
        }

        var route = request.Decision.Route;
        return route switch
        {
            WorkflowRoute.Launch => Launched(request, ifJoined: OutcomeKind.ScaledUp),
            WorkflowRoute.Replace or WorkflowRoute.Retire when request.Drain is { Status: DrainStatus.AwaitingInterruption } drain => new(OutcomeKind.AwaitingInterruption,
                $"{drain.Node} kept, cordoned, until the spot warning: {Describe(drain.Blockers)}"
                + (route == WorkflowRoute.Replace ? "; its replacement is Ready" : "; no replacement: at the maximum")),
            WorkflowRoute.Replace => Launched(request, ifJoined: OutcomeKind.Replaced),
            WorkflowRoute.Retire when request.Terminated is not null => new(OutcomeKind.Replaced,
                request.Decision.Interruption?.ReplacedBy is { } by
                    ? $"its replacement was launched before, by {by}, while it awaited the spot warning"
                    : "no replacement: at the maximum"),
            WorkflowRoute.Drain => Drained(request),
            WorkflowRoute.Reconcile when request.Decision.ReasonCode == DecisionReason.RepairsHeld => new(OutcomeKind.RepairsHeld, Reconciled(request.Reconciled)),
            WorkflowRoute.Reconcile when request.Decision.Reconcile?.HasWork != true && request.Decision.NoScaleUp.Any(p => p.New) => new(OutcomeKind.NoScaleUpReported,
                $"pods no new node could host: {string.Join("; ", request.Decision.NoScaleUp.Where(p => p.New).Select(p => $"{p.Owner} ({p.Reason})"))}"),
            WorkflowRoute.Reconcile when request.Reconciled is not null || request.Decision.Reconcile?.HasWork != true => new(OutcomeKind.Reconciled, Reconciled(request.Reconciled)),
            _ => throw Unfinished(route, "the path's results"),
        };
    }

    /// <summary>The launches the outcome completes: the path's own, and those the reconcile pass found expired or orphaned (only once it ran).</summary>
    public static IReadOnlyList<string> CompletedLaunches(UpdateStateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var completed = new List<string>();
        if (request.Launch is { } launch)
        {
            completed.Add(launch.LaunchId);
        }

        if (request.Reconciled is not null && request.Decision.Reconcile is { } plan)
        {
            completed.AddRange(plan.ExpiredLaunches);
            completed.AddRange(plan.Orphans.Where(o => o.LaunchId is not null && request.Reconciled.Terminated.Contains(o.InstanceId)).Select(o => o.LaunchId!));
        }

        return completed.Distinct(StringComparer.Ordinal).ToList();
    }

    private static string? Reconciled(ReconcileResult? result)
    {
        var parts = result?.Parts().Where(p => p.Items.Count > 0).Select(p => $"{p.Verb} {string.Join(", ", p.Items)}").ToList() ?? [];
        return parts.Count == 0 ? null : string.Join("; ", parts);
    }

    private static Derived Launched(UpdateStateRequest request, OutcomeKind ifJoined)
    {
        if (request.Launch is not { } launch)
        {
            throw Unfinished(request.Decision.Route, "$.launch");
        }

        if (launch.Instances.Count == 0)
        {
            return new(OutcomeKind.LaunchFailed, "EC2 launched no instance" + (launch.Errors.Count > 0 ? ": " + string.Join("; ", launch.Errors) : ""));
        }

        return request.Readiness?.Status switch
        {
            ReadinessStatus.Overdue => new(OutcomeKind.LaunchFailed,
                $"{string.Join(", ", request.Readiness.Overdue)} did not join before {request.Readiness.Deadline:O} and were terminated"),
            ReadinessStatus.AllReady when ifJoined == OutcomeKind.ScaledUp || request.Terminated is not null => new(ifJoined, null),
            _ => throw Unfinished(request.Decision.Route, "$.readiness (AllReady or Overdue)" + (ifJoined == OutcomeKind.Replaced ? " and $.terminated" : "")),
        };
    }

    private static Derived Drained(UpdateStateRequest request) => request.Drain switch
    {
        { Status: DrainStatus.Drained } when request.Terminated is not null => new(OutcomeKind.ScaledDown, null),
        { Status: DrainStatus.Blocked or DrainStatus.Overdue } drain =>
            new(OutcomeKind.ScaleDownAborted, $"the drain of {drain.Node} ended {drain.Status}; the node was uncordoned"),
        { Status: DrainStatus.Preempted } drain =>
            new(OutcomeKind.DrainPreempted, $"the drain of {drain.Node} was preempted: another execution took the lease (pods pending, or an interruption); the node's remaining pods stay and its reconcile lifts the cordon"),
        _ => throw Unfinished(WorkflowRoute.Drain, "$.drain (Drained with $.terminated, Blocked, Overdue or Preempted)"),
    };

    private static string Describe(IReadOnlyList<EvictionBlocker> blockers) => blockers.Count == 0
        ? "evicted pods were still terminating at the drain timeout"
        : string.Join("; ", blockers.Select(b => $"{b.Pod}: {b.Reason}{(b.Detail is { Length: > 0 } d ? $" ({d})" : "")}"));

    private static InvalidInputException Unfinished(WorkflowRoute route, string needed) =>
        new($"Invalid input: the {route} route has not finished: {needed} required (UpdateState records the end of a path, or a caught $.error)");

    /// <summary>The history line: the decision's reason, the detail, capped to keep the state item small.</summary>
    public static string Summarize(Decision decision, Derived outcome)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(outcome);
        var text = outcome.Detail is { Length: > 0 } detail ? $"{decision.Reason} | {detail}" : decision.Reason;
        return text.Length <= MaxSummaryLength ? text : text[..(MaxSummaryLength - 3)] + "...";
    }

    public const int MaxSummaryLength = 500;
}
