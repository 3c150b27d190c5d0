using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

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

    public static readonly string[] Zones = ["us-east-1a", "us-east-1b", "us-east-1c"];

    /// <summary>
    /// <paramref name="nodes"/> labelled workers over three zones at half their room, two DaemonSets,
    /// and <paramref name="pendingPods"/> unschedulable pods in <paramref name="groups"/> groups, each
    /// with one of ten kinds of constraint: none, nodeSelector, zone affinity, a volume in one zone,
    /// tolerations, hostname anti-affinity, zone spread, hostname spread, a host port, and a label no
    /// template has.
    /// </summary>
    public static ClusterSnapshot ConstrainedSnapshot(int nodes, int pendingPods, int groups)
    {
        var random = new Random(42);
        var names = Enumerable.Range(0, nodes).Select(i => $"ip-10-0-{i / 250}-{i % 250}").ToList();
        var workers = Snapshot(nodes, 0, requestedShare: 0.5, cpu: 0.5, memory: 0.5).Nodes.Select((n, i) => n with
        {
            Zone = Zones[i % Zones.Length],
            Labels = new Dictionary<string, string>
            {
                [WorkerTemplates.ZoneLabel] = Zones[i % Zones.Length],
                [WorkerTemplates.HostnameLabel] = n.Name,
                [WorkerTemplates.ArchitectureLabel] = "amd64",
                [WorkerTemplates.InstanceTypeLabel] = "t3.large",
            },
        }).ToList();
        Dictionary<string, int> Matching(int every) => names.Where((_, i) => i % every == 0).ToDictionary(n => n, _ => 1 + random.Next(0, 3));
        PodConstraints? Kind(int kind) => kind switch
        {
            1 => new PodConstraints { NodeSelector = new Dictionary<string, string> { [WorkerTemplates.ArchitectureLabel] = "amd64" } },
            2 => new PodConstraints { NodeAffinity = [Selector("nodeAffinity", WorkerTemplates.ZoneLabel, Zones[0], Zones[1])] },
            3 => new PodConstraints { NodeAffinity = [Selector("volume data-0", WorkerTemplates.ZoneLabel, Zones[2])] },
            4 => new PodConstraints { Tolerations = [new Toleration { Key = "dedicated", Operator = "Exists" }] },
            5 => new PodConstraints { AntiAffinity = [new PodAntiAffinity { SelfMatch = true, Nodes = names.Where((_, i) => i % 3 == 0).ToList() }] },
            6 => new PodConstraints { Spread = [new TopologySpread { TopologyKey = WorkerTemplates.ZoneLabel, MaxSkew = 1, SelfMatch = true, MatchingByNode = Matching(2) }] },
            7 => new PodConstraints { Spread = [new TopologySpread { TopologyKey = WorkerTemplates.HostnameLabel, MaxSkew = 2, SelfMatch = true, MatchingByNode = Matching(1) }] },
            8 => new PodConstraints { HostPorts = [new HostPort { Port = 9100 + (random.Next(0, 1000)) }], HostPortNodes = names.Where((_, i) => i % 2 == 0).ToList() },
            9 => new PodConstraints { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } },
            _ => null,
        };
        var pending = Enumerable.Range(0, groups).Select(g => new PodGroup
        {
            Owner = $"default/Deployment/app-{g}",
            CpuMillis = 50 * random.Next(1, 5),
            MemoryBytes = 64 * MiB * random.Next(1, 8),
            Count = pendingPods / groups,
            Constraints = Kind(g % 10),
        }).ToList();
        return new ClusterSnapshot
        {
            CapturedAt = Now,
            Utilization = new UtilizationMetrics { CpuNow = 0.5, CpuMinOverUpWindow = 0.5, CpuMaxOverDownWindow = 0.5, MemoryNow = 0.5, MemoryMaxOverDownWindow = 0.5 },
            Nodes = [.. workers],
            UnschedulablePods = pending,
            DaemonSets =
            [
                new DaemonSetInfo { Name = "kube-system/node-exporter", CpuMillis = 100, MemoryBytes = 128 * MiB },
                new DaemonSetInfo { Name = "kube-system/gpu-plugin", CpuMillis = 100, MemoryBytes = 128 * MiB, Constraints = new PodConstraints { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } } },
            ],
        };
    }

    private static RequiredNodeSelector Selector(string source, string key, params string[] values) => new()
    {
        Source = source,
        Terms = [new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = key, Operator = "In", Values = values }] }],
    };
}
