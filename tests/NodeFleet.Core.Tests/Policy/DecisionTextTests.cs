using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Policy.Rules;
using NodeFleet.Core.Policy.Scheduling;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class DecisionTextTests
{
    private static readonly DownWindowPeaks Peaks = new(0.12, 0.345, TimeSpan.FromMinutes(3), null);
    private static readonly DownWindowPeaks PeaksByRequests = new(0.12, 0.82, TimeSpan.FromMinutes(3), 0.97);
    private static readonly NodeRef W2 = new() { Name = "w2", InstanceId = "i-w2", Zone = "us-east-1a", Utilization = 0.1234 };
    private static readonly ScaleUpAsk.Cpu Cpu = new(2, 0.95, 0.70, TimeSpan.FromMinutes(3), 0.60);
    private static readonly Trigger Spot = new() { Kind = TriggerKind.SpotInterruption, InstanceId = "i-w2" };
    private static readonly NoScaleUpPods Gpu = new() { Owner = "default/Deployment/gpu", Count = 2, Reason = NoScaleUpReason.NodeSelector, Detail = "gpu=true" };

    [Theory]
    [InlineData(2, false, 9, 1, "9 unschedulable pod(s) need 2 more node(s) besides the 1 launching")]
    [InlineData(11, true, 5000, 0, "5000 unschedulable pod(s) need at least 11 more node(s)")]
    public void Cause_PendingPods_SaysHowManyNodesThePodsNeed(int nodes, bool atLeast, int pods, int launching, string expected)
    {
        Assert.Equal(expected, DecisionText.Cause(new ScaleUpAsk.PendingPods(nodes, atLeast, pods, launching)));
    }

    [Theory]
    [InlineData(2, 3, false, "1 Ready or launching worker(s) is below the minimum of 3")]
    [InlineData(2, 4, true, "2 Ready or launching worker(s) is below the scheduled minimum of 4")]
    public void Cause_Minimum_NamesTheMinimumAndWhetherItIsScheduled(int nodes, int minimum, bool scheduled, string expected)
    {
        Assert.Equal(expected, DecisionText.Cause(new ScaleUpAsk.Minimum(nodes, minimum - nodes, minimum, scheduled)));
    }

    public static TheoryData<string, string> Causes() => new()
    {
        { "cpu", "CPU stayed above 70% for 3m (lowest 95%); 2 more node(s) bring it to 60%" },
        { "memory", "memory at 80.5% is above 75%; 1 more node(s) bring it to 60%" },
        { "custom", "custom metric 55.25 at 10 per worker wants 3 more node(s)" },
        { "prediction", "CPU is predicted at 90% in 10m, above 70%; 2 more node(s) bring it to 60%" },
        { "headroom", "less than the headroom of 25% of a worker is unrequested on the workers: 1 more node before pods have to wait" },
    };

    [Theory]
    [MemberData(nameof(Causes))]
    public void Cause_EverySignal_GivesItsFiguresInWords(string signal, string expected)
    {
        ScaleUpAsk ask = signal switch
        {
            "cpu" => Cpu,
            "memory" => new ScaleUpAsk.Memory(1, 0.805, 0.75, 0.60),
            "custom" => new ScaleUpAsk.CustomMetric(3, 55.25, 10),
            "prediction" => new ScaleUpAsk.Prediction(2, 0.9, TimeSpan.FromMinutes(10), 0.70, 0.60),
            _ => new ScaleUpAsk.Headroom(0.25),
        };

        Assert.Equal(expected, DecisionText.Cause(ask));
    }

    public static TheoryData<string, string> Reasons() => new()
    {
        { "stale", "Metrics are 6m old (limit 5m): not scaling on stale data" },
        { "no data", "No data for nodes, cpuNow: not scaling on missing metrics" },
        { "no utilisation", "No data for cpuNow: not scaling on missing metrics (only unschedulable pods or the minimum could scale up now)" },
        { "scale up", "Scale up by 2: CPU stayed above 70% for 3m (lowest 95%); 2 more node(s) bring it to 60%" },
        { "capped by maxStep", "Scale up by 1: CPU stayed above 70% for 3m (lowest 95%); 2 more node(s) bring it to 60%; adding 1 now (capped by maxStep)" },
        { "capped by maxNodes", "Scale up by 1: CPU stayed above 70% for 3m (lowest 95%); 2 more node(s) bring it to 60%; adding 1 now (capped by maxNodes)" },
        { "utilisation skipped", "Scale up by 5: 5 unschedulable pod(s) need 5 more node(s) (utilisation rules skipped: no data for cpuNow, memoryNow)" },
        { "at maximum", "CPU stayed above 70% for 3m (lowest 95%); 2 more node(s) bring it to 60%, but 10 managed workers already reach the maximum of 10" },
        { "scale-up cooldown", "CPU stayed above 70% for 3m (lowest 95%); 2 more node(s) bring it to 60%, but the scale-up cooldown runs until 12:03:00Z" },
        { "pods fit open nodes", "4 unschedulable pod(s) fit on the 2 launching or just-joined node(s)" },
        { "pods unplaceable", "No new node could host any of the 3 unschedulable pod(s): 2 of default/Deployment/gpu (nodeSelector gpu=true) and 1 more owner(s)" },
        { "awaiting launches", "1 node(s) still launching: no scale-down until they join" },
        { "no Ready workers", "No Ready workers and nothing pending; minimum 0 is met" },
        { "within thresholds", "Within thresholds: CPU 50% (up above 70% for 3m, down below 30%), memory n/a (up above 75%, down below 50%)" },
        { "at minimum", "CPU peaked at 12% and memory at 34.5% over the last 3m, but 2 workers is the minimum of 2" },
        { "cooldown after scale-down", "CPU peaked at 12% and memory at 34.5% over the last 3m, but the cooldown after the last scale-down runs until 12:01:00Z" },
        { "cooldown after scale-up", "CPU peaked at 12% and memory at 34.5% over the last 3m, but the cooldown after the last scale-up runs until 12:01:00Z" },
        { "no removable node", "CPU peaked at 12% and memory at 34.5% over the last 3m, but no node can go: w1: no EC2 instance id in its provider id" },
        { "no empty worker", "Within thresholds, and no empty worker can go: w1: no EC2 instance id in its provider id" },
        { "underutilized", "Remove w2 (12.3% requested): CPU peaked at 12% and memory at 34.5% over the last 3m, and its pods fit on the other nodes under 60%" },
        { "empty node", "Remove w2: it runs no pod that would have to move, and worker usage without it stays under 60%" },
        { "empty nodes", "Remove w2 and 2 other empty workers (w3, w4): they run no pod that would have to move, and worker usage without them stays under 60%" },
        { "within thresholds by requests", "Within thresholds: CPU 50% (up above 70% for 3m, down below 30%), memory 82% (the pods use 97% of the memory they request, so memory counts by requests)" },
        { "underutilized by requests", "Remove w2 (12.3% requested): CPU peaked at 12% and memory at 82% over the last 3m (the pods use 97% of the memory they request, so memory counts by requests), and its pods fit on the other nodes under 60% of their CPU and within their memory" },
        { "empty node by requests", "Remove w2: it runs no pod that would have to move, and worker CPU usage without it stays under 60%" },
        { "not managed", "i-w2 received a spot interruption warning, but it is not a managed worker of cluster prod: nothing to do" },
        { "already cordoned", "w2 (i-w2) received a state change to shutting-down while cordoned: it is already being removed" },
        { "interrupted", "w2 (i-w2) received a rebalance recommendation: drain it now and launch a replacement; nothing forces it out, so a pod that cannot be evicted keeps it until the spot warning" },
        { "interrupted above maximum", "w2 (i-w2) received a spot interruption warning: drain it now; no replacement, 4 managed workers reach the maximum of 3; EC2 takes it at 12:02:00Z" },
        { "interrupted awaiting", "w2 (i-w2) received a spot interruption warning: drain it now; its replacement was launched before, by exec-0, while it awaited this warning; EC2 takes it at 12:02:00Z" },
    };

    [Theory]
    [MemberData(nameof(Reasons))]
    public void Reason_EveryVerdict_IsOneLineInWords(string verdict, string expected)
    {
        var reason = DecisionText.Reason(Verdicts(verdict), ["w1: no EC2 instance id in its provider id"], dryRun: false);

        Assert.Equal(expected, reason);
    }

    [Theory]
    [InlineData("scale up", true, "Dry run, nothing done: Scale up by 2: ")]
    [InlineData("underutilized", true, "Dry run, nothing done: Remove w2 ")]
    [InlineData("interrupted", true, "Dry run, nothing done: w2 (i-w2) ")]
    [InlineData("at maximum", true, "CPU stayed")] // nothing would be done, so nothing to mark
    [InlineData("scale up", false, "Scale up by 2: ")]
    public void Reason_DryRun_MarksOnlyActions(string verdict, bool dryRun, string expectedStart)
    {
        Assert.StartsWith(expectedStart, DecisionText.Reason(Verdicts(verdict), [], dryRun), StringComparison.Ordinal);
    }

    [Fact]
    public void Reason_NoNodeRemovableAndNoNotes_SaysNoneQualifies()
    {
        Assert.EndsWith("no node can go: none qualifies", DecisionText.Reason(new Verdict.NoRemovableNode(Peaks), [], dryRun: false), StringComparison.Ordinal);
    }

    public static TheoryData<string, string> RefusalNotes() => new()
    {
        { "no instance", "w1: no EC2 instance id in its provider id" },
        { "unevictable", "w1: pod default/db-0 may not be evicted (PodDisruptionBudget: default/db allows 0 disruption(s)) and 2 more" },
        { "unevictable alone", "w1: pod default/db-0 may not be evicted (NoController)" },
        { "do not fit", "w1: its pods do not fit on the other nodes under 60%" },
        { "do not fit by requests", "w1: its pods do not fit on the other nodes under 60% of their CPU and within their memory" },
        { "memory requested", "w1: its pods request 62.5% of its memory, not below 50% (memory counts by requests)" },
        { "headroom", "w1: without it less than the headroom of 100% of a worker would stay unrequested" },
        { "usage", "w1: without it worker usage would reach CPU 61.3%, memory 40%, above 60%" },
        { "pinned", "w1: 1 pod(s) of default/StatefulSet/db could run on no other node (nodeSelector disktype=ssd)" },
        { "anti-affinity", "w1: 2 pod(s) of default/Deployment/web could run on no other node (pod anti-affinity)" },
        { "host port", "w1: 1 pod(s) of default/DaemonSetLike/agent could run on no other node (host port 8080/TCP taken)" },
        { "unmodelled", "w1: 1 pod(s) of default/Deployment/cache could run on no other node (not modelled: required pod affinity)" },
        { "last in zone", "w1: the last worker in us-east-1b, while us-east-1a has 3" },
    };

    [Theory]
    [MemberData(nameof(RefusalNotes))]
    public void Note_EveryRefusal_NamesTheNodeAndWhy(string refusal, string expected)
    {
        Refusal r = refusal switch
        {
            "no instance" => new Refusal.NoInstanceId("w1"),
            "unevictable" => new Refusal.Unevictable("w1", new EvictionBlocker { Pod = "default/db-0", Reason = EvictionBlockReason.PodDisruptionBudget, Detail = "default/db allows 0 disruption(s)" }, 2),
            "unevictable alone" => new Refusal.Unevictable("w1", new EvictionBlocker { Pod = "default/db-0", Reason = EvictionBlockReason.NoController }, 0),
            "do not fit" => new Refusal.PodsDoNotFit("w1", 0.6, 0.6),
            "do not fit by requests" => new Refusal.PodsDoNotFit("w1", 0.6, 1.0),
            "memory requested" => new Refusal.MemoryRequested("w1", 0.625, 0.5),
            "headroom" => new Refusal.HeadroomWouldBreak("w1", 1.0),
            "pinned" => new Refusal.PodsCannotMove("w1", "default/StatefulSet/db", 1, Predicate.NodeSelector, "disktype=ssd"),
            "anti-affinity" => new Refusal.PodsCannotMove("w1", "default/Deployment/web", 2, Predicate.PodAntiAffinity, ""),
            "host port" => new Refusal.PodsCannotMove("w1", "default/DaemonSetLike/agent", 1, Predicate.HostPort, "8080/TCP"),
            "unmodelled" => new Refusal.PodsCannotMove("w1", "default/Deployment/cache", 1, Predicate.Unmodelled, "required pod affinity"),
            "last in zone" => new Refusal.LastInZone("w1", "us-east-1b", "us-east-1a", 3),
            _ => new Refusal.UsageTooHigh("w1", 0.6133, 0.4, 0.6),
        };

        Assert.Equal(expected, DecisionText.Note(r));
    }

    public static TheoryData<NoScaleUpReason, string?, string> NoScaleUpNotes() => new()
    {
        { NoScaleUpReason.TooLarge, "4000m CPU and 1024Mi memory; a new worker offers 2000m and 7680Mi", "2 pod(s) of default/Deployment/gpu: no new node could host them (larger than a new worker: 4000m CPU and 1024Mi memory; a new worker offers 2000m and 7680Mi)" },
        { NoScaleUpReason.NodeSelector, "gpu=true", "2 pod(s) of default/Deployment/gpu: no new node could host them (nodeSelector gpu=true)" },
        { NoScaleUpReason.NodeAffinity, "kubernetes.io/arch In (arm64)", "2 pod(s) of default/Deployment/gpu: no new node could host them (required node affinity kubernetes.io/arch In (arm64))" },
        { NoScaleUpReason.VolumeZone, "volume data-0: topology.kubernetes.io/zone In (us-east-1c)", "2 pod(s) of default/Deployment/gpu: no new node could host them (bound volume data-0: topology.kubernetes.io/zone In (us-east-1c))" },
        { NoScaleUpReason.Taint, "dedicated=infra:NoSchedule", "2 pod(s) of default/Deployment/gpu: no new node could host them (taint dedicated=infra:NoSchedule not tolerated)" },
        { NoScaleUpReason.UncertainLabel, "node.kubernetes.io/instance-type In (m5.large)", "2 pod(s) of default/Deployment/gpu: no new node could host them (node.kubernetes.io/instance-type In (m5.large) holds for only some of the labels a new worker may get)" },
        { NoScaleUpReason.TopologySpread, "topology.kubernetes.io/zone maxSkew 1", "2 pod(s) of default/Deployment/gpu: no new node could host them (topology spread topology.kubernetes.io/zone maxSkew 1)" },
        { NoScaleUpReason.Unmodelled, "required pod affinity", "2 pod(s) of default/Deployment/gpu: no new node could host them (not modelled: required pod affinity)" },
    };

    [Theory]
    [MemberData(nameof(NoScaleUpNotes))]
    public void Note_NoScaleUpPods_NamesTheOwnerTheCheckAndWhatFailed(NoScaleUpReason reason, string? detail, string expected)
    {
        Assert.Equal(expected, DecisionText.Note(Gpu with { Reason = reason, Detail = detail }));
    }

    [Theory]
    [InlineData(1, 2, 3)]
    [InlineData(0, 3, 3)]
    [InlineData(4, 4, DecisionText.MaxNotes)] // a handful is enough
    public void Notes_PodsThenRefusals_AtMostAHandful(int podGroups, int refusals, int expected)
    {
        var notes = DecisionText.Notes(
            Enumerable.Range(1, podGroups).Select(i => Gpu with { Count = i }),
            Enumerable.Range(1, refusals).Select(i => new Refusal.NoInstanceId($"w{i}")));

        Assert.Equal(expected, notes.Count);
        Assert.StartsWith(podGroups > 0 ? "1 pod(s) of default/Deployment/gpu" : "w1: no EC2", notes[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("scale up", "Scale up by 2: CPU stayed above 70% for 3m (lowest 95%); 2 more node(s) bring it to 60%; no new node could host 2 pending pod(s): 2 of default/Deployment/gpu (nodeSelector gpu=true)")]
    [InlineData("within thresholds", "Within thresholds: CPU 50% (up above 70% for 3m, down below 30%), memory n/a (up above 75%, down below 50%); no new node could host 2 pending pod(s): 2 of default/Deployment/gpu (nodeSelector gpu=true)")]
    public void Reason_PendingPodsNoNewNodeCouldHost_SaysSoAtTheEnd(string verdict, string expected)
    {
        Assert.Equal(expected, DecisionText.Reason(Verdicts(verdict), [], dryRun: false, [Gpu]));
    }

    private static Verdict Verdicts(string name) => name switch
    {
        "stale" => new Verdict.SnapshotStale(TimeSpan.FromSeconds(359.6), TimeSpan.FromMinutes(5)),
        "no data" => new Verdict.NoData(["nodes", "cpuNow"], CountedSignalsMayScale: false),
        "no utilisation" => new Verdict.NoData(["cpuNow"], CountedSignalsMayScale: true),
        "scale up" => new Verdict.ScaleUp(Cpu, 2, ScaleUpCap.None, []),
        "capped by maxStep" => new Verdict.ScaleUp(Cpu, 1, ScaleUpCap.MaxStep, []),
        "capped by maxNodes" => new Verdict.ScaleUp(Cpu, 1, ScaleUpCap.MaxNodes, []),
        "utilisation skipped" => new Verdict.ScaleUp(new ScaleUpAsk.PendingPods(5, false, 5, 0), 5, ScaleUpCap.None, ["cpuNow", "memoryNow"]),
        "at maximum" => new Verdict.AtMaximum(Cpu, 10, 10),
        "scale-up cooldown" => new Verdict.ScaleUpCoolingDown(Cpu, Now.AddMinutes(3)),
        "pods fit open nodes" => new Verdict.PodsFitOpenNodes(4, 2),
        "pods unplaceable" => new Verdict.PodsUnplaceable(3, [Gpu, Gpu with { Owner = "default/Deployment/big", Count = 1, Reason = NoScaleUpReason.TooLarge }]),
        "awaiting launches" => new Verdict.AwaitingLaunches(1),
        "no Ready workers" => new Verdict.NoReadyWorkers(0),
        "within thresholds" => new Verdict.WithinThresholds(0.5, 0.70, TimeSpan.FromMinutes(3), 0.30, null, 0.75, 0.50, null),
        "within thresholds by requests" => new Verdict.WithinThresholds(0.5, 0.70, TimeSpan.FromMinutes(3), 0.30, 0.82, 0.75, 0.50, 0.97),
        "underutilized by requests" => new Verdict.Underutilized(W2, PeaksByRequests, 0.60, []),
        "empty node by requests" => new Verdict.EmptyNode(W2, 0.60, [], MemoryByRequests: true),
        "at minimum" => new Verdict.AtMinimum(Peaks, 2, 2),
        "cooldown after scale-down" => new Verdict.ScaleDownCoolingDown(Peaks, Now.AddMinutes(1), AfterScaleDown: true),
        "cooldown after scale-up" => new Verdict.ScaleDownCoolingDown(Peaks, Now.AddMinutes(1), AfterScaleDown: false),
        "no removable node" => new Verdict.NoRemovableNode(Peaks),
        "no empty worker" => new Verdict.NoEmptyWorker(),
        "underutilized" => new Verdict.Underutilized(W2, Peaks, 0.60, []),
        "empty node" => new Verdict.EmptyNode(W2, 0.60, [], MemoryByRequests: false),
        "empty nodes" => new Verdict.EmptyNode(W2, 0.60, [W2 with { Name = "w3", InstanceId = "i-w3" }, W2 with { Name = "w4", InstanceId = "i-w4" }], MemoryByRequests: false),
        "not managed" => new Verdict.NotManaged(Spot, "prod"),
        "already cordoned" => new Verdict.AlreadyCordoned(new Trigger { Kind = TriggerKind.StateChange, InstanceId = "i-w2", State = "shutting-down" }, "w2"),
        "interrupted" => new Verdict.Interrupted(Spot with { Kind = TriggerKind.Rebalance }, W2, Replacement: true, 3, 10, new InterruptionNotice { Kind = TriggerKind.Rebalance }),
        "interrupted above maximum" => new Verdict.Interrupted(Spot, W2, Replacement: false, 4, 3, new InterruptionNotice { Kind = TriggerKind.SpotInterruption, NotAfter = new DateTimeOffset(2026, 11, 18, 12, 2, 0, TimeSpan.Zero) }),
        "interrupted awaiting" => new Verdict.Interrupted(Spot, W2, Replacement: false, 4, 10, new InterruptionNotice { Kind = TriggerKind.SpotInterruption, NotAfter = new DateTimeOffset(2026, 11, 18, 12, 2, 0, TimeSpan.Zero), ReplacedBy = "exec-0" }),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such verdict in this table"),
    };
}
