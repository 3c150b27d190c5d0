using NodeFleet.Aws.DynamoDb;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Testbed;

namespace NodeFleet.Aws.Tests;

/// <summary>
/// DynamoDB errors moto cannot produce, in DynamoDB's JSON error shape (botocore's dynamodb
/// 2012-08-10 model), injected by the proxy: what the SDK retries, and what leaves the store.
/// </summary>
[Collection(MotoServerGroup.Name)]
public class DynamoDbFaultTests(MotoServer moto)
{
    private const int Attempts = AwsCalls.SdkRetries + 1;
    private const string Dynamo = "com.amazonaws.dynamodb.v20120810#";
    private const string Coral = "com.amazon.coral.availability#";
    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);

    private static LeaseRequest Ask(string owner) =>
        new(owner, Now, TimeSpan.FromMinutes(20), CooldownScope.None, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));

    private async Task<DynamoDbFleetStateStore> StoreThroughAsync(FaultProxy proxy)
    {
        var table = await moto.CreateTableAsync("faults-" + Guid.NewGuid().ToString("N")[..12]);
        return new DynamoDbFleetStateStore(MotoServer.EndpointAt(proxy.Url).DynamoDbClient(), table, "prod");
    }

    private static int Calls(FaultProxy proxy, string action) => proxy.Requests.Count(r => r.GetValueOrDefault("Action") == action);

    public static TheoryData<int, string> TransientErrors() => new()
    {
        { 400, FaultProxy.JsonError(Dynamo + "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded.") },
        { 400, FaultProxy.JsonError(Coral + "ThrottlingException", "Rate of requests exceeds the allowed throughput.") },
        { 400, FaultProxy.JsonError(Dynamo + "RequestLimitExceeded", "Throughput exceeds the current throughput limit for your account.") },
        { 500, FaultProxy.JsonError(Dynamo + "InternalServerError", "Internal server error") },
        { 503, FaultProxy.JsonError(Coral + "ServiceUnavailableException", "Service unavailable") },
    };

    [Theory]
    [MemberData(nameof(TransientErrors))]
    public async Task AcquireAsync_ThrottledOr5xxFewerTimesThanTheSdkRetries_IsRetriedAndTakesTheLease(int status, string body)
    {
        var failures = 0;
        using var proxy = new FaultProxy(moto.Url, form =>
            form.GetValueOrDefault("Action") == "UpdateItem" && Interlocked.Increment(ref failures) <= AwsCalls.SdkRetries ? new Fault(status, body) : null);
        var store = await StoreThroughAsync(proxy);

        var grant = await store.AcquireAsync(Ask("exec-a"), default);

        Assert.True(grant.Acquired);
        Assert.Equal(1, grant.Lease!.Fence);
        Assert.Equal(Attempts, Calls(proxy, "UpdateItem"));
    }

    /// <summary>Every kind of DynamoDB failure, how often the SDK sends the call, and the named exception that leaves the store.</summary>
    public static TheoryData<int, string, int, Type> PersistentErrors() => new()
    {
        { 400, FaultProxy.JsonError(Dynamo + "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded."), Attempts, typeof(AwsThrottledException) },
        { 400, FaultProxy.JsonError(Coral + "ThrottlingException", "Rate of requests exceeds the allowed throughput."), Attempts, typeof(AwsThrottledException) },
        { 500, FaultProxy.JsonError(Dynamo + "InternalServerError", "Internal server error"), Attempts, typeof(AwsUnavailableException) },
        { 503, FaultProxy.JsonError(Coral + "ServiceUnavailableException", "Service unavailable"), Attempts, typeof(AwsUnavailableException) },
        { 502, "<html>Bad Gateway</html>", Attempts, typeof(AwsUnavailableException) },
        { 400, FaultProxy.JsonError("com.amazon.coral.service#AccessDeniedException", "User is not authorized to perform: dynamodb:UpdateItem"), 1, typeof(AwsAccessDeniedException) },
        { 400, FaultProxy.JsonError("com.amazon.coral.service#UnrecognizedClientException", "The security token included in the request is invalid."), 1, typeof(AwsAccessDeniedException) },
        { 400, FaultProxy.JsonError(Dynamo + "ResourceNotFoundException", "Requested resource not found"), 1, typeof(AwsInvalidRequestException) },
        { 400, FaultProxy.JsonError("com.amazon.coral.validate#ValidationException", "Invalid UpdateExpression"), 1, typeof(AwsInvalidRequestException) },
        { 200, "this is not json", Attempts, typeof(AwsMalformedResponseException) }, // the SDK retries what it could not read
    };

    [Theory]
    [MemberData(nameof(PersistentErrors))]
    public async Task AcquireAsync_PersistentError_LeavesAsANamedExceptionNeverARawSdkOne(int status, string body, int attempts, Type expected)
    {
        using var proxy = new FaultProxy(moto.Url, form => form.GetValueOrDefault("Action") == "UpdateItem" ? new Fault(status, body) : null);
        var store = await StoreThroughAsync(proxy);

        var error = await Record.ExceptionAsync(() => store.AcquireAsync(Ask("exec-a"), default));

        Assert.IsType(expected, error);
        Assert.Equal("dynamodb", ((AwsException)error).Service);
        Assert.Equal(attempts, Calls(proxy, "UpdateItem"));
    }

    [Fact]
    public async Task LoadAsync_ThrottledReads_LeaveAsAwsThrottledException()
    {
        using var proxy = new FaultProxy(moto.Url, form => form.GetValueOrDefault("Action") == "GetItem"
            ? new Fault(400, FaultProxy.JsonError(Dynamo + "ProvisionedThroughputExceededException", "Throughput exceeded"))
            : null);
        var store = await StoreThroughAsync(proxy);

        var error = await Assert.ThrowsAsync<AwsThrottledException>(() => store.LoadAsync(default));

        Assert.Equal("ProvisionedThroughputExceededException", error.Code);
    }

    [Fact]
    public async Task AcquireAsync_HeldLease_IsARefusalNotAnError()
    {
        using var proxy = new FaultProxy(moto.Url, _ => null);
        var store = await StoreThroughAsync(proxy);
        await store.AcquireAsync(Ask("exec-a"), default);

        var refused = await store.AcquireAsync(Ask("exec-b"), default);

        Assert.False(refused.Acquired);
        Assert.StartsWith("held by exec-a", refused.RefusedBecause, StringComparison.Ordinal);
        Assert.Equal(2, Calls(proxy, "UpdateItem")); // a refused condition is not retried by the SDK
    }

    [Fact]
    public async Task LoadAsync_NothingListening_IsUnavailable()
    {
        var closed = new Uri($"http://127.0.0.1:{MotoServer.FreePort()}/");
        var store = new DynamoDbFleetStateStore(MotoServer.EndpointAt(closed).DynamoDbClient(), "state", "prod");

        var error = await Assert.ThrowsAsync<AwsUnavailableException>(() => store.LoadAsync(default));

        Assert.Equal("NetworkError", error.Code);
    }
}
