using System.Globalization;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;
using NodeFleet.Simulator.Traces;
using NodeFleet.Testbed;

namespace NodeFleet.Simulator.Simulation;

/// <summary>A worker instance: billed from launch to termination, a node from its join on.</summary>
public sealed class SimInstance
{
    public required string Id { get; init; }
    public required DateTimeOffset LaunchedAt { get; init; }
    public required DateTimeOffset JoinsAt { get; init; }
    public required CapacityType Capacity { get; init; }
    public DateTimeOffset? TerminatedAt { get; set; }
    public bool Joined { get; set; }
    public bool Running => TerminatedAt is null;
}

/// <summary>One pod's wait: its deployment, when it became unschedulable, and the seconds until it ran.</summary>
public sealed record PodWait(string Owner, DateTimeOffset Since, double Seconds);

/// <summary>
/// The testbed's cluster model (its scheduler and eviction) driven in virtual time by a trace:
/// pods follow each deployment's replicas, instances join after their boot delay, and every
/// step records what Prometheus would have scraped, so snapshots carry the same windows as in
/// production. One master plus the workers the strategy launches.
/// </summary>
public sealed class VirtualCluster
{
    public static readonly Resources WorkerShape = new(2000, 7680L * 1024 * 1024, 110);

    private readonly Trace trace;
    private readonly ClusterModel model = new();
    private readonly List<SimInstance> instances = [];
    private readonly List<(DateTimeOffset At, double Cpu, double Memory, long RequestedCpu)> samples = [];
    private readonly Dictionary<string, (DateTimeOffset Since, string Owner)> waitingSince = new(StringComparer.Ordinal);
    private readonly List<PodWait> waits = [];
    private readonly Dictionary<string, int> nextPodIndex = new(StringComparer.Ordinal);
    private int nextInstance;
    private bool dirty = true;

    public VirtualCluster(Trace trace, DateTimeOffset start)
    {
        this.trace = trace;
        Start = start;
        Now = start;
        model.Add(TestNode.ControlPlane(start.AddDays(-30)));
    }

    public DateTimeOffset Start { get; }
    public DateTimeOffset Now { get; private set; }
    public IReadOnlyList<SimInstance> Instances => instances;

    /// <summary>Pod-minutes spent unschedulable so far.</summary>
    public double PendingPodMinutes { get; private set; }

    /// <summary>Seconds from unschedulable to running, one per pod that waited and got a node.</summary>
    public IEnumerable<double> Waits => waits.Select(w => w.Seconds);

    /// <summary>Pods that are still waiting now, with how long they have waited (seconds).</summary>
    public IEnumerable<double> StillWaiting => waitingSince.Values.Select(w => (Now - w.Since).TotalSeconds);

    /// <summary>Every wait: of the pods that got a node, and of those still waiting (until now).</summary>
    public IEnumerable<PodWait> AllWaits => waits.Concat(waitingSince.Values.Select(w => new PodWait(w.Owner, w.Since, (Now - w.Since).TotalSeconds)));

    /// <summary>The pods unschedulable now (what kube_pod_status_unschedulable says), by name.</summary>
    public IEnumerable<string> PendingPodNames => waitingSince.Keys;

    /// <summary>When the next launched instance joins (null: none is booting).</summary>
    public DateTimeOffset? NextJoinAt
    {
        get
        {
            DateTimeOffset? next = null;
            // Newest first: the booting ones are at the end of a long run's list.
            for (var i = instances.Count - 1; i >= 0; i--)
            {
                var instance = instances[i];
                if (instance.Running && !instance.Joined && (next is null || instance.JoinsAt < next))
                {
                    next = instance.JoinsAt;
                }
            }

            return next;
        }
    }

    public int ReadyWorkers => model.Read((nodes, _, _) => nodes.Count(n => n.Name != "master"));

    public int UnschedulablePods => model.Read((_, pods, _) => pods.Count(p => p.NodeName is null));

    public long DemandCpuMillis => model.Read((_, pods, _) => pods.Sum(p => p.CpuMillis));

    /// <summary>
    /// Launches <paramref name="count"/> instances now, each joining after its own boot delay: the first
    /// <see cref="CapacitySplit.SpotCount"/> of them spot, the rest on demand, as LaunchNodes splits a launch (one zone).
    /// </summary>
    public IReadOnlyList<SimInstance> Launch(int count, double spotShare, Func<TimeSpan> bootDelay)
    {
        ArgumentNullException.ThrowIfNull(bootDelay);
        var spot = CapacitySplit.SpotCount(count, spotShare);
        var launched = Enumerable.Range(0, count).Select(i => new SimInstance
        {
            Id = $"i-{++nextInstance:x17}",
            LaunchedAt = Now,
            JoinsAt = Now + bootDelay(),
            Capacity = i < spot ? CapacityType.Spot : CapacityType.OnDemand,
        }).ToList();
        instances.AddRange(launched);
        return launched;
    }

