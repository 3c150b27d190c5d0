namespace NodeFleet.Testbed;

/// <summary>A node taint; <see cref="Effect"/> is NoSchedule, PreferNoSchedule or NoExecute.</summary>
public sealed record TestTaint(string Key, string Effect)
{
    public string? Value { get; init; }

    /// <summary>kubectl's form: <c>key=value:Effect</c>, or <c>key:Effect</c> without a value.</summary>
    public override string ToString() => Value is null ? $"{Key}:{Effect}" : $"{Key}={Value}:{Effect}";
}

public sealed class TestNode
{
    public const string HostnameLabel = "kubernetes.io/hostname";
    public const string ZoneLabel = "topology.kubernetes.io/zone";

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

    /// <summary>metadata.labels; <see cref="ClusterModel.Add(TestNode)"/> adds the kubelet's own (hostname, os, arch) when absent.</summary>
    public Dictionary<string, string> Labels { get; init; } = [];
    public List<TestTaint> Taints { get; init; } = [];

    /// <summary>metadata.annotations; a merge patch sets and (with null) removes them.</summary>
    public Dictionary<string, string> Annotations { get; init; } = [];
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    public long CpuMillis { get; init; } = 2000;
    public long MemoryBytes { get; init; } = 8L * 1024 * 1024 * 1024;
    public int MaxPods { get; init; } = 110;

    /// <summary>K3s' server node as the scenarios use it: control-plane role, NoSchedule taint (master-user-data.sh's), no instance id.</summary>
    public static TestNode ControlPlane(DateTimeOffset? created = null) => new()
    {
        Name = "master", ProviderId = "k3s://master", Created = created ?? DateTimeOffset.UtcNow,
        Labels = { ["node-role.kubernetes.io/control-plane"] = "true" },
        Taints = { new TestTaint("node-role.kubernetes.io/control-plane", "NoSchedule") { Value = "true" } },
    };
}

/// <summary>
/// A pod. Its spec is <see cref="Spec"/>, in Kubernetes' shape; a test that only cares about size
/// leaves it out and gives <see cref="CpuMillis"/> and <see cref="MemoryBytes"/> (one container
/// "app" requesting them, 100m and 128 MiB by default), <see cref="EmptyDir"/> and
/// <see cref="TerminationGracePeriodSeconds"/> instead. Read back, <see cref="CpuMillis"/> and
/// <see cref="MemoryBytes"/> are the requests as the scheduler counts them (init containers,
/// sidecars, overhead).
/// </summary>
public sealed class TestPod
{
    private readonly PodSpec? given;
    private readonly long? cpu;
    private readonly long? memory;
    private readonly bool emptyDir;
    private readonly long? grace;
    private PodSpec? spec;
    private (long CpuMillis, long MemoryBytes)? requests;

    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public string? NodeName { get; set; }
    public string Phase { get; set; } = "Running";
    public string? OwnerKind { get; init; } = "ReplicaSet";
    public string? OwnerName { get; init; } = "app";
    public Dictionary<string, string> Labels { get; init; } = [];
    public Dictionary<string, string> Annotations { get; init; } = [];

    /// <summary>metadata.creationTimestamp.</summary>
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The spec as the API serves it (without spec.nodeName, which is <see cref="NodeName"/>).</summary>
    public PodSpec Spec
    {
        get => spec ??= Build();
        init => given = value;
    }

    public long CpuMillis { get => Requests.CpuMillis; init => cpu = value; }
    public long MemoryBytes { get => Requests.MemoryBytes; init => memory = value; }

    /// <summary>An emptyDir volume (local storage a drain loses).</summary>
    public bool EmptyDir { get => Spec.Volumes?.Any(v => v.EmptyDir is not null) == true; init => emptyDir = value; }

    /// <summary>spec.terminationGracePeriodSeconds: how long the kubelet waits after SIGTERM before it kills the pod.</summary>
    public long TerminationGracePeriodSeconds { get => Spec.TerminationGracePeriodSeconds ?? 30; init => grace = value; }

    /// <summary>CPU the pod actually burns, in millicores (the load model).</summary>
    public long CpuUsageMillis { get; set; }

    /// <summary>Memory the pod uses (cAdvisor's working set) while it runs; what it requests unless set.</summary>
    public long? MemoryUsageBytes { get; set; }

