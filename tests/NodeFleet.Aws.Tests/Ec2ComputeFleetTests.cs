using System.Text.Json;
using NodeFleet.Aws.Ec2;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;

namespace NodeFleet.Aws.Tests;

[Collection(MotoServerGroup.Name)]
public class Ec2ComputeFleetTests(MotoServer moto)
{
    private static string NewCluster() => "c" + Guid.NewGuid().ToString("N")[..10];

    private Ec2ComputeFleet Fleet(string cluster, double spotShare = 0.7, int pageSize = 500) =>
        new(new Ec2Api(moto.Endpoint.Ec2Client(), pageSize), moto.Fleet(cluster, spotShare));

    /// <summary>What the AWS CLI, an independent client, sees for a tag filter.</summary>
    private List<JsonElement> CliInstances(string tag, string value) =>
        moto.Cli("ec2", "describe-instances", "--filters", $"Name=tag:{tag},Values={value}", "Name=instance-state-name,Values=pending,running")
            .GetProperty("Reservations").EnumerateArray().SelectMany(r => r.GetProperty("Instances").EnumerateArray()).ToList();

    private static string Tag(JsonElement instance, string key) =>
        instance.GetProperty("Tags").EnumerateArray().Single(t => t.GetProperty("Key").GetString() == key).GetProperty("Value").GetString()!;

    [Fact]
    public async Task LaunchAsync_FiveWorkers_BalancedOverZonesAndTaggedAsOurs()
    {
        var cluster = NewCluster();

        var result = await Fleet(cluster).LaunchAsync(new LaunchRequest("launch-a", 5), default);

        Assert.Empty(result.Errors);
        var seen = CliInstances(FleetTags.LaunchId, "launch-a");
        Assert.Equal(result.Instances.Select(i => i.InstanceId).Order(), seen.Select(i => i.GetProperty("InstanceId").GetString()).Order());
        Assert.All(seen, i =>
        {
            Assert.Equal("true", Tag(i, FleetTags.Managed));
            Assert.Equal(cluster, Tag(i, FleetTags.Cluster));
            Assert.Equal($"{cluster}-worker", Tag(i, "Name"));
        });
        var byZone = seen.GroupBy(i => i.GetProperty("Placement").GetProperty("AvailabilityZone").GetString()).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(3, byZone["us-east-1a"]);
        Assert.Equal(2, byZone["us-east-1b"]);
    }

    [Fact]
    public async Task LaunchAsync_ZoneAlreadyHoldingWorkers_GetsTheNewOnesLast()
    {
        var cluster = NewCluster();
        var fleet = Fleet(cluster);
        await fleet.LaunchAsync(new LaunchRequest("launch-first", 1), default); // lands in us-east-1a

        var result = await fleet.LaunchAsync(new LaunchRequest("launch-second", 3), default);

        Assert.Equal(2, result.Instances.Count(i => i.Zone == "us-east-1b"));
        Assert.Equal(1, result.Instances.Count(i => i.Zone == "us-east-1a"));
    }

    [Fact]
    public async Task LaunchAsync_NodesPinnedToAZone_AllLandThere()
    {
        var cluster = NewCluster();

        var result = await Fleet(cluster).LaunchAsync(new LaunchRequest("launch-zone", 3) { Zones = new Dictionary<string, int> { ["us-east-1b"] = 3 } }, default);

        var seen = CliInstances(FleetTags.LaunchId, "launch-zone");
        Assert.Equal(3, seen.Count);
        Assert.All(seen, i => Assert.Equal("us-east-1b", i.GetProperty("Placement").GetProperty("AvailabilityZone").GetString()));
        Assert.All(result.Instances, i => Assert.Equal("us-east-1b", i.Zone));
    }

    [Theory]
    [InlineData(0.7, 10, 7)]
    [InlineData(0.0, 4, 0)]
    [InlineData(1.0, 4, 4)]
    public async Task LaunchAsync_SpotShare_SplitsSpotAndOnDemand(double share, int count, int expectedSpot)
    {
        var cluster = NewCluster();

        await Fleet(cluster, share).LaunchAsync(new LaunchRequest("launch-spot", count), default);

        var seen = CliInstances(FleetTags.Cluster, cluster);
        Assert.Equal(count, seen.Count);
        Assert.Equal(expectedSpot, seen.Count(i => i.TryGetProperty("InstanceLifecycle", out var l) && l.GetString() == "spot"));
    }

