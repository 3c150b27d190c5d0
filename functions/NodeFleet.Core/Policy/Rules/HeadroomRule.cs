using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy.Rules;

/// <summary>
/// One node ahead of the pods while the workload grows: when the room left unrequested on the
/// schedulable Ready managed workers plus the launching ones is below <c>headroom</c> of a worker,
/// the next pods then find a booted node instead of waiting for one. Counted from requests, not
/// measured, so no utilisation data and no cooldown; a flat workload keeps no spare node.
/// </summary>
internal static class HeadroomRule
{
    /// <summary>
    /// Growth is a trend: requests rose in at least this many of the headroom window's four quarters.
    /// A burst arrives as one step, and its pending pods have launched what it needs; a node kept
    /// ahead of it only idles until the burst is over (batch bursts: +4 to +5 points of node-hours for
    /// no less waiting, measured in the simulator).
    /// </summary>
    public const int RisingQuartersOfGrowth = 2;

    /// <summary>Headroom is on and the workload grows: requested CPU rose within the headroom window, in at least <see cref="RisingQuartersOfGrowth"/> of its quarters.</summary>
    public static bool Applies(ClusterSnapshot snapshot, ScalingSettings settings) =>
        settings.Headroom > 0 && snapshot.RequestedCpuRise > 0 && snapshot.RequestedCpuRisingQuarters >= RisingQuartersOfGrowth;

    /// <summary>True when <paramref name="room"/> falls short of the headroom in CPU or memory.</summary>
    public static bool IsShort(Resources room, ScalingSettings settings)
    {
        var kept = settings.WorkerShape.Scaled(settings.Headroom);
        return room.CpuMillis < kept.CpuMillis || room.MemoryBytes < kept.MemoryBytes;
    }

    /// <param name="placeablePods">Unschedulable pods a worker could hold: while any wait, the pods decide alone.</param>
    /// <param name="unrequestedRoom">Room left unrequested on the schedulable Ready managed workers.</param>
    /// <param name="workersTowardMaximum">Never asks at the maximum: that would only report "at maximum" on every tick.</param>
    public static ScaleUpAsk.Headroom? Ask(ClusterSnapshot snapshot, int placeablePods, Resources unrequestedRoom, int readyManagedWorkers, int launching, int workersTowardMaximum, ScalingSettings settings)
    {
        var asks = placeablePods == 0
            && Applies(snapshot, settings)
            && workersTowardMaximum < settings.MaxNodes
            && readyManagedWorkers + launching > 0
            && IsShort(unrequestedRoom + settings.WorkerShape.Times(launching), settings);
        return asks ? new ScaleUpAsk.Headroom(settings.Headroom) : null;
    }
}