    /// <summary>
    /// DrainStart: cordons the worker and evicts its pods. Their ReplicaSets recreate them at once, pending, so the
    /// scheduler places them elsewhere now or they wait; the evicted pods shut down on the cordoned node, which
    /// nothing else uses. Returns how many pods were evicted (none: the node is drained at once).
    /// </summary>
    public int Evict(string instanceId)
    {
        Cordon(instanceId, cordon: true);
        var evicted = model.Read((_, pods, _) => pods.Where(p => p.NodeName == NodeName(instanceId)).ToList());
        foreach (var pod in evicted)
        {
            model.RemovePod(pod.Namespace, pod.Name);
        }

        if (evicted.Count > 0)
        {
            ApplyDemand(trace.At(Now - Start));
            model.Schedule();
            TrackWaits();
        }

        return evicted.Count;
    }

    /// <summary>Evicts the node's pods (they go back to their deployments as pending), removes it, terminates its instance.</summary>
    public void Remove(string instanceId)
    {
        var instance = instances.First(i => i.Id == instanceId);
        instance.TerminatedAt = Now;
        if (instance.Joined)
        {
            foreach (var pod in model.Read((_, pods, _) => pods.Where(p => p.NodeName == NodeName(instanceId)).ToList()))
            {
                model.Evict(pod.Namespace, pod.Name);
            }

            model.RemoveNode(NodeName(instanceId), $"instance {instanceId} terminated");
            // The scheduler places evicted pods within seconds; only those with no room stay unschedulable.
            model.Schedule();
            TrackWaits();
        }
    }

    /// <summary>Cordons a worker (no new pod lands on it; its pods stay) or uncordons it (pending pods may land on it again).</summary>
    public void Cordon(string instanceId, bool cordon)
    {
        if (model.SetUnschedulable(NodeName(instanceId), cordon) is not null && !cordon)
        {
            model.Schedule();
            TrackWaits();
        }
    }

    /// <summary>Advances to <paramref name="at"/>: demand from the trace, joins, scheduling, and a metrics sample when <paramref name="sample"/> (Prometheus' scrape).</summary>
    public void AdvanceTo(DateTimeOffset at, bool sample = true)
    {
        var elapsed = at - Now;
        PendingPodMinutes += UnschedulablePods * elapsed.TotalMinutes;
        Now = at;
        ApplyDemand(trace.At(at - Start));
        foreach (var instance in instances.Where(i => i.Running && !i.Joined && i.JoinsAt <= at))
        {
            instance.Joined = true;
            model.Add(new TestNode
            {
                Name = NodeName(instance.Id), ProviderId = $"aws:///us-east-1a/{instance.Id}", Created = at,
                CpuMillis = WorkerShape.CpuMillis, MemoryBytes = WorkerShape.MemoryBytes, MaxPods = WorkerShape.Pods,
                Labels = { ["nodefleet.io/managed"] = "true" },
            });
            dirty = true;
        }

        if (dirty)
        {
            model.Schedule();
            dirty = false;
        }

        TrackWaits();
        if (sample)
        {
            var (cpu, memory) = Utilization();
            samples.Add((at, cpu, memory, DemandCpuMillis));
        }
    }

    private static string NodeName(string instanceId) => "ip-" + instanceId[2..];

    private void ApplyDemand(TracePoint point)
    {
        foreach (var demand in point.Deployments)
        {
            var current = model.Read((_, pods, _) => pods.Where(p => p.OwnerName == demand.Deployment).ToList());
            var surplus = current.Count - demand.Replicas;
            // A scale-in removes the pods that never started first, then the newest, as a ReplicaSet does.
            foreach (var pod in current.OrderBy(p => p.NodeName is null ? 0 : 1).ThenByDescending(p => p.Name, StringComparer.Ordinal).Take(Math.Max(0, surplus)))
            {
                model.RemovePod(pod.Namespace, pod.Name);
                waitingSince.Remove(pod.Name);
                dirty = true;
            }

            for (var i = surplus; i < 0; i++)
            {
                var index = nextPodIndex.GetValueOrDefault(demand.Deployment);
                nextPodIndex[demand.Deployment] = index + 1;
                model.Add(new TestPod
                {
                    Namespace = "sim", Name = $"{demand.Deployment}-{index.ToString("D6", CultureInfo.InvariantCulture)}", OwnerName = demand.Deployment,
                    Phase = "Pending", CpuMillis = demand.CpuRequestMillis, MemoryBytes = demand.MemoryRequestMiB * 1024 * 1024,
                });
                dirty = true;
            }

            model.Read((_, pods, _) =>
            {
                foreach (var pod in pods.Where(p => p.OwnerName == demand.Deployment))
                {
                    pod.CpuUsageMillis = demand.CpuUseMillis;
                }

                return 0;
            });
        }
    }

