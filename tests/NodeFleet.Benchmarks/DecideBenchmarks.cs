using BenchmarkDotNet.Attributes;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Settings;

namespace NodeFleet.Benchmarks;

/// <summary>Decide with unschedulable pods: bin packing plus the whole rule chain.</summary>
[MemoryDiagnoser]
public class DecideScaleUpBenchmarks
{
    private readonly ScalingSettings settings = ScalingSettings.Defaults with { MaxNodes = ScalingSettings.SupportedMaxNodes, MaxStep = ScalingSettings.SupportedMaxNodes };
    private ClusterSnapshot snapshot = null!;

    [Params(10, 100, 500)]
    public int Nodes { get; set; }

    [Params(10, 1_000, 10_000)]
    public int PendingPods { get; set; }

    [GlobalSetup]
    public void Setup() => snapshot = ClusterGenerator.Snapshot(Nodes, PendingPods, requestedShare: 0.5, cpu: 0.5, memory: 0.5);

    [Benchmark]
    public Decision Decide() => ScalingPolicy.Decide(snapshot, FleetState.Empty, settings, ClusterGenerator.Now);
}

/// <summary>Decide when the cluster is idle: choosing the node to remove (fit checks against every other node).</summary>
[MemoryDiagnoser]
public class DecideScaleDownBenchmarks
{
    private readonly ScalingSettings settings = ScalingSettings.Defaults with { MaxNodes = ScalingSettings.SupportedMaxNodes };
    private ClusterSnapshot snapshot = null!;

    [Params(10, 100, 500)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public void Setup() => snapshot = ClusterGenerator.Snapshot(Nodes, 0, requestedShare: 0.1, cpu: 0.1, memory: 0.1) with { UnschedulablePods = [] };

    [Benchmark]
    public Decision Decide() => ScalingPolicy.Decide(snapshot, FleetState.Empty, settings, ClusterGenerator.Now);
}

/// <summary>Decide with pending pods under scheduling constraints: the predicates, zone shares and spread over every group.</summary>
[MemoryDiagnoser]
public class DecideConstrainedBenchmarks
{
    private readonly ScalingSettings settings = ScalingSettings.Defaults with
    {
        MaxNodes = ScalingSettings.SupportedMaxNodes,
        MaxStep = ScalingSettings.SupportedMaxNodes,
        Platform = WorkerPlatform.Defaults with { Zones = ClusterGenerator.Zones },
    };

    private ClusterSnapshot snapshot = null!;

    [Params(100)]
    public int Nodes { get; set; }

    [Params(1_000)]
    public int PendingPods { get; set; }

    [Params(20)]
    public int ConstraintGroups { get; set; }

    [GlobalSetup]
    public void Setup() => snapshot = ClusterGenerator.ConstrainedSnapshot(Nodes, PendingPods, ConstraintGroups);

    [Benchmark]
    public Decision Decide() => ScalingPolicy.Decide(snapshot, FleetState.Empty, settings, ClusterGenerator.Now);
}
