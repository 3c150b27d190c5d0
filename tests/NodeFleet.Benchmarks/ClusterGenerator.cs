using NodeFleet.Core.Contracts;

namespace NodeFleet.Benchmarks;

/// <summary>Deterministic clusters for the benchmarks: busy nodes, and pending pods of many controllers.</summary>
internal static class ClusterGenerator
{
    private const long MiB = 1024 * 1024;
    public static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);
    private static readonly Resources Shape = new(2000, 7680 * MiB, 110);

    /// <summary>
    /// <paramref name="nodes"/> workers at <paramref name="requestedShare"/> with six request
    /// shapes of movable pods each (one in ten with a blocker), and <paramref name="pendingPods"/>
    /// unschedulable pods in groups of ten replicas with varied requests.
    /// </summary>
    public static ClusterSnapshot Snapshot(int nodes, int pendingPods, double requestedShare, double cpu, double memory)
    {
        var random = new Random(42);
        var workers = Enumerable.Range(0, nodes).Select(i => new NodeInfo
        {
            Name = $"ip-10-0-{i / 250}-{i % 250}",
            InstanceId = $"i-{i:x17}",
            Zone = i % 2 == 0 ? "us-east-1a" : "us-east-1b",
            Ready = true,
            Managed = true,
            CreatedAt = Now.AddMinutes(-30 - i),
            Allocatable = Shape,
            Requested = new Resources((long)(Shape.CpuMillis * requestedShare), (long)(Shape.MemoryBytes * requestedShare), 12),
            MovablePods = Enumerable.Range(1, 6).Select(s => new PodGroup { CpuMillis = 10 * s, MemoryBytes = 16 * s * MiB, Count = 2 }).ToList(),
            Blockers = i % 10 == 0 ? [new EvictionBlocker { Pod = $"data/db-{i}", Reason = EvictionBlockReason.LocalStorage }] : [],
        });
        var groups = Enumerable.Range(0, Math.Max(1, pendingPods / 10)).Select(g => new PodGroup
        {
            CpuMillis = 100 * random.Next(1, 16),
            MemoryBytes = 128 * MiB * random.Next(1, 40),
            Count = Math.Min(10, pendingPods),
        }).ToList();
        return new ClusterSnapshot
        {
            CapturedAt = Now,
            Utilization = new UtilizationMetrics { CpuNow = cpu, CpuMinOverUpWindow = cpu, CpuMaxOverDownWindow = cpu, MemoryNow = memory, MemoryMaxOverDownWindow = memory },
            Nodes = [.. workers],
            UnschedulablePods = groups,
        };
    }
}
