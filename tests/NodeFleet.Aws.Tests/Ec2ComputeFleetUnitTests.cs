using NodeFleet.Aws.Ec2;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;
using NSubstitute;

namespace NodeFleet.Aws.Tests;

/// <summary>The fleet's decisions against a faked EC2 API: no server needed.</summary>
public class Ec2ComputeFleetUnitTests
{
    private readonly IEc2Api ec2 = Substitute.For<IEc2Api>();

    private static readonly FleetSettings Settings = new()
    {
        ClusterName = "prod",
        LaunchTemplateId = "lt-1",
        Subnets = [("us-east-1a", "subnet-a")],
        InstanceTypes = ["t3.large", "m5.large"],
        SpotShare = 1.0,
    };

    [Fact]
    public async Task LaunchAsync_WholeRequestRefusedForCapacity_FallsBackToOnDemand()
    {
        ec2.DescribeInstancesAsync(default!, default!, default).ReturnsForAnyArgs([]);
        ec2.CreateInstantFleetAsync(Arg.Is<FleetLaunchRequest>(r => r.SpotCount > 0), Arg.Any<CancellationToken>())
            .Returns<FleetLaunch>(_ => throw new InsufficientCapacityException("ec2", "MaxSpotInstanceCountExceeded", "limit", 400, null));
        ec2.CreateInstantFleetAsync(Arg.Is<FleetLaunchRequest>(r => r.SpotCount == 0), Arg.Any<CancellationToken>())
            .Returns(new FleetLaunch([new FleetInstance("i-1", "m5.large", "on-demand"), new FleetInstance("i-2", "m5.large", "on-demand")], []));

        var result = await new Ec2ComputeFleet(ec2, Settings).LaunchAsync(new LaunchRequest("launch-1", 2), default);

        Assert.Equal(2, result.Instances.Count);
        Assert.Contains(result.Errors, e => e.Contains("MaxSpotInstanceCountExceeded", StringComparison.Ordinal));
        await ec2.Received(1).CreateInstantFleetAsync(
            Arg.Is<FleetLaunchRequest>(r => r.SpotCount == 0 && r.OnDemandCount == 2 && r.Overrides.Count == 2 && r.Tags[FleetTags.LaunchId] == "launch-1"),
            Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(10)]
    public async Task LaunchAsync_OneZone_AsksTheSpotCountCapacitySplitGives_TheSimulatorsSplit(int count)
    {
        // The simulator launches with CapacitySplit.SpotCount: this fails if LaunchNodes' split ever differs from it.
        var asked = new List<FleetLaunchRequest>();
        ec2.DescribeInstancesAsync(default!, default!, default).ReturnsForAnyArgs([]);
        ec2.CreateInstantFleetAsync(Arg.Any<FleetLaunchRequest>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            asked.Add(call.Arg<FleetLaunchRequest>());
            return Fill(call.Arg<FleetLaunchRequest>());
        });

        await new Ec2ComputeFleet(ec2, Settings with { SpotShare = 0.7 }).LaunchAsync(new LaunchRequest("launch-1", count), default);

        Assert.Equal(CapacitySplit.SpotCount(count, 0.7), asked.Sum(r => r.SpotCount));
        Assert.Equal(count - CapacitySplit.SpotCount(count, 0.7), asked.Sum(r => r.OnDemandCount));
    }

    private static readonly FleetSettings TwoZones = Settings with { Subnets = [("us-east-1a", "subnet-a"), ("us-east-1b", "subnet-b")], SpotShare = 0.5 };

    private static FleetLaunch NoCapacity(FleetLaunchRequest r) =>
        new([], [.. r.Overrides.Select(o => new FleetPoolError("InsufficientInstanceCapacity", "none", r.SpotCount > 0 ? "spot" : "on-demand", o.InstanceType, o.SubnetId))]);

    private static FleetLaunch Fill(FleetLaunchRequest r) =>
        new([.. Enumerable.Range(0, r.SpotCount + r.OnDemandCount).Select(i => new FleetInstance($"i-{r.ClientToken[^6..]}-{i}", r.Overrides[0].InstanceType, r.SpotCount > 0 ? "spot" : "on-demand"))], []);

