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
    /// the scale-down cooldown; a replacement, an aborted drain and a failure stamp none. Completed
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

        return state with
        {
            LastScaleUpAt = StampsScaleUp(outcome.Kind) ? outcome.At : state.LastScaleUpAt,
            LastScaleDownAt = StampsScaleDown(outcome.Kind) ? outcome.At : state.LastScaleDownAt,
            InFlight = inFlight,
        };
    }

    private static bool StampsScaleUp(OutcomeKind kind) => kind is OutcomeKind.ScaledUp or OutcomeKind.LaunchFailed;

    private static bool StampsScaleDown(OutcomeKind kind) => kind == OutcomeKind.ScaledDown;
}
