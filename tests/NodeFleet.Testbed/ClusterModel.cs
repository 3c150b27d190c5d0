namespace NodeFleet.Testbed;

/// <summary>Every object of the model at one moment, read under its lock (<see cref="ClusterModel.Read{T}(Func{ClusterObjects, T})"/>).</summary>
public sealed class ClusterObjects
{
    internal ClusterObjects()
    {
    }

    public IReadOnlyList<TestNode> Nodes { get; internal init; } = [];
    public IReadOnlyList<TestPod> Pods { get; internal init; } = [];
    public IReadOnlyList<TestBudget> Budgets { get; internal init; } = [];
    public IReadOnlyList<TestVolume> Volumes { get; internal init; } = [];
    public IReadOnlyList<TestClaim> Claims { get; internal init; } = [];
    public IReadOnlyList<TestDaemonSet> DaemonSets { get; internal init; } = [];
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
/// <see cref="Schedule"/> plays the DaemonSet controller and kube-scheduler (<see cref="Scheduler"/>).
/// </summary>
public sealed class ClusterModel(TimeProvider? clock = null)
{
    /// <summary>The label the API gives every namespace.</summary>
    public const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    /// <summary>The Priority admission plugin's built-in classes.</summary>
    public static readonly IReadOnlyDictionary<string, int> PriorityClasses = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["system-node-critical"] = 2000001000,
        ["system-cluster-critical"] = 2000000000,
    };

    private readonly TimeProvider clock = clock ?? TimeProvider.System;
    private readonly Lock gate = new();
    private readonly List<KilledPod> killed = [];
    private readonly List<TestNode> nodes = [];
    private readonly List<TestPod> pods = [];
    private readonly List<TestBudget> budgets = [];
    private readonly List<TestVolume> volumes = [];
    private readonly List<TestClaim> claims = [];
    private readonly List<TestDaemonSet> daemonSets = [];
    private readonly Dictionary<string, Dictionary<string, string>> namespaceLabels = new(StringComparer.Ordinal);
    private long revision = 1;

    /// <summary>Counts the changes made through the model, as etcd's revision does; the API's resourceVersion.</summary>
    public long Revision { get { lock (gate) { return revision; } } }

    public TimeProvider Clock => clock;

    /// <summary>Registers the node as its kubelet does: with <c>kubernetes.io/hostname</c>, <c>os</c> and <c>arch</c> labels unless given.</summary>
    public void Add(TestNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        node.Labels.TryAdd(TestNode.HostnameLabel, node.Name);
        node.Labels.TryAdd("kubernetes.io/os", "linux");
        node.Labels.TryAdd("kubernetes.io/arch", "amd64");
        lock (gate) { nodes.Add(node); revision++; }
    }

    /// <summary>Adds the pod as given (a name already taken is not checked: <see cref="Create"/> does, as the API does).</summary>
    public void Add(TestPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        _ = pod.Spec; // a spec given twice fails here, not later in the scheduler
        lock (gate) { pods.Add(pod); revision++; }
    }

    /// <summary>Creates the pod unless its name is taken in its namespace; false when it is (the API's 409).</summary>
    public bool Create(TestPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        _ = pod.Spec;
        lock (gate)
        {
            if (pods.Any(p => p.Namespace == pod.Namespace && p.Name == pod.Name))
            {
                return false;
            }

            pods.Add(pod);
            revision++;
            return true;
        }
    }

    /// <summary>
    /// <paramref name="count"/> Pending pods of one controller (a Deployment's ReplicaSet), named
    /// <c>owner-0</c>, <c>owner-1</c>…, sharing <paramref name="spec"/> and <paramref name="labels"/>.
    /// </summary>
    public IReadOnlyList<TestPod> AddReplicas(string ns, string owner, int count, PodSpec spec, IReadOnlyDictionary<string, string>? labels = null)
    {
        var created = Enumerable.Range(0, count).Select(i => new TestPod
        {
            Namespace = ns, Name = $"{owner}-{i}", OwnerKind = "ReplicaSet", OwnerName = owner, Phase = "Pending", Spec = spec,
            Labels = new Dictionary<string, string>(labels ?? new Dictionary<string, string>(), StringComparer.Ordinal),
        }).ToList();
        created.ForEach(p => _ = p.Spec);
        lock (gate) { pods.AddRange(created); revision++; }
        return created;
    }

    public void Add(TestBudget budget) { lock (gate) { budgets.Add(budget); revision++; } }

