using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Tests;

/// <summary>Builders for snapshots and state: workers of the default shape (2000m, 7680Mi, 110 pods).</summary>
internal static class Fixtures
{
    public const long MiB = 1024 * 1024;
    public const long GiB = 1024 * MiB;

    public static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero); // a Wednesday

    public static readonly ScalingSettings Defaults = ScalingSettings.Defaults;

    public static Resources Shape => Defaults.WorkerShape;

    public static NodeInfo Master() => new()
    {
        Name = "master",
        InstanceId = "i-master",
        Zone = "us-east-1a",
        Ready = true,
        ControlPlane = true,
        Managed = false,
        CreatedAt = Now.AddDays(-30),
        Allocatable = new Resources(2000, 3 * GiB, 110),
        Requested = new Resources(1900, (long)(2.9 * GiB), 20),
    };

    /// <summary>A managed Ready worker with the given requested share of CPU and memory.</summary>
    public static NodeInfo Worker(string name, double requestedShare = 0.2, DateTimeOffset? created = null, params PodGroup[] movable) => new()
    {
        Name = name,
        InstanceId = "i-" + name,
        Zone = "us-east-1a",
        InstanceType = "t3.large",
        CapacityType = CapacityType.Spot,
        Ready = true,
        Managed = true,
        CreatedAt = created ?? Now.AddHours(-5),
        Allocatable = Shape,
        Requested = new Resources((long)(Shape.CpuMillis * requestedShare), (long)(Shape.MemoryBytes * requestedShare), movable.Sum(g => g.Count)),
        MovablePods = movable,
    };

    public static PodGroup Pods(int count, long cpuMillis, long memoryMiB, string? owner = null) =>
        new() { Count = count, CpuMillis = cpuMillis, MemoryBytes = memoryMiB * MiB, Owner = owner };

    public static UtilizationMetrics Utilization(double cpu = 0.5, double memory = 0.5) => new()
    {
        CpuNow = cpu,
        CpuMinOverUpWindow = cpu,
        CpuMaxOverDownWindow = cpu,
        MemoryNow = memory,
        MemoryMaxOverDownWindow = memory,
    };

    /// <summary>A snapshot of the master plus <paramref name="workers"/>, at utilisation between the thresholds.</summary>
    public static ClusterSnapshot Snapshot(IEnumerable<NodeInfo> workers, UtilizationMetrics? utilization = null, params PodGroup[] pending) => new()
    {
        CapturedAt = Now,
        Utilization = utilization ?? Utilization(),
        Nodes = [Master(), .. workers],
        UnschedulablePods = pending,
    };

    public static IEnumerable<NodeInfo> Workers(int count, double requestedShare = 0.2) =>
        Enumerable.Range(1, count).Select(i => Worker($"w{i}", requestedShare));

    public static FleetState Launching(int count, DateTimeOffset? startedAt = null) => new()
    {
        InFlight =
        [
            new InFlightLaunch
            {
                LaunchId = "launch-1",
                StartedAt = startedAt ?? Now.AddMinutes(-1),
                InstanceIds = Enumerable.Range(1, count).Select(i => $"i-new{i}").ToList(),
            },
        ],
    };

    public static Decision Decide(ClusterSnapshot snapshot, FleetState? fleet = null, ScalingSettings? settings = null) =>
        ScalingPolicy.Decide(snapshot, fleet ?? FleetState.Empty, settings ?? Defaults, Now);
}
