using NodeFleet.Aws.Ec2;
using NodeFleet.Core.Ports;

namespace NodeFleet.Testbed;

/// <summary>
/// Plays the kubelet of every worker: a running instance tagged for the cluster becomes a Ready
/// node (provider id, allocatable from its type) once it has been running for
/// <see cref="BootDelay"/>, labelled as scripts/worker-user-data.sh and the kubelet label it
/// (<see cref="WorkerLabels"/>) and carrying the launch template's user labels and taints. As in K3s without a cloud controller, a node whose instance is gone
/// stays, NotReady, until someone deletes the Node object (then its pods go with it).
/// <see cref="Joining"/> set to false keeps new instances from ever joining;
/// <see cref="RegisterNeverReady"/> makes them register a node that never becomes Ready (a kubelet whose CNI never comes up).
/// </summary>
public sealed partial class InstanceNodes : IAsyncDisposable
{
    private static readonly Dictionary<string, (long Cpu, long Memory)> Shapes = new(StringComparer.Ordinal)
    {
        ["t3.large"] = (2000, 8L << 30),
        ["t3a.large"] = (2000, 8L << 30),
        ["m5.large"] = (2000, 8L << 30),
        ["t3.xlarge"] = (4000, 16L << 30),
        ["t4g.large"] = (2000, 8L << 30),
        ["m6g.large"] = (2000, 8L << 30),
    };

    private readonly IEc2Api ec2;
    private readonly ClusterModel cluster;
    private readonly string clusterName;
    private readonly IReadOnlyDictionary<string, string> userLabels;
    private readonly IReadOnlyList<TestTaint> userTaints;
    private readonly Dictionary<string, DateTimeOffset> firstSeen = [];
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    /// <param name="labels">The launch template's user labels (NODEFLEET_WORKER_LABELS).</param>
    /// <param name="taints">The launch template's taints (NODEFLEET_WORKER_TAINTS).</param>
    public InstanceNodes(IEc2Api ec2, ClusterModel cluster, string clusterName, TimeSpan bootDelay, TimeSpan interval,
        IReadOnlyDictionary<string, string>? labels = null, IReadOnlyList<TestTaint>? taints = null)
    {
        this.ec2 = ec2;
        this.cluster = cluster;
        this.clusterName = clusterName;
        userLabels = labels ?? new Dictionary<string, string>();
        userTaints = taints ?? [];
        BootDelay = bootDelay;
        loop = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await SyncAsync(stop.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LastError = e;
                }

                await Task.Delay(interval, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });
    }

    public bool Joining { get; set; } = true;

    /// <summary>New instances register their node, but its Ready condition stays False.</summary>
    public bool RegisterNeverReady { get; set; }

    /// <summary>How long an instance runs before its node joins (a slow boot holds a scale-up's lease longer).</summary>
    public TimeSpan BootDelay { get; set; }

    public Exception? LastError { get; private set; }

    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var instances = await ec2.DescribeInstancesAsync([new Ec2Filter($"tag:{FleetTags.Cluster}", clusterName), new Ec2Filter($"tag:{FleetTags.Managed}", "true")], [], cancellationToken);
        var now = DateTimeOffset.UtcNow;
        var alive = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            var providerId = ProviderId.For(instance.Zone, instance.InstanceId);
            if (instance.State is not ("pending" or "running"))
            {
                continue;
            }

            alive.Add(providerId);
            if (!firstSeen.TryAdd(instance.InstanceId, now) && Joining && now - firstSeen[instance.InstanceId] >= BootDelay
                && cluster.Read((nodes, _, _) => nodes.All(n => n.ProviderId != providerId)))
            {
                var (cpu, memory) = Shapes.GetValueOrDefault(instance.InstanceType, (2000, 8L << 30));
                var name = "ip-" + instance.InstanceId[2..];
                var node = new TestNode
                {
                    Ready = !RegisterNeverReady,
                    Name = name,
                    ProviderId = providerId,
                    CpuMillis = cpu,
                    MemoryBytes = memory,
                    Taints = [.. userTaints],
                };
                foreach (var (key, value) in WorkerLabels(clusterName, name, instance.Zone, instance.InstanceType, instance.Spot, userLabels))
                {
                    node.Labels[key] = value;
                }

                cluster.Add(node);
            }
        }

        // The kubelet of an instance that is gone stops posting: its node turns NotReady and stays.
        var gone = cluster.Read((nodes, _, _) => nodes
            .Where(n => n.ProviderId is { } p && p.StartsWith("aws:///", StringComparison.Ordinal) && n.Labels.GetValueOrDefault("nodefleet.io/cluster") == clusterName && !alive.Contains(p) && n.Ready)
            .Select(n => (n.Name, n.ProviderId!)).ToList());
        foreach (var (name, providerId) in gone)
        {
            cluster.MachineGone(name, $"its instance ({providerId}) stopped running");
        }
    }

    /// <summary>
    /// A worker's labels: the launch template's user labels, those scripts/worker-user-data.sh passes
    /// to k3s (managed, cluster, capacity type, zone, instance type) and the kubelet's own (hostname,
    /// os, arch, which follows the instance type: Graviton families are arm64).
    /// </summary>
    public static Dictionary<string, string> WorkerLabels(string clusterName, string nodeName, string zone, string instanceType, bool spot, IReadOnlyDictionary<string, string> userLabels)
    {
        ArgumentNullException.ThrowIfNull(instanceType);
        ArgumentNullException.ThrowIfNull(userLabels);
        var labels = new Dictionary<string, string>(userLabels, StringComparer.Ordinal)
        {
            ["nodefleet.io/managed"] = "true",
            ["nodefleet.io/cluster"] = clusterName,
            ["nodefleet.io/capacity-type"] = spot ? "spot" : "on-demand",
            [TestNode.ZoneLabel] = zone,
            ["node.kubernetes.io/instance-type"] = instanceType,
            [TestNode.HostnameLabel] = nodeName,
            ["kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = Graviton().IsMatch(instanceType) ? "arm64" : "amd64",
        };
        return labels;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(a1|[a-z]+[0-9]+[a-z]*g[a-z]*)\.")]
    private static partial System.Text.RegularExpressions.Regex Graviton();

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
            // A sync cut short by the stop: the expected way for the loop to end.
        }

        stop.Dispose();
    }
}