    public void Add(TestVolume volume) { lock (gate) { volumes.Add(volume); revision++; } }

    public void Add(TestClaim claim) { lock (gate) { claims.Add(claim); revision++; } }

    /// <summary>Its pods appear on the nodes it selects at the next <see cref="Schedule"/>, as the DaemonSet controller creates them.</summary>
    public void Add(TestDaemonSet daemonSet)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        _ = daemonSet.Spec.Requests();
        lock (gate) { daemonSets.Add(daemonSet); revision++; }
    }

    /// <summary>A namespace's labels (for namespaceSelector); every namespace carries <see cref="NamespaceNameLabel"/>.</summary>
    public void SetNamespaceLabels(string ns, IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        lock (gate)
        {
            namespaceLabels[ns] = new Dictionary<string, string>(labels, StringComparer.Ordinal) { [NamespaceNameLabel] = ns };
            revision++;
        }
    }

    public bool RemoveBudget(string ns, string name) { lock (gate) { revision++; return budgets.RemoveAll(b => b.Namespace == ns && b.Name == name) > 0; } }

    public T Read<T>(Func<IReadOnlyList<TestNode>, IReadOnlyList<TestPod>, IReadOnlyList<TestBudget>, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        lock (gate)
        {
            ReapExited();
            return read(nodes, pods, budgets);
        }
    }

    /// <summary>Every kind of object at once.</summary>
    public T Read<T>(Func<ClusterObjects, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        lock (gate)
        {
            ReapExited();
            return read(new ClusterObjects { Nodes = nodes, Pods = pods, Budgets = budgets, Volumes = volumes, Claims = claims, DaemonSets = daemonSets });
        }
    }

    /// <summary>A namespace's labels. Every namespace exists in the model: a pod may be created in any.</summary>
    public IReadOnlyDictionary<string, string> LabelsOf(string ns) { lock (gate) { return new Dictionary<string, string>(NamespaceLabels(ns), StringComparer.Ordinal); } }

    private IReadOnlyDictionary<string, string> NamespaceLabels(string ns) =>
        namespaceLabels.TryGetValue(ns, out var labels) ? labels : new Dictionary<string, string> { [NamespaceNameLabel] = ns };

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
    /// One round of the controllers and the scheduler: the DaemonSet controller creates the pods of
    /// each DaemonSet on the nodes it selects (and deletes those on nodes it no longer may run on),
    /// then every pod without a node, highest priority first and otherwise oldest first, goes to the
    /// first node that passes the scheduler's filters (<see cref="Scheduler"/>). A pod that fits
    /// nowhere stays Pending with condition PodScheduled=False, reason Unschedulable and the
    /// scheduler's message, until a later round finds it a node.
    /// </summary>
    public void Schedule()
    {
        lock (gate)
        {
            ReapExited();
            SyncDaemonSets();
            var waiting = pods.Where(p => p.NodeName is null && p.Active && p.DeletionRequestedAt is null)
                .OrderByDescending(p => p.Spec.Priority ?? 0)
                .ToList();
            if (waiting.Count == 0)
            {
                return;
            }

            var scheduler = new Scheduler(nodes, pods, claims, volumes, NamespaceLabels);
            var now = clock.GetUtcNow();
            foreach (var pod in waiting)
            {
                var node = scheduler.Place(pod, out var message);
                if (node is not null)
                {
                    scheduler.Bind(pod, node);
                    pod.NodeName = node;
                    pod.Phase = "Running";
                    (pod.Unschedulable, pod.UnschedulableMessage, pod.ScheduledConditionAt) = (false, null, now);
                    revision++;
                }
                else if (!pod.Unschedulable || pod.UnschedulableMessage != message)
                {
                    // The condition is written when it changes; its lastTransitionTime moves only with its status.
                    if (!pod.Unschedulable)
                    {
                        pod.ScheduledConditionAt = now;
                    }

                    (pod.Unschedulable, pod.UnschedulableMessage) = (true, message);
                    revision++;
                }
            }
        }
    }

    /// <summary>
    /// The DaemonSet controller: a DaemonSet's pod should run on a node its template's node selector
    /// and required node affinity match and whose NoSchedule and NoExecute taints its tolerations
    /// (with the controller's own, below) tolerate; it may keep running while only NoExecute taints
    /// are tolerated. Each pod is pinned to its node by node affinity on <c>metadata.name</c>. Under the gate.
    /// </summary>
    private void SyncDaemonSets()
    {
        foreach (var daemonSet in daemonSets)
        {
            foreach (var node in nodes)
            {
                var name = $"{daemonSet.Name}-{node.Name}";
                var pod = pods.FirstOrDefault(p => p.Namespace == daemonSet.Namespace && p.Name == name);
                var spec = DaemonSetPodSpec(daemonSet.Spec, node.Name);
                if (pod is null && ShouldRun(daemonSet, node))
                {
                    pods.Add(new TestPod
                    {
                        Namespace = daemonSet.Namespace, Name = name, OwnerKind = "DaemonSet", OwnerName = daemonSet.Name, Phase = "Pending",
                        Labels = new Dictionary<string, string>(daemonSet.Labels, StringComparer.Ordinal), Spec = spec, Created = clock.GetUtcNow(),
                    });
                    revision++;
                }
                else if (pod is not null && pod.DeletionRequestedAt is null
                    && (!Scheduler.MatchesNodeSelector(node, daemonSet.Spec) || Scheduler.Untolerated(node, spec.Tolerations!, "NoExecute") is not null))
                {
                    revision++;
                    if (pod.NodeName is null)
                    {
                        pods.Remove(pod);
                    }
                    else
                    {
                        pod.DeletionRequestedAt = clock.GetUtcNow();
                    }
                }
            }
        }
    }

    /// <summary>Whether the DaemonSet controller puts a pod of <paramref name="daemonSet"/> on <paramref name="node"/> (its desiredNumberScheduled counts these nodes).</summary>
    public static bool ShouldRun(TestDaemonSet daemonSet, TestNode node)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        ArgumentNullException.ThrowIfNull(node);
        return Scheduler.MatchesNodeSelector(node, daemonSet.Spec)
            && Scheduler.Untolerated(node, DaemonSetPodSpec(daemonSet.Spec, node.Name).Tolerations!, "NoSchedule", "NoExecute") is null;
    }

    /// <summary>
    /// The pod the DaemonSet controller creates for <paramref name="node"/>: the template with its
    /// priority class resolved, its required node affinity replaced by <c>metadata.name In [node]</c> and the tolerations every
    /// DaemonSet pod gets (not-ready and unreachable NoExecute; disk, memory and PID pressure and
    /// unschedulable NoSchedule).
    /// </summary>
    public static PodSpec DaemonSetPodSpec(PodSpec template, string node)
    {
        ArgumentNullException.ThrowIfNull(template);
        TolerationSpec[] defaults =
        [
            new() { Key = "node.kubernetes.io/not-ready", Operator = "Exists", Effect = "NoExecute" },
            new() { Key = "node.kubernetes.io/unreachable", Operator = "Exists", Effect = "NoExecute" },
            new() { Key = "node.kubernetes.io/disk-pressure", Operator = "Exists", Effect = "NoSchedule" },
            new() { Key = "node.kubernetes.io/memory-pressure", Operator = "Exists", Effect = "NoSchedule" },
            new() { Key = "node.kubernetes.io/pid-pressure", Operator = "Exists", Effect = "NoSchedule" },
            new() { Key = "node.kubernetes.io/unschedulable", Operator = "Exists", Effect = "NoSchedule" },
        ];
        var tolerations = (template.Tolerations ?? []).ToList();
        tolerations.AddRange(defaults.Where(d => !tolerations.Any(t => t.Key == d.Key && t.Effect == d.Effect)));
        var affinity = template.Affinity ?? new AffinitySpec();
        var pinned = new NodeSelectorSpec
        {
            NodeSelectorTerms = [new NodeSelectorTermSpec { MatchFields = [new NodeRequirementSpec { Key = "metadata.name", Operator = "In", Values = [node] }] }],
        };
        return template with
        {
            // The pods are created through the API, whose Priority admission resolves the class.
            Priority = template.PriorityClassName is { } name && PriorityClasses.TryGetValue(name, out var priority) ? priority : template.Priority,
            Tolerations = tolerations,
            Affinity = affinity with { NodeAffinity = (affinity.NodeAffinity ?? new NodeAffinitySpec()) with { RequiredDuringSchedulingIgnoredDuringExecution = pinned } },
        };
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
                    Labels = pod.Labels, Annotations = pod.Annotations, Spec = pod.Spec,
                    CpuUsageMillis = pod.CpuUsageMillis, MemoryUsageBytes = pod.MemoryUsageBytes, Phase = "Pending", ExitAfter = pod.ExitAfter, Created = clock.GetUtcNow(),
                });
            }

            return (201, "");
        }
    }
}
