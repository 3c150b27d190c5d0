using System.Globalization;
using System.Text.Json;
using NodeFleet.Aws;
using NodeFleet.Aws.Ec2;
using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>
/// The testbed's kubelets: instances launched (in moto_server) in a zone become nodes labelled as
/// scripts/worker-user-data.sh and the kubelet label them, with the launch template's user labels
/// and taints, which the API serves and the scheduler honours.
/// </summary>
public sealed class InstanceNodesTests : IAsyncLifetime
{
    private readonly ClusterModel cluster = new();
    private ServerProcess moto = null!;
    private Uri motoUrl = null!;

    public async Task InitializeAsync()
    {
        var port = Loopback.FreePort();
        motoUrl = new Uri($"http://127.0.0.1:{port}/");
        moto = await ServerProcess.StartAsync("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture)], new Uri(motoUrl, "moto-api/"), TimeSpan.FromSeconds(30));
    }

    public Task DisposeAsync()
    {
        moto.Dispose();
        return Task.CompletedTask;
    }

    private JsonElement Aws(params string[] args) => JsonDocument.Parse(Tool.Run("aws", [.. args, "--endpoint-url", motoUrl.ToString().TrimEnd('/'), "--region", "us-east-1", "--output", "json"],
        new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "test", ["AWS_SECRET_ACCESS_KEY"] = "test", ["AWS_PAGER"] = "" })).RootElement.Clone();

    private string Launch(string subnet, string instanceType, bool spot = false) =>
        Aws([
            "ec2", "run-instances", "--image-id", "ami-12c6146b", "--instance-type", instanceType, "--subnet-id", subnet, "--count", "1",
            "--tag-specifications", "ResourceType=instance,Tags=[{Key=nodefleet.io/managed,Value=true},{Key=nodefleet.io/cluster,Value=c1}]",
            .. spot ? new[] { "--instance-market-options", "MarketType=spot" } : [],
        ]).GetProperty("Instances")[0].GetProperty("InstanceId").GetString()!;

    [Fact]
    public async Task Sync_InstancesInAZone_BecomeNodesWithTheWorkersLabelsAndTaints()
    {
        var vpc = Aws("ec2", "create-vpc", "--cidr-block", "10.60.0.0/16").GetProperty("Vpc").GetProperty("VpcId").GetString()!;
        var subnet = Aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.60.2.0/24", "--availability-zone", "us-east-1b").GetProperty("Subnet").GetProperty("SubnetId").GetString()!;
        var intel = Launch(subnet, "t3.large");
        var graviton = Launch(subnet, "m6g.large", spot: true);
        var endpoint = new AwsEndpoint(Amazon.RegionEndpoint.USEast1, motoUrl, new Amazon.Runtime.BasicAWSCredentials("test", "test"), AwsEndpoint.AttemptTimeout);
        var taint = new TestTaint("dedicated", "NoSchedule") { Value = "web" };
        await using var server = await KubeApiServer.StartAsync(cluster);
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"kubeconfig-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(kubeconfig, server.Kubeconfig());

        await using (var kubelets = new InstanceNodes(Ec2Api.Create(endpoint), cluster, "c1", TimeSpan.Zero, TimeSpan.FromMilliseconds(50),
            new Dictionary<string, string> { ["pool"] = "general" }, [taint]))
        {
            for (var deadline = DateTime.UtcNow.AddSeconds(30); cluster.Read((nodes, _, _) => nodes.Count) < 2 && DateTime.UtcNow < deadline;)
            {
                await Task.Delay(50);
            }

            Assert.Null(kubelets.LastError);
        }

        var nodes = cluster.Read((all, _, _) => all.ToDictionary(n => n.ProviderId!));
        var amd64 = nodes[$"aws:///us-east-1b/{intel}"];
        var arm64 = nodes[$"aws:///us-east-1b/{graviton}"];
        var served = JsonDocument.Parse(Tool.Run("kubectl", ["--kubeconfig", kubeconfig, "get", "node", amd64.Name, "-o", "json"])).RootElement;
        File.Delete(kubeconfig);
        cluster.Add(new TestPod { Namespace = "shop", Name = "web", Phase = "Pending", Spec = PodSpec.Parse("""
            {"containers":[{"name":"a","image":"a"}],"nodeSelector":{"pool":"general","kubernetes.io/arch":"arm64"},
             "tolerations":[{"key":"dedicated","operator":"Equal","value":"web","effect":"NoSchedule"}]}
            """) });
        cluster.Add(new TestPod { Namespace = "shop", Name = "intolerant", Phase = "Pending", CpuMillis = 100 });
        cluster.Schedule();
        var pods = cluster.Read((_, all, _) => all.ToDictionary(p => p.Name));

        Assert.Equal(new Dictionary<string, string>
        {
            ["pool"] = "general",
            ["nodefleet.io/managed"] = "true",
            ["nodefleet.io/cluster"] = "c1",
            ["nodefleet.io/capacity-type"] = "on-demand",
            ["topology.kubernetes.io/zone"] = "us-east-1b",
            ["node.kubernetes.io/instance-type"] = "t3.large",
            ["kubernetes.io/hostname"] = amd64.Name,
            ["kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = "amd64",
        }, amd64.Labels);
        Assert.Equal(("arm64", "spot", "m6g.large"), (arm64.Labels["kubernetes.io/arch"], arm64.Labels["nodefleet.io/capacity-type"], arm64.Labels["node.kubernetes.io/instance-type"]));
        Assert.Equal([taint], amd64.Taints);
        var servedTaint = served.GetProperty("spec").GetProperty("taints")[0];
        Assert.Equal(("dedicated", "web", "NoSchedule"), (servedTaint.GetProperty("key").GetString(), servedTaint.GetProperty("value").GetString(), servedTaint.GetProperty("effect").GetString()));
        Assert.Equal("general", served.GetProperty("metadata").GetProperty("labels").GetProperty("pool").GetString());
        Assert.Equal(arm64.Name, pods["web"].NodeName);
        Assert.Equal("0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: web}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
            pods["intolerant"].UnschedulableMessage);
    }
}
