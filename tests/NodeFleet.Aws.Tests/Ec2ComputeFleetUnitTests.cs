using NodeFleet.Aws.Ec2;
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

    [Fact]
    public void ClientToken_SameLaunchZoneAttempt_IsStableAndWithinEc2Limits()
    {
        var token = Ec2ComputeFleet.ClientToken("launch-" + new string('x', 200), "us-east-1a", "primary");

        Assert.Equal(token, Ec2ComputeFleet.ClientToken("launch-" + new string('x', 200), "us-east-1a", "primary"));
        Assert.NotEqual(token, Ec2ComputeFleet.ClientToken("launch-" + new string('x', 200), "us-east-1a", "on-demand-fallback"));
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
