using NodeFleet.Testbed;
using NodeFleet.Aws.Ec2;
using NodeFleet.Core.Ports;

namespace NodeFleet.Aws.Tests;

/// <summary>EC2 errors moto cannot produce, injected by a proxy in front of it, as the EC2 SDK receives them.</summary>
[Collection(MotoServerGroup.Name)]
public class FaultInjectionTests(MotoServer moto)
{
    private const int Attempts = AwsCalls.SdkRetries + 1;

    private Ec2ComputeFleet FleetThrough(FaultProxy proxy, string cluster, TimeProvider? clock = null) =>
        new(Ec2Api.Create(MotoServer.EndpointAt(proxy.Url)), moto.Fleet(cluster), clock);

    private static string NewCluster() => "c" + Guid.NewGuid().ToString("N")[..10];

    private static int Calls(FaultProxy proxy, string action) => proxy.Requests.Count(r => r.GetValueOrDefault("Action") == action);

    [Fact]
    public async Task LaunchAsync_SpotCapacityRefused_FallsBackToOnDemandInTheSameStep()
    {
        var cluster = NewCluster();
        using var proxy = new FaultProxy(moto.Url, form => FaultProxy.IsSpotCreateFleet(form) ? new Fault(200, FaultProxy.NoSpotCapacity()) : null);

        var result = await FleetThrough(proxy, cluster).LaunchAsync(new LaunchRequest("launch-fallback", 4), default);

        Assert.Equal(4, result.Instances.Count);
        Assert.All(result.Instances, i => Assert.Equal(Core.Contracts.CapacityType.OnDemand, i.CapacityType));
        Assert.Contains(result.Errors, e => e.Contains("InsufficientInstanceCapacity", StringComparison.Ordinal));
        var fallbacks = proxy.Requests.Where(r => r.GetValueOrDefault("Action") == "CreateFleet" && !FaultProxy.IsSpotCreateFleet(r)).ToList();
        Assert.Equal(2, fallbacks.Count); // one per zone: its on-demand share and what spot refused, right after the spot request
    }