    private void TrackWaits()
    {
        model.Read((_, pods, _) =>
        {
            foreach (var pod in pods)
            {
                if (pod.NodeName is null)
                {
                    waitingSince.TryAdd(pod.Name, (Now, pod.OwnerName ?? ""));
                }
                else if (waitingSince.Remove(pod.Name, out var waiting))
                {
                    waits.Add(new PodWait(waiting.Owner, waiting.Since, (Now - waiting.Since).TotalSeconds));
                }
            }

            return 0;
        });
    }

    /// <summary>Busy share of the workers' cores (use capped at each node's cores) and requested share of their memory; NaN without workers.</summary>
    private (double Cpu, double Memory) Utilization() =>
        model.Read((nodes, pods, _) =>
        {
            long cpu = 0, cpuCapacity = 0, memory = 0, memoryCapacity = 0;
            var byNode = pods.Where(p => p.NodeName is not null).ToLookup(p => p.NodeName!, StringComparer.Ordinal);
            foreach (var node in nodes.Where(n => n.Name != "master"))
            {
                cpu += Math.Min(byNode[node.Name].Sum(p => p.CpuUsageMillis), node.CpuMillis);
                memory += byNode[node.Name].Sum(p => p.MemoryBytes);
                cpuCapacity += node.CpuMillis;
                memoryCapacity += node.MemoryBytes;
            }

            return cpuCapacity == 0 ? (double.NaN, double.NaN) : ((double)cpu / cpuCapacity, (double)memory / memoryCapacity);
        });

    /// <summary>
    /// What CollectMetrics would read now: nodes with requests and movable pods, unschedulable
    /// pods grouped by deployment and size, and utilisation with its windows from the samples.
    /// </summary>
    public ClusterSnapshot Snapshot(NodeFleet.Core.Settings.ScalingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var nodes = model.Read((nodes, pods, _) =>
        {
            var byNode = pods.Where(p => p.NodeName is not null).ToLookup(p => p.NodeName!, StringComparer.Ordinal);
            return nodes.Select(n =>
            {
                var bound = byNode[n.Name].ToList();
                var master = n.Name == "master";
                return new NodeInfo
                {
                    Name = n.Name,
                    InstanceId = master ? null : "i-" + n.Name[3..],
                    Zone = "us-east-1a",
                    InstanceType = "t3.large",
                    CapacityType = master ? null : instances.First(i => i.Id == "i-" + n.Name[3..]).Capacity,
                    Ready = true,
                    Unschedulable = n.Unschedulable,
                    // CollectMetrics reads the taints: without them the master's NoSchedule looks like room for evicted pods.
                    Taints = n.Taints.Select(t => new NodeTaint { Key = t.Key, Value = t.Value, Effect = t.Effect }).ToList(),
                    ControlPlane = master,
                    Managed = !master,
                    CreatedAt = n.Created,
                    Allocatable = new Resources(n.CpuMillis, n.MemoryBytes, n.MaxPods),
                    Requested = new Resources(bound.Sum(p => p.CpuMillis), bound.Sum(p => p.MemoryBytes), bound.Count),
                    MovablePods = Groups(bound),
                };
            }).ToList();
        });
        var pending = model.Read((_, pods, _) => Groups(pods.Where(p => p.NodeName is null)));
        double? Window(Func<(double Cpu, double Memory), double> pick, TimeSpan window, bool lowest)
        {
            var values = Recent(window).Select(s => pick((s.Cpu, s.Memory))).Where(v => !double.IsNaN(v)).ToList();
            return values.Count == 0 ? null : lowest ? values.Min() : values.Max();
        }

        var requested = Recent(settings.HeadroomWindow).Select(s => s.RequestedCpu).DefaultIfEmpty(DemandCpuMillis).ToList();

        // CPU "now" is a rate over cpuRateWindow: the mean of the samples in it.
        var rate = Recent(settings.CpuRateWindow).Where(s => !double.IsNaN(s.Cpu)).Select(s => s.Cpu).ToList();
        return new ClusterSnapshot
        {
            CapturedAt = Now,
            Nodes = nodes,
            UnschedulablePods = pending,
            RequestedCpuRise = DemandCpuMillis - requested.Min(),
            RequestedCpuRisingQuarters = RisingQuarters(settings.HeadroomWindow),
            RequestedCpuSwing = requested.Max() - requested.Min(),
            PredictedCpuUtilization = settings.PredictiveHorizon > TimeSpan.Zero ? PredictLinear(settings.PredictiveLookback, settings.PredictiveHorizon) : null,
            Utilization = new UtilizationMetrics
            {
                CpuNow = rate.Count == 0 ? null : rate.Average(),
                CpuMinOverUpWindow = Window(u => u.Cpu, settings.ScaleUpCpuWindow, lowest: true),
                CpuMaxOverDownWindow = Window(u => u.Cpu, settings.ScaleDownWindow, lowest: false),
                MemoryNow = Window(u => u.Memory, settings.CpuRateWindow, lowest: false),
                MemoryMaxOverDownWindow = Window(u => u.Memory, settings.ScaleDownWindow, lowest: false),
                // The simulated pods use exactly the memory they request (as caches do, the case that
                // packs tightest), so cAdvisor's working set over the requests reads 1 wherever a worker
                // runs pods; with none there is no series, as in Prometheus.
                MemoryUseOfRequests = nodes.Any(n => !n.ControlPlane && n.Requested.MemoryBytes > 0) ? 1.0 : null,
            },
        };
    }

