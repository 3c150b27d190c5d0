namespace NodeFleet.Testbed;

public sealed class TestNode
{
    public required string Name { get; init; }
    public string? ProviderId { get; set; }
    /// <summary>The Ready condition; setting it moves <see cref="ReadyChangedAt"/> (lastTransitionTime) when it changes.</summary>
    public bool Ready
    {
        get;
        set
        {
            if (field != value)
            {
                ReadyChangedAt = DateTimeOffset.UtcNow;
            }

            field = value;
        }
    } = true;

    /// <summary>The Ready condition's lastTransitionTime: when the node registered, or when Ready last changed.</summary>
    public DateTimeOffset ReadyChangedAt { get; set; } = DateTimeOffset.UtcNow;
    public bool Unschedulable { get; set; }
    public Dictionary<string, string> Labels { get; init; } = [];
    public List<(string Key, string Effect)> Taints { get; init; } = [];

    /// <summary>metadata.annotations; a merge patch sets and (with null) removes them.</summary>
    public Dictionary<string, string> Annotations { get; init; } = [];
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    public long CpuMillis { get; init; } = 2000;
    public long MemoryBytes { get; init; } = 8L * 1024 * 1024 * 1024;
    public int MaxPods { get; init; } = 110;

    /// <summary>K3s' server node as the scenarios use it: control-plane role, NoSchedule taint, no instance id.</summary>
    public static TestNode ControlPlane(DateTimeOffset? created = null) => new()
    {
        Name = "master", ProviderId = "k3s://master", Created = created ?? DateTimeOffset.UtcNow,
        Labels = { ["node-role.kubernetes.io/control-plane"] = "true" },
        Taints = { ("node-role.kubernetes.io/control-plane", "NoSchedule") },
    };
}

public sealed class TestPod
{
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public string? NodeName { get; set; }
    public string Phase { get; set; } = "Running";
    public string? OwnerKind { get; init; } = "ReplicaSet";
    public string? OwnerName { get; init; } = "app";
    public Dictionary<string, string> Labels { get; init; } = [];
    public Dictionary<string, string> Annotations { get; init; } = [];
    public bool EmptyDir { get; init; }
    public long CpuMillis { get; init; } = 100;
    public long MemoryBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>CPU the pod actually burns, in millicores (the load model).</summary>
    public long CpuUsageMillis { get; set; }

    /// <summary>True while the scheduler finds no node with room for the pod.</summary>
    public bool Unschedulable { get; set; }

    /// <summary>spec.terminationGracePeriodSeconds: how long the kubelet waits after SIGTERM before it kills the pod.</summary>
    public long TerminationGracePeriodSeconds { get; init; } = 30;

    /// <summary>
    /// How long the process takes to exit after SIGTERM (a pod that handles it); null for a pod
    /// that ignores SIGTERM and runs until its grace period ends and the kubelet kills it.
    /// </summary>
    public TimeSpan? ExitAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>When the API accepted its deletion (an eviction); null while it is not terminating.</summary>
    public DateTimeOffset? DeletionRequestedAt { get; set; }

    /// <summary>metadata.deletionTimestamp as the API sets it: the deletion request plus the grace period, the latest the pod may still run.</summary>
    public DateTimeOffset? DeletionTimestamp => DeletionRequestedAt?.AddSeconds(TerminationGracePeriodSeconds);

    /// <summary>When its process is gone: SIGTERM handled after <see cref="ExitAfter"/>, or killed at the end of the grace period.</summary>
    public DateTimeOffset? ExitsAt => DeletionRequestedAt is { } requested
        ? requested + TimeSpan.FromTicks(Math.Min((ExitAfter ?? TimeSpan.MaxValue).Ticks, TimeSpan.FromSeconds(TerminationGracePeriodSeconds).Ticks))
        : null;
}

/// <summary>A pod whose process was killed while it ran, before it had exited or its grace period had ended (its node went away under it).</summary>
public sealed record KilledPod(string Namespace, string Name, string Node, DateTimeOffset At, string Why, DateTimeOffset? GraceEndsAt)
{
    public override string ToString() =>
        $"{Namespace}/{Name} on {Node} at {At:O}: {Why}" + (GraceEndsAt is { } end ? $" (terminating, grace until {end:O})" : " (never evicted)");
}

/// <summary>A PodDisruptionBudget with either minAvailable or maxUnavailable, over matchLabels.</summary>
public sealed class TestBudget
{
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public required Dictionary<string, string> MatchLabels { get; init; }
    public int? MinAvailable { get; init; }
    public int? MaxUnavailable { get; init; }
}

