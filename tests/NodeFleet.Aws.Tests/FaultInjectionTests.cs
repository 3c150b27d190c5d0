using NodeFleet.Testbed;
using NodeFleet.Aws.Ec2;
using NodeFleet.Core.Ports;

namespace NodeFleet.Aws.Tests;

/// <summary>EC2 errors moto cannot produce, injected by a proxy in front of it.</summary>
[Collection(MotoServerGroup.Name)]
public class FaultInjectionTests(MotoServer moto)
{
    private Ec2ComputeFleet FleetThrough(FaultProxy proxy, string cluster) =>
        new(new Ec2Api(new AwsQueryClient(MotoServer.EndpointAt(proxy.Url).HttpClientFor("ec2"), proxy.Url, "ec2", Ec2Api.ApiVersion)), moto.Fleet(cluster));

    [Fact]
    public async Task LaunchAsync_SpotCapacityRefused_FallsBackToOnDemandInTheSameStep()
    {
        var cluster = "c" + Guid.NewGuid().ToString("N")[..10];
        using var proxy = new FaultProxy(moto.Url, form => FaultProxy.IsSpotCreateFleet(form) ? new Fault(200, FaultProxy.NoSpotCapacity()) : null);

        var result = await FleetThrough(proxy, cluster).LaunchAsync(new LaunchRequest("launch-fallback", 4), default);

        Assert.Equal(4, result.Instances.Count);
        Assert.All(result.Instances, i => Assert.Equal(Core.Contracts.CapacityType.OnDemand, i.CapacityType));
        Assert.Contains(result.Errors, e => e.Contains("InsufficientInstanceCapacity", StringComparison.Ordinal));
        var fallbacks = proxy.Requests.Where(r => r.GetValueOrDefault("Action") == "CreateFleet" && !FaultProxy.IsSpotCreateFleet(r)).ToList();
        Assert.Equal(2, fallbacks.Count); // one per zone, right after the refused spot request
    }

    public static TheoryData<int, string, Type> ErrorResponses() => new()
    {
        { 503, FaultProxy.Ec2Error("RequestLimitExceeded", "Request limit exceeded."), typeof(AwsThrottledException) },
        { 400, FaultProxy.Ec2Error("Throttling", "Rate exceeded"), typeof(AwsThrottledException) },
        { 500, FaultProxy.Ec2Error("InternalError", "An internal error has occurred"), typeof(AwsUnavailableException) },
        { 502, "<html>Bad Gateway</html>", typeof(AwsUnavailableException) },
        { 403, FaultProxy.Ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation."), typeof(AwsAccessDeniedException) },
        { 400, FaultProxy.Ec2Error("InvalidParameterValue", "Invalid value 'x' for instanceType"), typeof(AwsInvalidRequestException) },
        { 200, "this is not xml", typeof(AwsMalformedResponseException) },
        { 200, "<DescribeInstancesResponse><reservationSet><item><instancesSet><item><instanceId>i-1</instanceId></item></instancesSet></item></reservationSet></DescribeInstancesResponse>", typeof(AwsMalformedResponseException) },
    };

    [Theory]
    [MemberData(nameof(ErrorResponses))]
    public async Task Ec2Call_ErrorResponse_BecomesANamedException(int status, string body, Type expected)
    {
        using var proxy = new FaultProxy(moto.Url, _ => new Fault(status, body));

        var error = await Assert.ThrowsAnyAsync<AwsException>(() => FleetThrough(proxy, "cx").DescribeManagedAsync(default));

        Assert.IsType(expected, error);
    }

    [Fact]
    public async Task Ec2Call_NothingListening_IsUnavailable()
    {
        var closed = new Uri($"http://127.0.0.1:{MotoServer.FreePort()}/");
        var api = new Ec2Api(new AwsQueryClient(MotoServer.EndpointAt(closed).HttpClientFor("ec2"), closed, "ec2", Ec2Api.ApiVersion));

        await Assert.ThrowsAsync<AwsUnavailableException>(() => api.DescribeInstancesAsync([], [], default));
    }

    [Fact]
    public async Task LaunchAsync_ResponseLostToThrottlingThenRetried_LaunchesOnlyOnce()
    {
        // The first CreateFleet reaches EC2 (instances start) but its answer is lost as a throttle.
        var cluster = "c" + Guid.NewGuid().ToString("N")[..10];
        var lost = 0;
        using var proxy = new FaultProxy(moto.Url, form =>
            form.GetValueOrDefault("Action") == "CreateFleet" && Interlocked.Increment(ref lost) == 1
                ? new Fault(503, FaultProxy.Ec2Error("RequestLimitExceeded", "Request limit exceeded."), ForwardFirst: true)
                : null);
        var fleet = FleetThrough(proxy, cluster);

        await Assert.ThrowsAsync<AwsThrottledException>(() => fleet.LaunchAsync(new LaunchRequest("launch-lost", 2), default));
        var retry = await fleet.LaunchAsync(new LaunchRequest("launch-lost", 2), default);

        Assert.Equal(2, retry.Instances.Count);
        Assert.Equal(2, (await fleet.DescribeManagedAsync(default)).Count);
    }
}