    /// <summary>EC2 with one subnet's zone out of both spot and on-demand capacity; every request is kept.</summary>
    private List<FleetLaunchRequest> ZoneOutOfCapacity(string subnet)
    {
        var asked = new List<FleetLaunchRequest>();
        ec2.DescribeInstancesAsync(default!, default!, default).ReturnsForAnyArgs([]);
        ec2.CreateInstantFleetAsync(Arg.Any<FleetLaunchRequest>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            var r = call.Arg<FleetLaunchRequest>();
            asked.Add(r);
            return r.Overrides.All(o => o.SubnetId == subnet) ? NoCapacity(r) : Fill(r);
        });
        return asked;
    }

    private static List<Pool> ZoneA() =>
        [.. new[] { "t3.large", "m5.large" }.SelectMany(t => new[] { new Pool(t, "us-east-1a", CapacityType.Spot), new Pool(t, "us-east-1a", CapacityType.OnDemand) })];

    [Fact]
    public async Task LaunchAsync_SpotAndOnDemandOutOfCapacityInOneZone_LandsInTheOtherInTheSameCall()
    {
        var asked = ZoneOutOfCapacity("subnet-a");

        var result = await new Ec2ComputeFleet(ec2, TwoZones).LaunchAsync(new LaunchRequest("launch-1", 4), default);

        Assert.Equal(4, result.Instances.Count);
        Assert.All(result.Instances, i => Assert.Equal("us-east-1b", i.Zone));
        Assert.Equal(
            [new Pool("t3.large", "us-east-1a", CapacityType.Spot), new Pool("m5.large", "us-east-1a", CapacityType.Spot), new Pool("t3.large", "us-east-1a", CapacityType.OnDemand), new Pool("m5.large", "us-east-1a", CapacityType.OnDemand)],
            result.FailedPools.Select(f => f.Pool));
        Assert.All(result.FailedPools, f => Assert.True(f.Capacity));
        // Zone a: spot, then on demand (both refused); zone b: its share (spot, on demand), then zone a's (spot, on demand).
        Assert.Equal(["subnet-a", "subnet-a", "subnet-b", "subnet-b", "subnet-b", "subnet-b"], asked.Select(r => r.Overrides[0].SubnetId));
        Assert.Equal(asked.Count, asked.Select(r => r.ClientToken).Distinct().Count());
    }

    [Fact]
    public async Task LaunchAsync_RetryAfterTheFallbackPutEverythingInTheOtherZone_LaunchesOnlyWhatIsMissing()
    {
        ec2.DescribeInstancesAsync(default!, default!, default).ReturnsForAnyArgs(
        [
            .. Enumerable.Range(1, 3).Select(i => new Ec2Instance($"i-b{i}", "t3.large", "us-east-1b", "running", false,
                new Dictionary<string, string> { [FleetTags.Managed] = "true", [FleetTags.Cluster] = "prod", [FleetTags.LaunchId] = "launch-5" }, DateTimeOffset.UnixEpoch)),
        ]);
        var asked = new List<FleetLaunchRequest>();
        ec2.CreateInstantFleetAsync(Arg.Any<FleetLaunchRequest>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            asked.Add(call.Arg<FleetLaunchRequest>());
            return Fill(call.Arg<FleetLaunchRequest>());
        });

        var result = await new Ec2ComputeFleet(ec2, TwoZones).LaunchAsync(new LaunchRequest("launch-5", 4), default);

        Assert.Equal(4, result.Instances.Count);
        Assert.Equal(1, asked.Sum(r => r.SpotCount + r.OnDemandCount));
        Assert.All(asked, r => Assert.Equal("subnet-a", r.Overrides[0].SubnetId));
    }

    [Fact]
    public async Task LaunchAsync_ZonePinnedNodesAndTheirZoneOutOfCapacity_AreNeverLaunchedElsewhere()
    {
        var asked = ZoneOutOfCapacity("subnet-b");

        var result = await new Ec2ComputeFleet(ec2, TwoZones).LaunchAsync(
            new LaunchRequest("launch-7", 3) { Zones = new Dictionary<string, int> { ["us-east-1b"] = 2 } }, default);

        // The unpinned node lands in zone a; the two pods bound to zone b would not run in zone a, so none go there for them.
        var landed = Assert.Single(result.Instances);
        Assert.Equal("us-east-1a", landed.Zone);
        Assert.Equal(1, asked.Where(r => r.Overrides[0].SubnetId == "subnet-a").Sum(r => r.SpotCount + r.OnDemandCount));
        Assert.Contains(result.FailedPools, f => f.Pool.Zone == "us-east-1b" && f.Capacity);
    }

    [Fact]
    public async Task LaunchAsync_ZonePinnedNodes_LandInTheirZone_UnpinnedBalanceAroundThem()
    {
        var asked = ZoneOutOfCapacity("none");

        var result = await new Ec2ComputeFleet(ec2, TwoZones).LaunchAsync(
            new LaunchRequest("launch-8", 4) { Zones = new Dictionary<string, int> { ["us-east-1b"] = 3 } }, default);

        Assert.Equal(3, result.Instances.Count(i => i.Zone == "us-east-1b"));
        Assert.Equal(1, result.Instances.Count(i => i.Zone == "us-east-1a"));
        Assert.Equal(4, asked.Sum(r => r.SpotCount + r.OnDemandCount));
    }

    [Fact]
    public async Task LaunchAsync_ZonePinnedAfterTheyLandedOnARetry_LaunchesOnlyWhatIsMissing()
    {
        ec2.DescribeInstancesAsync(default!, default!, default).ReturnsForAnyArgs(
        [
            new Ec2Instance("i-b1", "t3.large", "us-east-1b", "running", false,
                new Dictionary<string, string> { [FleetTags.Managed] = "true", [FleetTags.Cluster] = "prod", [FleetTags.LaunchId] = "launch-9" }, DateTimeOffset.UnixEpoch),
        ]);
        var asked = new List<FleetLaunchRequest>();
        ec2.CreateInstantFleetAsync(Arg.Any<FleetLaunchRequest>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            asked.Add(call.Arg<FleetLaunchRequest>());
            return Fill(call.Arg<FleetLaunchRequest>());
        });

        var result = await new Ec2ComputeFleet(ec2, TwoZones).LaunchAsync(
            new LaunchRequest("launch-9", 2) { Zones = new Dictionary<string, int> { ["us-east-1b"] = 2 } }, default);

        Assert.Equal(2, result.Instances.Count(i => i.Zone == "us-east-1b"));
        var request = Assert.Single(asked);
        Assert.Equal("subnet-b", request.Overrides[0].SubnetId);
        Assert.Equal(1, request.SpotCount + request.OnDemandCount);
    }

    [Fact]
    public async Task LaunchAsync_PoolsRecordedUnavailable_AreAskedOnlyAfterTheOthers()
    {
        var asked = ZoneOutOfCapacity("none");

        var result = await new Ec2ComputeFleet(ec2, TwoZones).LaunchAsync(new LaunchRequest("launch-2", 2) { TryLast = ZoneA() }, default);

        Assert.All(result.Instances, i => Assert.Equal("us-east-1b", i.Zone));
        Assert.All(asked, r => Assert.Equal("subnet-b", r.Overrides[0].SubnetId));
    }

    [Fact]
    public async Task LaunchAsync_OnlyTheUnavailablePoolsHaveCapacity_StillLaunchesThere()
    {
        var asked = ZoneOutOfCapacity("subnet-b");

        var result = await new Ec2ComputeFleet(ec2, TwoZones).LaunchAsync(new LaunchRequest("launch-3", 2) { TryLast = ZoneA() }, default);

        Assert.Equal(2, result.Instances.Count);
        Assert.All(result.Instances, i => Assert.Equal("us-east-1a", i.Zone));
        Assert.Equal("subnet-b", asked[0].Overrides[0].SubnetId);
    }

    [Fact]
    public async Task LaunchAsync_NonCapacityErrorForAPool_ReportedButNotRememberedAsUnavailable()
    {
        ec2.DescribeInstancesAsync(default!, default!, default).ReturnsForAnyArgs([]);
        ec2.CreateInstantFleetAsync(Arg.Any<FleetLaunchRequest>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            var r = call.Arg<FleetLaunchRequest>();
            return r.Overrides.Any(o => o.InstanceType == "t3.large")
                ? new FleetLaunch([], [new FleetPoolError("InvalidParameterValue", "t3.large not allowed", "spot", "t3.large", "subnet-a")])
                : Fill(r);
        });

        var result = await new Ec2ComputeFleet(ec2, Settings).LaunchAsync(new LaunchRequest("launch-4", 1), default);

        // t3.large refused as spot, then as on demand; m5.large, asked next, launches.
        Assert.Equal("m5.large", Assert.Single(result.Instances).InstanceType);
        Assert.Equal([CapacityType.Spot, CapacityType.OnDemand], result.FailedPools.Select(f => f.Pool.CapacityType));
        Assert.All(result.FailedPools, f => Assert.Equal(("t3.large", "InvalidParameterValue", false), (f.Pool.InstanceType, f.Code, f.Capacity)));
    }

    private static readonly FleetOverride[] Pools = [new("t3.large", "subnet-a"), new("m5.large", "subnet-a")];

    public static TheoryData<string, int, FleetOverride[], int, int> DifferentRequests() => new()
    {
        { "launch-other", 0, Pools, 2, 1 },
        { "launch-1", 1, Pools, 2, 1 },
        { "launch-1", 0, [new("t3.large", "subnet-a")], 2, 1 },
        { "launch-1", 0, [new("t3.large", "subnet-b"), new("m5.large", "subnet-b")], 2, 1 },
        { "launch-1", 0, Pools, 1, 1 },
        { "launch-1", 0, Pools, 2, 2 },
    };

    [Theory]
    [MemberData(nameof(DifferentRequests))]
    public void ClientToken_AnyPartOfTheRequestDiffers_IsAnotherToken(string launchId, int held, FleetOverride[] overrides, int spot, int onDemand)
    {
        var token = Ec2ComputeFleet.ClientToken("launch-1", 0, Pools, 2, 1);

        Assert.NotEqual(token, Ec2ComputeFleet.ClientToken(launchId, held, overrides, spot, onDemand));
    }

    [Fact]
    public void ClientToken_SameRequestRetried_IsTheSameTokenWithinEc2Limits()
    {
        var token = Ec2ComputeFleet.ClientToken("launch-" + new string('x', 200), 3, Pools, 2, 1);

        Assert.Equal(token, Ec2ComputeFleet.ClientToken("launch-" + new string('x', 200), 3, [.. Pools.Reverse()], 2, 1));
        Assert.True(token.Length <= 64 && token.All(char.IsAscii));
    }

    [Fact]
    public async Task TerminateAsync_NoIds_CallsNothing()
    {
        await new Ec2ComputeFleet(ec2, Settings).TerminateAsync([], default);

        await ec2.DidNotReceiveWithAnyArgs().DescribeInstancesAsync(default!, default!, default);
    }
}