    /// <summary>What <see cref="MemoryUsageBytes"/> comes to.</summary>
    public long MemoryInUse => MemoryUsageBytes ?? MemoryBytes;

    /// <summary>True while the scheduler finds no node for the pod (condition PodScheduled=False, reason Unschedulable).</summary>
    public bool Unschedulable { get; internal set; }

    /// <summary>The scheduler's words for why, as the PodScheduled condition's message carries them; null once scheduled.</summary>
    public string? UnschedulableMessage { get; internal set; }

    /// <summary>When the PodScheduled condition last changed (its lastTransitionTime); null before the scheduler looked at the pod.</summary>
    public DateTimeOffset? ScheduledConditionAt { get; internal set; }

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

    /// <summary>Pending or Running: it holds its node's resources (or waits for a node).</summary>
    public bool Active => Phase is "Pending" or "Running";

    private (long CpuMillis, long MemoryBytes) Requests => requests ??= Spec.Requests();

    private PodSpec Build()
    {
        var given = this.given ?? new PodSpec();
        if (given.Containers.Count > 0 && (cpu is not null || memory is not null))
        {
            throw new ArgumentException($"pod {Namespace}/{Name}: give its requests in Spec.Containers or as CpuMillis/MemoryBytes, not both");
        }

        if (given.TerminationGracePeriodSeconds is { } inSpec && grace is { } shorthand && inSpec != shorthand)
        {
            throw new ArgumentException($"pod {Namespace}/{Name}: its grace period is {inSpec} s in Spec and {shorthand} s in TerminationGracePeriodSeconds");
        }

        var volumes = emptyDir
            ? [.. given.Volumes ?? [], new VolumeSpec { Name = "scratch", EmptyDir = System.Text.Json.JsonSerializer.SerializeToElement(new Dictionary<string, string>()) }]
            : given.Volumes;
        return given with
        {
            Containers = given.Containers.Count > 0 ? given.Containers : [PodSpec.Container(cpu ?? 100, memory ?? 128L << 20)],
            Volumes = volumes,
            // The API defaults it on create.
            TerminationGracePeriodSeconds = given.TerminationGracePeriodSeconds ?? grace ?? 30,
        };
    }
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
/// A PersistentVolume. <see cref="NodeAffinity"/> is spec.nodeAffinity.required's terms: the nodes
/// that can reach it (a zonal EBS volume: <see cref="InZone"/>); null for a volume every node reaches.
/// </summary>
public sealed class TestVolume
{
    public required string Name { get; init; }
    public Quantity Capacity { get; init; } = new("10Gi");
    public string StorageClassName { get; init; } = "gp3";
    public IReadOnlyList<NodeSelectorTermSpec>? NodeAffinity { get; init; }
    public Dictionary<string, string> Labels { get; init; } = [];

    /// <summary>An EBS volume: reachable only from nodes in <paramref name="zone"/>.</summary>
    public static TestVolume InZone(string name, string zone) => new()
    {
        Name = name,
        NodeAffinity = [new NodeSelectorTermSpec { MatchExpressions = [new NodeRequirementSpec { Key = TestNode.ZoneLabel, Operator = "In", Values = [zone] }] }],
    };
}

/// <summary>A PersistentVolumeClaim; <see cref="VolumeName"/> (spec.volumeName) binds it, null while it is unbound.</summary>
public sealed class TestClaim
{
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public string? VolumeName { get; init; }
    public Quantity Request { get; init; } = new("10Gi");
    public string StorageClassName { get; init; } = "gp3";
    public Dictionary<string, string> Labels { get; init; } = [];
}

/// <summary>
/// A DaemonSet: the model runs one pod of its template (<see cref="Labels"/>, <see cref="Spec"/>) on
/// every node the template's node selector, required node affinity and tolerations admit, as the
/// DaemonSet controller does (<see cref="ClusterModel.Schedule"/>).
/// </summary>
public sealed class TestDaemonSet
{
    public required string Namespace { get; init; }
    public required string Name { get; init; }

    /// <summary>The pod template's labels, which are also the DaemonSet's selector.</summary>
    public Dictionary<string, string> Labels { get; init; } = [];

    public required PodSpec Spec { get; init; }
}