    [Fact]
    public async Task LaunchAsync_RetriedWithTheSameLaunchId_LaunchesNothingNew()
    {
        var cluster = NewCluster();
        var fleet = Fleet(cluster);

        var first = await fleet.LaunchAsync(new LaunchRequest("launch-retry", 4), default);
        var retry = await fleet.LaunchAsync(new LaunchRequest("launch-retry", 4), default);

        Assert.Equal(4, CliInstances(FleetTags.Cluster, cluster).Count);
        Assert.Equal(first.Instances.Select(i => i.InstanceId).Order(), retry.Instances.Select(i => i.InstanceId).Order());
    }

    [Fact]
    public async Task DescribeManagedAsync_MorePagesThanOne_ReturnsEveryInstance()
    {
        var cluster = NewCluster();
        await Fleet(cluster).LaunchAsync(new LaunchRequest("launch-pages", 5), default);

        var managed = await Fleet(cluster, pageSize: 2).DescribeManagedAsync(default);

        Assert.Equal(5, managed.Count);
        Assert.All(managed, m => Assert.Equal("launch-pages", m.LaunchId));
    }

    private string RunInstance(params string[] tags)
    {
        var args = new List<string> { "ec2", "run-instances", "--image-id", "ami-12c6146b", "--count", "1", "--instance-type", "t3.micro" };
        if (tags.Length > 0)
        {
            args.AddRange(["--tag-specifications", $"ResourceType=instance,Tags=[{string.Join(",", tags)}]"]);
        }

        return moto.Cli([.. args]).GetProperty("Instances")[0].GetProperty("InstanceId").GetString()!;
    }

    private string State(string instanceId) =>
        moto.Cli("ec2", "describe-instances", "--instance-ids", instanceId)
            .GetProperty("Reservations")[0].GetProperty("Instances")[0].GetProperty("State").GetProperty("Name").GetString()!;

    [Fact]
    public async Task TerminateAsync_MasterOrForeignInstance_IsRefusedAndNothingIsTerminated()
    {
        var cluster = NewCluster();
        var fleet = Fleet(cluster);
        var ours = (await fleet.LaunchAsync(new LaunchRequest("launch-t", 1), default)).Instances[0].InstanceId;
        var master = RunInstance($"{{Key={FleetTags.Cluster},Value={cluster}}}", $"{{Key={FleetTags.Role},Value=master}}", $"{{Key={FleetTags.Managed},Value=true}}");
        var foreign = RunInstance("{Key=team,Value=billing}");
        var otherCluster = RunInstance($"{{Key={FleetTags.Cluster},Value=other}}", $"{{Key={FleetTags.Managed},Value=true}}");

        foreach (var refused in new[] { master, foreign, otherCluster })
        {
            var error = await Assert.ThrowsAsync<TerminationRefusedException>(() => fleet.TerminateAsync([ours, refused], default));
            Assert.Contains(refused, error.Message, StringComparison.Ordinal);
        }

        Assert.All(new[] { ours, master, foreign, otherCluster }, id => Assert.Equal("running", State(id)));
    }

    [Fact]
    public async Task TerminateAsync_OurWorkers_TerminatesThemAndAgainSucceeds()
    {
        var cluster = NewCluster();
        var fleet = Fleet(cluster);
        var ids = (await fleet.LaunchAsync(new LaunchRequest("launch-x", 2), default)).Instances.Select(i => i.InstanceId).ToList();

        await fleet.TerminateAsync(ids, default);
        await fleet.TerminateAsync(ids, default); // already terminated: success, nothing sent

        Assert.All(ids, id => Assert.True(State(id) is "shutting-down" or "terminated"));
        Assert.Empty(await fleet.DescribeManagedAsync(default));
    }

    [Fact]
    public async Task TerminateAsync_UnknownInstance_IsAlreadyGone()
    {
        await Fleet(NewCluster()).TerminateAsync(["i-0123456789abcdef0"], default);
    }

    [Fact]
    public async Task CurrentSpotPrices_FromMoto_OnePricePerInstanceTypeAndWorkerZone()
    {
        var prices = await Fleet(NewCluster()).CurrentAsync(default);

        Assert.Equal(
            [("t3.large", "us-east-1a"), ("t3.large", "us-east-1b"), ("t3a.large", "us-east-1a"), ("t3a.large", "us-east-1b")],
            prices.Select(p => (p.InstanceType, p.Zone)));
        Assert.All(prices, p => Assert.True(p.PricePerHour > 0));
    }
}