public class FleetSettingsTests
{
    [Fact]
    public void FromEnvironment_Complete_ParsesEverything()
    {
        var env = new Dictionary<string, string>
        {
            ["NODEFLEET_CLUSTER_NAME"] = "prod",
            ["NODEFLEET_STATE_TABLE"] = "nodefleet-state",
            ["NODEFLEET_WORKER_SUBNETS"] = "us-east-1a=subnet-0a, us-east-1b=subnet-0b",
            ["NODEFLEET_INSTANCE_TYPES"] = "t3.large, t3a.large",
            ["NODEFLEET_SPOT_SHARE"] = "50%",
            ["NODEFLEET_LEASE_DURATION"] = "30m",
        };

        var s = FleetSettings.FromEnvironment(n => env.GetValueOrDefault(n), SettingsCatalog.StateTable);

        Assert.Equal([("us-east-1a", "subnet-0a"), ("us-east-1b", "subnet-0b")], s.Subnets);
        Assert.Equal(["t3.large", "t3a.large"], s.InstanceTypes);
        Assert.Equal((0.5, TimeSpan.FromMinutes(30), "$Default"), (s.SpotShare, s.LeaseDuration, s.LaunchTemplateVersion));
    }

    [Fact]
    public void FromEnvironment_MissingAndMalformed_ReportsEveryOneByName()
    {
        var env = new Dictionary<string, string>
        {
            ["NODEFLEET_WORKER_SUBNETS"] = "us-east-1a:subnet-0a",
            ["NODEFLEET_SPOT_SHARE"] = "170%",
        };

        var error = Assert.Throws<InvalidSettingsException>(() =>
            FleetSettings.FromEnvironment(n => env.GetValueOrDefault(n), SettingsCatalog.StateTable, SettingsCatalog.LaunchTemplateId));

        Assert.Contains("NODEFLEET_STATE_TABLE: required", error.Errors);
        Assert.Contains("NODEFLEET_LAUNCH_TEMPLATE_ID: required", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("NODEFLEET_WORKER_SUBNETS: 'us-east-1a:subnet-0a' is not of the form zone=subnet-id", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("NODEFLEET_SPOT_SHARE", StringComparison.Ordinal));
    }
}
