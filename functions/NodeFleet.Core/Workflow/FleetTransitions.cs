using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Workflow;

/// <summary>
/// How what NodeFleet remembers changes: the one place that says which outcome stamps which
/// cooldown and what becomes of in-flight launches. The DynamoDB store and the simulator both
/// apply these, so the simulator cannot disagree with production.
/// </summary>
public static class FleetTransitions
{
    /// <summary>
    /// LaunchNodes: the launch's instances are joining. A retried launch (same id) replaces its
    /// earlier record rather than adding a second one.
    /// </summary>
    public static FleetState LaunchStarted(FleetState state, InFlightLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(launch);
        return state with { InFlight = [.. state.InFlight.Where(l => l.LaunchId != launch.LaunchId), launch] };
    }

    /// <summary>
    /// LaunchNodes on a scale-up, releasing the lease: the launch is in flight and the scale-up time is
    /// stamped now, so that no scale-down starts while its nodes boot (the boot's end stamps again).
    /// </summary>
    public static FleetState LaunchReleased(FleetState state, InFlightLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        return LaunchStarted(state, launch) with { LastScaleUpAt = launch.StartedAt };
    }

    /// <summary>
    /// Whether LaunchNodes releases the lease with the launch record: on a scale-up, whose boot changes
    /// nothing else; a replacement keeps it (the interrupted node's drain goes on after the boot).
    /// </summary>
    public static bool ReleasesLeaseAtLaunch(WorkflowRoute? route) => route == WorkflowRoute.Launch;

    /// <summary>
    /// LaunchNodes: these pools answered a capacity error at <paramref name="now"/> and are
    /// unavailable for <paramref name="ttl"/>. A pool already listed gets the later deadline;
    /// expired entries are dropped, so the list holds only what launches still try last.
    /// </summary>
    public static FleetState PoolsFailed(FleetState state, IReadOnlyList<Pool> failed, DateTimeOffset now, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(failed);
        var until = now + ttl;
        var fresh = failed.Distinct().Select(p => new UnavailablePool { InstanceType = p.InstanceType, Zone = p.Zone, CapacityType = p.CapacityType, Until = until });
        var pools = state.UnavailablePools.Concat(fresh)
            .Where(p => p.Until > now)
            .GroupBy(p => new Pool(p.InstanceType, p.Zone, p.CapacityType))
            .Select(g => g.MaxBy(p => p.Until)!)
            .OrderBy(p => p.Zone, StringComparer.Ordinal).ThenBy(p => p.InstanceType, StringComparer.Ordinal).ThenBy(p => p.CapacityType)
            .ToList();
        return state with { UnavailablePools = pools };
    }

    /// <summary>The pools a launch at <paramref name="now"/> tries last: those whose deadline has not passed.</summary>
    public static IReadOnlyList<Pool> Unavailable(FleetState state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.UnavailablePools.Where(p => p.Until > now).Select(p => new Pool(p.InstanceType, p.Zone, p.CapacityType)).Distinct().ToList();
    }

    /// <summary>
    /// UpdateState: the path ended. Every launch (ScaledUp, and LaunchFailed whose instances were
    /// cleaned up) stamps the scale-up cooldown, whatever asked for it; a completed scale-down stamps
    /// the scale-down cooldown; a replacement, an aborted drain, a reconcile and a failure stamp none; a hold of repairs stamps when operators were told. Completed
    /// launches stop being in flight; a launch still joining stays.
    /// </summary>
    public static FleetState Recorded(FleetState state, ScalingOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(outcome);
        var inFlight = state.InFlight.Where(l => !outcome.CompletedLaunches.Contains(l.LaunchId)).ToList();
        if (outcome.Launch is { } joining)
        {
            inFlight = [.. inFlight.Where(l => l.LaunchId != joining.LaunchId), joining];
        }

        // One backoff per node, the latest; a removed node needs none. Newest first, capped: a node
        // that is gone drops off in time, and the state item stays small.
        var backoffs = state.DrainBackoffs
            .Where(b => b.Node != outcome.DrainAborted?.Node && !outcome.RemovedNodes.Contains(b.Node))
            .Prepend(outcome.DrainAborted)
            .OfType<DrainBackoff>()
            .OrderByDescending(b => b.At)
            .Take(MaxDrainBackoffs)
            .ToList();

        return state with
        {
            LastScaleUpAt = StampsScaleUp(outcome.Kind) ? outcome.At : state.LastScaleUpAt,
            LastScaleDownAt = StampsScaleDown(outcome.Kind) ? outcome.At : state.LastScaleDownAt,
            InFlight = inFlight,
            RepairsHeldNotifiedAt = outcome.Kind == OutcomeKind.RepairsHeld ? outcome.At : state.RepairsHeldNotifiedAt,
            DrainBackoffs = backoffs,
            NoScaleUpNotified = outcome.NoScaleUp is { } told ? Notices(told) : state.NoScaleUpNotified,
        };
    }

    /// <summary>At most this many owners are remembered as told (the state item stays small); more are told again later.</summary>
    public const int MaxNoScaleUpNotices = 50;

    /// <summary>
    /// Decide: marks the pods no new node could host that operators have not been told of
    /// (<see cref="NoScaleUpPods.New"/>); UpdateState's record then remembers the whole list.
    /// </summary>
    public static IReadOnlyList<NoScaleUpPods> MarkNew(IReadOnlyList<NoScaleUpPods> pods, FleetState state)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(state);
        return pods.Select(p => p with { New = !state.NoScaleUpNotified.Any(n => n.Owner == p.Owner && n.Reason == p.Reason) }).ToList();
    }

    private static List<NoScaleUpNotice> Notices(IReadOnlyList<NoScaleUpPods> told) =>
        told.Select(p => new NoScaleUpNotice { Owner = p.Owner, Reason = p.Reason }).Distinct().Take(MaxNoScaleUpNotices).ToList();

    /// <summary>More than the workers NodeFleet supports: every live node's backoff fits.</summary>
    public const int MaxDrainBackoffs = Settings.ScalingSettings.SupportedMaxNodes;

    /// <summary>
    /// The backoff a Drain route's end leaves: a drain that ended Blocked or Overdue, or a step that
    /// failed after the drain started (the node may be left half-drained), backs its node off; a node
    /// removed, and every other route, leaves none.
    /// </summary>
    public static DrainBackoff? BackoffFor(UpdateStateRequest request, OutcomeKind kind, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Decision.Route != WorkflowRoute.Drain || request.Decision.NodeToRemove is not { } node || kind is not (OutcomeKind.ScaleDownAborted or OutcomeKind.Failed))
        {
            return null;
        }

        var reason = request.Error is { } error ? $"failed: {error.Error}" : request.Drain?.Status.ToString() ?? "failed";
        return new DrainBackoff { Node = node.Name, InstanceId = node.InstanceId, At = at, Reason = reason };
    }

    private static bool StampsScaleUp(OutcomeKind kind) => kind is OutcomeKind.ScaledUp or OutcomeKind.LaunchFailed;

    private static bool StampsScaleDown(OutcomeKind kind) => kind == OutcomeKind.ScaledDown;
}
