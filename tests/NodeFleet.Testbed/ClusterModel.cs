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
/// maxUnavailable minus the unhealthy), cordoning sets <c>spec.unschedulable</c>.
/// </summary>
public sealed class ClusterModel
{
    private readonly Lock gate = new();
    private readonly List<TestNode> nodes = [];
    private readonly List<TestPod> pods = [];
    private readonly List<TestBudget> budgets = [];
    private long revision = 1;

    /// <summary>Counts the changes made through the model, as etcd's revision does; the API's resourceVersion.</summary>
    public long Revision { get { lock (gate) { return revision; } } }

    public void Add(TestNode node) { lock (gate) { nodes.Add(node); revision++; } }

    public void Add(TestPod pod) { lock (gate) { pods.Add(pod); revision++; } }

    public void Add(TestBudget budget) { lock (gate) { budgets.Add(budget); revision++; } }

    public T Read<T>(Func<IReadOnlyList<TestNode>, IReadOnlyList<TestPod>, IReadOnlyList<TestBudget>, T> read)
    {
        lock (gate)
        {
            return read(nodes, pods, budgets);
        }
    }

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

    /// <summary>Called after a node is cordoned through the API: lets a scenario change the cluster mid-drain.</summary>
    public Action<TestNode>? Cordoned { get; set; }

    /// <summary>Cordons or uncordons (<c>spec.unschedulable</c>); null when the node does not exist.</summary>
    public TestNode? SetUnschedulable(string name, bool unschedulable)
    {
        TestNode? node;
        lock (gate)
        {
            node = nodes.FirstOrDefault(n => n.Name == name);
            if (node is null)
            {
                return null;
            }

            node.Unschedulable = unschedulable;
            revision++;
        }

        if (unschedulable)
        {
            Cordoned?.Invoke(node);
        }

        return node;
    }

    /// <summary>Removes the node and the pods bound to it (their controllers' job is to recreate them).</summary>
    public bool RemoveNode(string name)
    {
        lock (gate)
        {
            revision++;
            pods.RemoveAll(p => p.NodeName == name);
            return nodes.RemoveAll(n => n.Name == name) > 0;
        }
    }

    public int DisruptionsAllowed(TestBudget budget)
    {
        lock (gate)
        {
            var selected = pods.Where(p => Selects(budget, p)).ToList();
            var healthy = selected.Count(p => p.Phase == "Running" && p.NodeName is not null);
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

    public static bool Selects(TestBudget budget, TestPod pod) =>
        pod.Namespace == budget.Namespace && budget.MatchLabels.All(m => pod.Labels.TryGetValue(m.Key, out var v) && v == m.Value);

    /// <summary>Evicts like the Eviction subresource: 404 when gone, 429 naming the budget when it allows no disruption.</summary>
    public (int Status, string Message) Evict(string ns, string name)
    {
        lock (gate)
        {
            var pod = pods.FirstOrDefault(p => p.Namespace == ns && p.Name == name);
            if (pod is null)
            {
                return (404, $"pods \"{name}\" not found");
            }

            var blocking = budgets.Where(b => Selects(b, pod)).FirstOrDefault(b => DisruptionsAllowed(b) < 1);
            if (blocking is not null)
            {
                var healthy = pods.Count(p => Selects(blocking, p) && p.Phase == "Running" && p.NodeName is not null);
                return (429, $"The disruption budget {blocking.Name} needs {blocking.MinAvailable ?? healthy} healthy pods and has {healthy} currently");
            }

            // A controller-owned pod comes back unbound, as its ReplicaSet would recreate it.
            revision++;
            pods.Remove(pod);
            if (pod.OwnerKind is not null and not "DaemonSet")
            {
                pods.Add(new TestPod
                {
                    Namespace = pod.Namespace, Name = pod.Name + "-r", OwnerKind = pod.OwnerKind, OwnerName = pod.OwnerName,
                    Labels = pod.Labels, Annotations = pod.Annotations, CpuMillis = pod.CpuMillis, MemoryBytes = pod.MemoryBytes,
                    CpuUsageMillis = pod.CpuUsageMillis, Phase = "Pending",
                });
            }

            return (201, "");
        }
    }
}
