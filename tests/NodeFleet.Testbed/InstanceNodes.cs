using NodeFleet.Aws.Ec2;
using NodeFleet.Core.Ports;

namespace NodeFleet.Testbed;

/// <summary>
/// Plays the kubelet of every worker: a running instance tagged for the cluster becomes a Ready
/// node (provider id, labels, allocatable from its type) once it has been running for
/// <see cref="BootDelay"/>. As in K3s without a cloud controller, a node whose instance is gone
/// stays, NotReady, until someone deletes the Node object (then its pods go with it).
/// <see cref="Joining"/> set to false keeps new instances from ever joining;
/// <see cref="RegisterNeverReady"/> makes them register a node that never becomes Ready (a kubelet whose CNI never comes up).
/// </summary>
public sealed class InstanceNodes : IAsyncDisposable
{
    private static readonly Dictionary<string, (long Cpu, long Memory)> Shapes = new(StringComparer.Ordinal)
    {
        ["t3.large"] = (2000, 8L << 30),
        ["t3a.large"] = (2000, 8L << 30),
        ["m5.large"] = (2000, 8L << 30),
        ["t3.xlarge"] = (4000, 16L << 30),
    };

    private readonly IEc2Api ec2;
    private readonly ClusterModel cluster;
    private readonly string clusterName;
    private readonly Dictionary<string, DateTimeOffset> firstSeen = [];
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public InstanceNodes(IEc2Api ec2, ClusterModel cluster, string clusterName, TimeSpan bootDelay, TimeSpan interval)
    {
        this.ec2 = ec2;
        this.cluster = cluster;
        this.clusterName = clusterName;
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
                cluster.Add(new TestNode
                {
                    Ready = !RegisterNeverReady,
                    Name = "ip-" + instance.InstanceId[2..],
                    ProviderId = providerId,
                    CpuMillis = cpu,
                    MemoryBytes = memory,
                    Labels =
                    {
                        ["nodefleet.io/managed"] = "true",
                        ["nodefleet.io/cluster"] = clusterName,
                        ["nodefleet.io/capacity-type"] = instance.Spot ? "spot" : "on-demand",
                        ["topology.kubernetes.io/zone"] = instance.Zone,
                        ["node.kubernetes.io/instance-type"] = instance.InstanceType,
                    },
                });
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