    /// <summary>
    /// In how many of <paramref name="window"/>'s four quarters requested CPU ended above where it
    /// started, as the requestedCpuRisingQuarters query reads it: a quarter that starts before the
    /// first sample counts as not rising.
    /// </summary>
    private int RisingQuarters(TimeSpan window)
    {
        long? At(TimeSpan ago) => ago == TimeSpan.Zero ? DemandCpuMillis
            : samples.Count > 0 && samples[0].At <= Now - ago ? Recent(window + TimeSpan.FromMinutes(1)).First(s => s.At <= Now - ago).RequestedCpu : null;
        return Enumerable.Range(0, 4).Count(q => At(window * q / 4) is { } end && At(window * (q + 1) / 4) is { } start && end > start);
    }

    /// <summary>
    /// Worker CPU <paramref name="horizon"/> ahead by a least-squares line through the samples of
    /// <paramref name="lookback"/>, as Prometheus' predict_linear computes it; null with fewer than two.
    /// </summary>
    private double? PredictLinear(TimeSpan lookback, TimeSpan horizon)
    {
        var points = Recent(lookback).Where(s => !double.IsNaN(s.Cpu)).Select(s => (Seconds: (s.At - Now).TotalSeconds, s.Cpu)).ToList();
        if (points.Count < 2)
        {
            return null;
        }

        var meanT = points.Average(p => p.Seconds);
        var meanV = points.Average(p => p.Cpu);
        var covariance = points.Sum(p => (p.Seconds - meanT) * (p.Cpu - meanV));
        var variance = points.Sum(p => (p.Seconds - meanT) * (p.Seconds - meanT));
        var slope = variance == 0 ? 0 : covariance / variance;
        return meanV + (slope * (horizon.TotalSeconds - meanT));
    }

    /// <summary>The samples within <paramref name="window"/> of now, newest first (a week holds 40,000: never scan them all).</summary>
    private IEnumerable<(DateTimeOffset At, double Cpu, double Memory, long RequestedCpu)> Recent(TimeSpan window)
    {
        for (var i = samples.Count - 1; i >= 0 && samples[i].At > Now - window; i--)
        {
            yield return samples[i];
        }
    }

    /// <summary>Worker CPU share now (the latest sample), NaN without workers: the seed policy's reading.</summary>
    public double CpuNow => samples.Count == 0 ? double.NaN : samples[^1].Cpu;

    private static List<PodGroup> Groups(IEnumerable<TestPod> pods) =>
        pods.GroupBy(p => (p.OwnerName, p.CpuMillis, p.MemoryBytes))
            .Select(g => new PodGroup { Owner = g.Key.OwnerName, CpuMillis = g.Key.CpuMillis, MemoryBytes = g.Key.MemoryBytes, Count = g.Count() })
            .ToList();
}
