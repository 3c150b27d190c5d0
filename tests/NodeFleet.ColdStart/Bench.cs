using NodeFleet.Testbed;

namespace NodeFleet.ColdStart;

/// <summary>
/// The loopback cloud and cluster every cold start talks to (tests/NodeFleet.Testbed's local
/// environment: moto_server, a real Prometheus scraping the emulated cluster, the emulated
/// Kubernetes API), holding one workload that every measured path starts from: two managed
/// workers running four web pods under a disruption budget, and two batch pods that fit on no
/// node, so each tick decides to launch two workers.
/// </summary>
internal sealed class Bench : IAsyncDisposable
{
    public const string Namespace = "coldstart";
    private readonly LocalEnvironment cloud = new() { StartHosts = false };
    private readonly List<string> workers = [];

    /// <summary>The worker each path drains (DrainNode Start): it holds two of the web pods.</summary>
    public string DrainedWorker => workers[0];

    public async Task StartAsync(IEnumerable<string> variants)
    {
        await cloud.StartAsync();
        cloud.Model.Add(TestNode.ControlPlane());
        cloud.Model.Add(new TestBudget { Namespace = Namespace, Name = "web", MatchLabels = new() { ["app"] = "web" }, MinAvailable = 2 });
        // Each variant keeps its own state table: the before-variant's items are not today's.
        foreach (var variant in variants)
        {
            cloud.Aws("dynamodb", "create-table", "--table-name", Table(variant), "--billing-mode", "PAY_PER_REQUEST",
                "--attribute-definitions", "AttributeName=pk,AttributeType=S", "--key-schema", "AttributeName=pk,KeyType=HASH");
        }

        // The two workers are EC2 instances of the cluster, as LaunchNodes would have made them; the testbed turns them into nodes.
        var zoneSubnet = cloud.StepEnvironment["NODEFLEET_WORKER_SUBNETS"].Split(',')[0].Split('=');
        var run = cloud.Aws("ec2", "run-instances", "--image-id", "ami-12c6146b", "--instance-type", "t3.large", "--count", "2", "--subnet-id", zoneSubnet[1],
            "--tag-specifications", $"ResourceType=instance,Tags=[{{Key=nodefleet.io/managed,Value=true}},{{Key=nodefleet.io/cluster,Value={LocalEnvironment.Cluster}}},{{Key=Name,Value={LocalEnvironment.Cluster}-worker}}]");
        var ids = run.GetProperty("Instances").EnumerateArray().Select(i => i.GetProperty("InstanceId").GetString()!).ToList();
        workers.AddRange(await WaitForNodesAsync(ids, TimeSpan.FromSeconds(30)));
    }

    public static string Table(string variant) => $"nodefleet-coldstart-{variant}";

    /// <summary>Every step's environment, as the stack would set it (loopback endpoints), with the variant's state table.</summary>
    public IReadOnlyDictionary<string, string> Environment(string variant) =>
        new Dictionary<string, string>(cloud.StepEnvironment) { ["NODEFLEET_STATE_TABLE"] = Table(variant) };

    /// <summary>
    /// Back to the starting workload, and waits until Prometheus reports it (what CollectMetrics
    /// reads): the nodes of the last path's launch gone, nothing cordoned, the pods as they were.
    /// </summary>
    public async Task ResetAsync(CancellationToken cancel)
    {
        await WaitAsync(() => cloud.Model.Read((nodes, _, _) => nodes.Count) == workers.Count + 1, "the last launch's nodes to leave", TimeSpan.FromSeconds(30), cancel);
        foreach (var worker in workers)
        {
            cloud.Model.SetUnschedulable(worker, false);
        }

        foreach (var pod in cloud.Model.Read((_, pods, _) => pods.Where(p => p.Namespace == Namespace).Select(p => p.Name).ToList()))
        {
            cloud.Model.RemovePod(Namespace, pod);
        }

        for (var i = 0; i < 4; i++)
        {
            cloud.Model.Add(new TestPod
            {
                Namespace = Namespace, Name = $"web-{i}", OwnerName = "web", NodeName = workers[i % 2], CpuMillis = 500, MemoryBytes = 512L << 20, CpuUsageMillis = 300,
                Labels = { ["app"] = "web" },
            });
        }

        for (var i = 0; i < 2; i++)
        {
            cloud.Model.Add(new TestPod { Namespace = Namespace, Name = $"batch-{i}", OwnerName = "batch", Phase = "Pending", CpuMillis = 1500, MemoryBytes = 1L << 30, CpuUsageMillis = 1200, Labels = { ["app"] = "batch" } });
        }

        var timeout = TimeSpan.FromSeconds(30);
        await cloud.WaitForAsync("count(kube_node_info)", workers.Count + 1, timeout);
        await cloud.WaitForAsync("sum(kube_node_spec_unschedulable)", 0, timeout);
        await cloud.WaitForAsync($"count(kube_pod_info{{namespace=\"{Namespace}\"}})", 6, timeout);
        await cloud.WaitForAsync($"sum(kube_pod_status_unschedulable{{namespace=\"{Namespace}\"}})", 2, timeout);
        await cloud.WaitUntilAsync($"count(rate(node_cpu_seconds_total{{mode=\"idle\",node=~\"{string.Join("|", workers)}\"}}[8s]))", v => v >= 2 * workers.Count, () => "every worker core", timeout);
    }

    /// <summary>What the Wait state waits for: the launched instances' nodes joined (names returned in the order of the ids).</summary>
    public async Task<List<string>> WaitForNodesAsync(IReadOnlyList<string> instanceIds, TimeSpan timeout, CancellationToken cancel = default)
    {
        List<string> Joined() => cloud.Model.Read((nodes, _, _) => instanceIds
            .Select(id => nodes.FirstOrDefault(n => n.Ready && n.ProviderId is { } p && p.EndsWith("/" + id, StringComparison.Ordinal))?.Name)
            .OfType<string>().ToList());
        await WaitAsync(() => Joined().Count == instanceIds.Count, $"{string.Join(", ", instanceIds)} to join", timeout, cancel);
        return Joined();
    }

    private static async Task WaitAsync(Func<bool> condition, string what, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds} s for {what}");
            }

            await Task.Delay(100, cancel);
        }
    }

    public ValueTask DisposeAsync() => cloud.DisposeAsync();
}