    [Fact]
    public async Task LaunchAsync_OneZoneOutOfSpotAndOnDemand_LandsInTheOtherZoneInTheSameStep()
    {
        var cluster = NewCluster();
        var (zoneA, subnetA) = moto.Fleet(cluster).Subnets[0];
        using var proxy = new FaultProxy(moto.Url, form => FaultProxy.CreateFleetSubnets(form).Contains(subnetA) ? new Fault(200, FaultProxy.NoCapacity(form)) : null);

        var result = await FleetThrough(proxy, cluster).LaunchAsync(new LaunchRequest("launch-zone-a-full", 4), default);

        Assert.Equal(4, result.Instances.Count);
        Assert.All(result.Instances, i => Assert.NotEqual(zoneA, i.Zone));
        Assert.Equal(4, (await FleetThrough(proxy, cluster).DescribeManagedAsync(default)).Count(i => i.Zone != zoneA));
        Assert.Contains(result.FailedPools, f => f.Pool.Zone == zoneA && f.Pool.CapacityType == Core.Contracts.CapacityType.Spot && f.Capacity);
        Assert.Contains(result.FailedPools, f => f.Pool.Zone == zoneA && f.Pool.CapacityType == Core.Contracts.CapacityType.OnDemand && f.Capacity);
        var tokens = proxy.Requests.Where(r => r.GetValueOrDefault("Action") == "CreateFleet").Select(r => r["ClientToken"]).ToList();
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    /// <summary>Every kind of EC2 failure, how often the SDK sends the call (its own retries), and what leaves the adapter.</summary>
    public static TheoryData<int, string, int, Type> ErrorResponses() => new()
    {
        { 503, FaultProxy.Ec2Error("RequestLimitExceeded", "Request limit exceeded."), Attempts, typeof(AwsThrottledException) },
        { 400, FaultProxy.Ec2Error("RequestLimitExceeded", "Request limit exceeded."), Attempts, typeof(AwsThrottledException) },
        { 400, FaultProxy.Ec2Error("Throttling", "Rate exceeded"), Attempts, typeof(AwsThrottledException) },
        { 500, FaultProxy.Ec2Error("InternalError", "An internal error has occurred"), Attempts, typeof(AwsUnavailableException) },
        { 503, FaultProxy.Ec2Error("Unavailable", "The server is overloaded and can't handle the request."), Attempts, typeof(AwsUnavailableException) },
        { 502, "<html>Bad Gateway</html>", Attempts, typeof(AwsUnavailableException) },
        { 403, FaultProxy.Ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation."), 1, typeof(AwsAccessDeniedException) },
        { 400, FaultProxy.Ec2Error("InvalidParameterValue", "Invalid value 'x' for instanceType"), 1, typeof(AwsInvalidRequestException) },
        { 200, "this is not xml", 1, typeof(AwsMalformedResponseException) },
        { 200, "<DescribeInstancesResponse><reservationSet><item><instancesSet><item><instanceId>i-1</instanceId></item></instancesSet></item></reservationSet></DescribeInstancesResponse>", 1, typeof(AwsMalformedResponseException) },
    };

    [Theory]
    [MemberData(nameof(ErrorResponses))]
    public async Task Ec2Call_PersistentErrorResponse_BecomesANamedExceptionAfterTheSdkRetriesTransientOnes(int status, string body, int attempts, Type expected)
    {
        using var proxy = new FaultProxy(moto.Url, _ => new Fault(status, body));

        var error = await Assert.ThrowsAnyAsync<AwsException>(() => FleetThrough(proxy, "cx").DescribeManagedAsync(default));

        Assert.IsType(expected, error);
        Assert.Equal(attempts, Calls(proxy, "DescribeInstances"));
    }

    public static TheoryData<int, string> TransientErrors() => new()
    {
        { 400, FaultProxy.Ec2Error("RequestLimitExceeded", "Request limit exceeded.") },
        { 503, FaultProxy.Ec2Error("RequestLimitExceeded", "Request limit exceeded.") },
        { 503, FaultProxy.Ec2Error("Unavailable", "The server is overloaded and can't handle the request.") },
        { 500, FaultProxy.Ec2Error("InternalError", "An internal error has occurred") },
    };

    [Theory]
    [MemberData(nameof(TransientErrors))]
    public async Task Ec2Call_ThrottledOr5xxFewerTimesThanTheSdkRetries_IsRetriedAndSucceeds(int status, string body)
    {
        var cluster = NewCluster();
        await new Ec2ComputeFleet(Ec2Api.Create(moto.Endpoint), moto.Fleet(cluster)).LaunchAsync(new LaunchRequest("launch-transient", 1), default);
        var failures = 0;
        using var proxy = new FaultProxy(moto.Url, form =>
            form.GetValueOrDefault("Action") == "DescribeInstances" && Interlocked.Increment(ref failures) <= AwsCalls.SdkRetries ? new Fault(status, body) : null);

        var managed = await FleetThrough(proxy, cluster).DescribeManagedAsync(default);

        Assert.Single(managed);
        Assert.Equal(Attempts, Calls(proxy, "DescribeInstances"));
    }

    [Fact]
    public async Task Ec2Call_NothingListening_IsUnavailable()
    {
        var closed = new Uri($"http://127.0.0.1:{MotoServer.FreePort()}/");
        var api = Ec2Api.Create(MotoServer.EndpointAt(closed));

        var error = await Assert.ThrowsAsync<AwsUnavailableException>(() => api.DescribeInstancesAsync([], [], default));

        Assert.Equal("NetworkError", error.Code);
    }

    [Fact]
    public async Task LaunchAsync_ResponseLostToThrottling_TheSdkRetryGetsEc2sFirstAnswerAndLaunchesOnce()
    {
        // The first CreateFleet reaches EC2 (instances start) but its answer is lost as a throttle;
        // the SDK sends it again with the same client token, which EC2 answers with the first result.
        var cluster = NewCluster();
        var lost = 0;
        using var proxy = new FaultProxy(moto.Url, form =>
            form.GetValueOrDefault("Action") == "CreateFleet" && Interlocked.Increment(ref lost) == 1
                ? new Fault(503, FaultProxy.Ec2Error("RequestLimitExceeded", "Request limit exceeded."), ForwardFirst: true)
                : null);
        var fleet = FleetThrough(proxy, cluster);

        var result = await fleet.LaunchAsync(new LaunchRequest("launch-lost", 2), default);

        Assert.Equal(2, result.Instances.Count);
        Assert.Equal(result.Instances.Select(i => i.InstanceId).Order(), (await fleet.DescribeManagedAsync(default)).Select(i => i.InstanceId).Order());
        // One token per zone; the first zone's request was sent twice.
        var tokens = proxy.Requests.Where(r => r.GetValueOrDefault("Action") == "CreateFleet").GroupBy(r => r["ClientToken"]).Select(g => g.Count());
        Assert.Equal([2, 1], tokens);
    }

    [Fact]
    public async Task LaunchAsync_EveryAnswerLostToThrottling_IsThrottledAndTheStepRetryLaunchesNothingNew()
    {
        var cluster = NewCluster();
        using var proxy = new FaultProxy(moto.Url, form =>
            form.GetValueOrDefault("Action") == "CreateFleet"
                ? new Fault(503, FaultProxy.Ec2Error("RequestLimitExceeded", "Request limit exceeded."), ForwardFirst: true)
                : null);
        var fleet = FleetThrough(proxy, cluster);

        // The first zone's CreateFleet reached EC2 every time, but no answer came back.
        await Assert.ThrowsAsync<AwsThrottledException>(() => fleet.LaunchAsync(new LaunchRequest("launch-lost-all", 2), default));
        var launchedOnce = Assert.Single(await fleet.DescribeManagedAsync(default));
        Assert.Equal(Attempts, Calls(proxy, "CreateFleet"));
        proxy.Rule = _ => null;
        var retry = await fleet.LaunchAsync(new LaunchRequest("launch-lost-all", 2), default);

        // The step's retry finds that instance by its launch id and asks only for the other zone's.
        Assert.Equal(2, retry.Instances.Count);
        Assert.Contains(retry.Instances, i => i.InstanceId == launchedOnce.InstanceId);
        Assert.Equal(2, (await fleet.DescribeManagedAsync(default)).Count);
        Assert.Equal(Attempts + 1, Calls(proxy, "CreateFleet"));
    }

    private static string SpotPrices(string nextToken, params (string Type, string Zone, string Price, string At)[] prices) =>
        $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <DescribeSpotPriceHistoryResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>
        <spotPriceHistorySet>{string.Concat(prices.Select(p => $"<item><instanceType>{p.Type}</instanceType><productDescription>Linux/UNIX</productDescription><spotPrice>{p.Price}</spotPrice><timestamp>{p.At}</timestamp><availabilityZone>{p.Zone}</availabilityZone></item>"))}</spotPriceHistorySet>
        <nextToken>{nextToken}</nextToken></DescribeSpotPriceHistoryResponse>
        """;

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task CurrentSpotPrices_TwoPagesWithSeveralChangesOfAPool_TakesEachPoolsLatestPriceAtTheClocksTime()
    {
        var now = new DateTimeOffset(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);
        using var proxy = new FaultProxy(moto.Url, form => form.GetValueOrDefault("Action") != "DescribeSpotPriceHistory" ? null
            : form.ContainsKey("NextToken")
                ? new Fault(200, SpotPrices("", ("t3.large", "us-east-1a", "0.031200", "2026-11-18T11:55:00.000Z"), ("t3a.large", "us-east-1b", "0.028900", "2026-11-18T09:00:00.000Z")))
                : new Fault(200, SpotPrices("page-2", ("t3.large", "us-east-1a", "0.030100", "2026-11-18T10:00:00.000Z"), ("t3.large", "us-east-1b", "0.033000", "2026-11-18T08:30:00.000Z"))));

        var prices = await FleetThrough(proxy, "cx", new FixedClock(now)).CurrentAsync(default);

        Assert.Equal(
        [
            new SpotPriceQuote("t3.large", "us-east-1a", 0.0312m, new DateTimeOffset(2026, 11, 18, 11, 55, 0, TimeSpan.Zero)),
            new SpotPriceQuote("t3.large", "us-east-1b", 0.033m, new DateTimeOffset(2026, 11, 18, 8, 30, 0, TimeSpan.Zero)),
            new SpotPriceQuote("t3a.large", "us-east-1b", 0.0289m, new DateTimeOffset(2026, 11, 18, 9, 0, 0, TimeSpan.Zero)),
        ], prices);
        var first = proxy.Requests.First(r => r.GetValueOrDefault("Action") == "DescribeSpotPriceHistory");
        Assert.Equal(("2026-11-18T12:00:00Z", "2026-11-18T12:00:00Z", "Linux/UNIX"), (first["StartTime"], first["EndTime"], first["ProductDescription.1"]));
        Assert.Equal(2, Calls(proxy, "DescribeSpotPriceHistory"));
    }

    [Fact]
    public async Task CurrentSpotPrices_PriceThatIsNotANumber_IsMalformed()
    {
        using var proxy = new FaultProxy(moto.Url, form => form.GetValueOrDefault("Action") == "DescribeSpotPriceHistory"
            ? new Fault(200, SpotPrices("", ("t3.large", "us-east-1a", "cheap", "2026-11-18T11:55:00.000Z")))
            : null);

        var error = await Assert.ThrowsAsync<AwsMalformedResponseException>(() => FleetThrough(proxy, "cx").CurrentAsync(default));

        Assert.Contains("'cheap' is not a price", error.Message, StringComparison.Ordinal);
    }
}