/// <summary>
/// The emulated cluster's objects, with the semantics the steps rely on: evictions honour
/// PodDisruptionBudgets (disruptions allowed = healthy pods minus minAvailable, or
/// maxUnavailable minus the unhealthy; a terminating pod is not healthy), cordoning sets
/// <c>spec.unschedulable</c>. An accepted eviction deletes gracefully, as the API does: the pod
/// gets a deletionTimestamp and keeps running on its node (Terminating) until its process exits
/// (<see cref="TestPod.ExitAfter"/>, or at the end of its grace period), then it is gone; its
/// controller's replacement is created at once, Pending (a ReplicaSet does not count terminating
/// pods as active). A pod still running when its node is removed is recorded in <see cref="KilledEarly"/>.
/// </summary>
public sealed class ClusterModel(TimeProvider? clock = null)
{
    private readonly TimeProvider clock = clock ?? TimeProvider.System;
    private readonly Lock gate = new();
    private readonly List<KilledPod> killed = [];
    private readonly List<TestNode> nodes = [];
    private readonly List<TestPod> pods = [];
    private readonly List<TestBudget> budgets = [];
    private long revision = 1;

    /// <summary>Counts the changes made through the model, as etcd's revision does; the API's resourceVersion.</summary>
    public long Revision { get { lock (gate) { return revision; } } }

    public void Add(TestNode node) { lock (gate) { nodes.Add(node); revision++; } }

    public void Add(TestPod pod) { lock (gate) { pods.Add(pod); revision++; } }

    public void Add(TestBudget budget) { lock (gate) { budgets.Add(budget); revision++; } }

    public bool RemoveBudget(string ns, string name) { lock (gate) { revision++; return budgets.RemoveAll(b => b.Namespace == ns && b.Name == name) > 0; } }

    public T Read<T>(Func<IReadOnlyList<TestNode>, IReadOnlyList<TestPod>, IReadOnlyList<TestBudget>, T> read)
    {
        lock (gate)
        {
            ReapExited();
            return read(nodes, pods, budgets);
        }
    }

    /// <summary>Pods killed while they still ran (their node removed under them), in order.</summary>
    public IReadOnlyList<KilledPod> KilledEarly { get { lock (gate) { return [.. killed]; } } }

    /// <summary>Deletes a pod for good, as scaling its deployment down would.</summary>
    public bool RemovePod(string ns, string name) { lock (gate) { revision++; return pods.RemoveAll(p => p.Namespace == ns && p.Name == name) > 0; } }

    public TestNode? Node(string name) { lock (gate) { return nodes.FirstOrDefault(n => n.Name == name); } }

    /// <summary>Sets the node's Ready condition (its kubelet stopped or came back); false when the node does not exist.</summary>
    public bool SetReady(string name, bool ready)
    {
        lock (gate)
        {
            var node = nodes.FirstOrDefault(n => n.Name == name);
            if (node is null)
            {
                return false;
            }

            node.Ready = ready;
            revision++;
            return true;
        }
    }

    /// <summary>
    /// Applies a merge patch's metadata.annotations and spec.unschedulable in one change, as one
    /// PATCH does: a string sets an annotation, null removes it; null when the node does not exist.
    /// </summary>
    public TestNode? Patch(string name, IReadOnlyDictionary<string, string?> annotations, bool? unschedulable)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        TestNode? node;
        lock (gate)
        {
            node = nodes.FirstOrDefault(n => n.Name == name);
            if (node is null)
            {
                return null;
            }

            foreach (var (key, value) in annotations)
            {
                if (value is null)
                {
                    node.Annotations.Remove(key);
                }
                else
                {
                    node.Annotations[key] = value;
                }
            }

            if (unschedulable is { } cordon)
            {
                node.Unschedulable = cordon;
            }

            revision++;
        }

        if (unschedulable == true)
        {
            Cordoned?.Invoke(node);
        }

