namespace NodeFleet.Testbed;

public sealed class TestNode
{
    public required string Name { get; init; }
    public string? ProviderId { get; set; }
    public bool Ready { get; set; } = true;
    public bool Unschedulable { get; set; }
    public Dictionary<string, string> Labels { get; init; } = [];
    public List<(string Key, string Effect)> Taints { get; init; } = [];
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    public long CpuMillis { get; init; } = 2000;
    public long MemoryBytes { get; init; } = 8L * 1024 * 1024 * 1024;
    public int MaxPods { get; init; } = 110;
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

    public void Add(TestNode node) { lock (gate) { nodes.Add(node); } }

    public void Add(TestPod pod) { lock (gate) { pods.Add(pod); } }

    public void Add(TestBudget budget) { lock (gate) { budgets.Add(budget); } }

    public T Read<T>(Func<IReadOnlyList<TestNode>, IReadOnlyList<TestPod>, IReadOnlyList<TestBudget>, T> read)
    {
        lock (gate)
        {
            return read(nodes, pods, budgets);
        }
    }

    public TestNode? Node(string name) { lock (gate) { return nodes.FirstOrDefault(n => n.Name == name); } }

    /// <summary>Removes the node and the pods bound to it (their controllers' job is to recreate them).</summary>
    public bool RemoveNode(string name)
    {
        lock (gate)
        {
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

            pods.Remove(pod);
            return (201, "");
        }
    }
}