        return node;
    }

    /// <summary>Removes the pods whose process has exited (the kubelet confirmed the deletion). Under the gate.</summary>
    private void ReapExited()
    {
        var now = clock.GetUtcNow();
        if (pods.RemoveAll(p => p.ExitsAt is { } exit && exit <= now) > 0)
        {
            revision++;
        }
    }

    /// <summary>Called after a node is cordoned through the API: lets a scenario change the cluster mid-drain.</summary>
    public Action<TestNode>? Cordoned { get; set; }

    /// <summary>Cordons or uncordons (<c>spec.unschedulable</c>); null when the node does not exist.</summary>
    public TestNode? SetUnschedulable(string name, bool unschedulable) => Patch(name, new Dictionary<string, string?>(), unschedulable);

    /// <summary>
    /// Removes the node and the pods bound to it (their controllers' job is to recreate them). A pod
    /// that still ran there (not exited, not a DaemonSet or mirror pod, which live and die with
    /// their node) is recorded in <see cref="KilledEarly"/> with <paramref name="why"/>.
    /// </summary>
    public bool RemoveNode(string name, string why)
    {
        lock (gate)
        {
            KillPodsOn(name, why);
            return nodes.RemoveAll(n => n.Name == name) > 0;
        }
    }

    /// <summary>
    /// The node's machine is gone (its instance terminated): its pods die with it (recorded in
    /// <see cref="KilledEarly"/> unless they had finished) and, as in K3s without a cloud controller,
    /// the Node object stays, NotReady, until someone deletes it.
    /// </summary>
    public bool MachineGone(string name, string why)
    {
        lock (gate)
        {
            var node = nodes.FirstOrDefault(n => n.Name == name);
            if (node is null)
            {
                return false;
            }

            KillPodsOn(name, why);
            node.Ready = false;
            return true;
        }
    }

    private void KillPodsOn(string name, string why)
    {
        ReapExited();
        revision++;
        var now = clock.GetUtcNow();
        foreach (var pod in pods.Where(p => p.NodeName == name && p.Phase is "Running" or "Pending" && p.OwnerKind != "DaemonSet" && !p.Annotations.ContainsKey("kubernetes.io/config.mirror")))
        {
            killed.Add(new KilledPod(pod.Namespace, pod.Name, name, now, why, pod.DeletionTimestamp));
        }

        pods.RemoveAll(p => p.NodeName == name);
    }

    public int DisruptionsAllowed(TestBudget budget)
    {
        lock (gate)
        {
            ReapExited();
            var selected = pods.Where(p => Selects(budget, p)).ToList();
            var healthy = selected.Count(Healthy);
            return budget.MinAvailable is { } min
                ? Math.Max(0, healthy - min)
                : Math.Max(0, (budget.MaxUnavailable ?? 0) - (selected.Count - healthy));
        }
    }

    /// <summary>
    /// Binds every pod without a node to the first Ready, schedulable node with room for its
    /// requests (CPU, memory, pod slots), as the scheduler would; a pod that fits nowhere is
    /// marked unschedulable until room appears.
    /// </summary>
    public void Schedule()
    {
        lock (gate)
        {
            ReapExited();
            foreach (var pod in pods.Where(p => p.NodeName is null && p.Phase is "Pending" or "Running"))
            {
                var node = nodes.FirstOrDefault(n => n.Ready && !n.Unschedulable && !n.Taints.Any(t => t.Effect is "NoSchedule" or "NoExecute") && Fits(n, pod));
                pod.Unschedulable = node is null;
                if (node is not null)
                {
                    revision++;
                    pod.NodeName = node.Name;
                    pod.Phase = "Running";
                }
            }
        }
    }

    private bool Fits(TestNode node, TestPod pod)
    {
        var bound = pods.Where(p => p.NodeName == node.Name && p.Phase is "Pending" or "Running").ToList();
        return bound.Sum(p => p.CpuMillis) + pod.CpuMillis <= node.CpuMillis
            && bound.Sum(p => p.MemoryBytes) + pod.MemoryBytes <= node.MemoryBytes
            && bound.Count + 1 <= node.MaxPods;
    }

    /// <summary>As the disruption controller counts: running on a node and not being deleted.</summary>
    private static bool Healthy(TestPod pod) => pod.Phase == "Running" && pod.NodeName is not null && pod.DeletionRequestedAt is null;

    public static bool Selects(TestBudget budget, TestPod pod) =>
        pod.Namespace == budget.Namespace && budget.MatchLabels.All(m => pod.Labels.TryGetValue(m.Key, out var v) && v == m.Value);

    /// <summary>
    /// Evicts like the Eviction subresource: 404 when gone, 429 naming the budget when it allows no
    /// disruption. A pod already terminating, or Pending, is deleted without asking its budgets
    /// (eviction.go's canIgnorePDB); a second eviction of a terminating pod changes nothing.
    /// </summary>
    public (int Status, string Message) Evict(string ns, string name)
    {
        lock (gate)
        {
            ReapExited();
            var pod = pods.FirstOrDefault(p => p.Namespace == ns && p.Name == name);
            if (pod is null)
            {
                return (404, $"pods \"{name}\" not found");
            }

            if (pod.DeletionRequestedAt is not null)
            {
                return (201, "");
            }

            var blocking = pod.Phase == "Pending" ? null : budgets.Where(b => Selects(b, pod)).FirstOrDefault(b => DisruptionsAllowed(b) < 1);
            if (blocking is not null)
            {
                var healthy = pods.Count(p => Selects(blocking, p) && Healthy(p));
                return (429, $"The disruption budget {blocking.Name} needs {blocking.MinAvailable ?? healthy} healthy pods and has {healthy} currently");
            }

            revision++;
            if (pod.NodeName is null)
            {
                pods.Remove(pod); // nothing runs yet, so nothing to terminate
            }
            else
            {
                pod.DeletionRequestedAt = clock.GetUtcNow();
            }

            // A controller-owned pod is replaced at once, unbound, as its ReplicaSet would recreate it.
            if (pod.OwnerKind is not null and not "DaemonSet")
            {
                pods.Add(new TestPod
                {
                    Namespace = pod.Namespace, Name = pod.Name + "-r", OwnerKind = pod.OwnerKind, OwnerName = pod.OwnerName,
                    Labels = pod.Labels, Annotations = pod.Annotations, CpuMillis = pod.CpuMillis, MemoryBytes = pod.MemoryBytes,
                    CpuUsageMillis = pod.CpuUsageMillis, Phase = "Pending",
                    TerminationGracePeriodSeconds = pod.TerminationGracePeriodSeconds, ExitAfter = pod.ExitAfter,
                });
            }

            return (201, "");
        }
    }
}
