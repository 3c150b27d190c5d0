using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Xml;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using NodeFleet.Aws.DynamoDb;

namespace NodeFleet.Aws.Tests;

/// <summary>Every exception the SDKs (and the hand-written clients' transport) can end in, and the named exception it becomes.</summary>
public class AwsCallsTests
{
    private static AmazonServiceException Service(string? code, HttpStatusCode status) =>
        new("it failed", ErrorType.Sender, code, "req-1", status);

    public static TheoryData<Exception, Type> Mapped() => new()
    {
        { Service("ThrottlingException", HttpStatusCode.BadRequest), typeof(AwsThrottledException) },
        { new ProvisionedThroughputExceededException("too fast") { ErrorCode = "ProvisionedThroughputExceededException", StatusCode = HttpStatusCode.BadRequest }, typeof(AwsThrottledException) },
        { Service("SomethingNew", HttpStatusCode.TooManyRequests), typeof(AwsThrottledException) },
        { Service("InternalServerError", HttpStatusCode.InternalServerError), typeof(AwsUnavailableException) },
        { Service(null, HttpStatusCode.ServiceUnavailable), typeof(AwsUnavailableException) },
        { Service("AccessDeniedException", HttpStatusCode.BadRequest), typeof(AwsAccessDeniedException) },
        { Service("SomethingNew", HttpStatusCode.Forbidden), typeof(AwsAccessDeniedException) },
        { Service("InsufficientInstanceCapacity", HttpStatusCode.BadRequest), typeof(InsufficientCapacityException) },
        { Service("ValidationException", HttpStatusCode.BadRequest), typeof(AwsInvalidRequestException) },
        { Service(null, 0), typeof(AwsUnavailableException) },
        { new AmazonUnmarshallingException("req-1", "Response/Body", "not xml", new XmlException("bad"), HttpStatusCode.OK), typeof(AwsMalformedResponseException) },
        { new AmazonUnmarshallingException("req-1", "Response/Body", "<html>", new XmlException("bad"), HttpStatusCode.BadGateway), typeof(AwsUnavailableException) },
        { new XmlException("Data at the root level is invalid."), typeof(AwsMalformedResponseException) },
        { new JsonException("'t' is an invalid start of a value."), typeof(AwsMalformedResponseException) },
        { new AmazonClientException("Unable to get IAM security credentials from EC2 Instance Metadata Service."), typeof(AwsUnavailableException) },
        { new HttpRequestException("Connection refused (127.0.0.1:1)"), typeof(AwsUnavailableException) },
        { new IOException("The response ended prematurely."), typeof(AwsUnavailableException) },
        { new SocketException((int)SocketError.ConnectionReset), typeof(AwsUnavailableException) },
        { new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 10 seconds elapsing."), typeof(AwsUnavailableException) },
        { new OperationCanceledException(), typeof(AwsUnavailableException) },
        { new TimeoutException(), typeof(AwsUnavailableException) },
    };

    [Theory]
    [MemberData(nameof(Mapped))]
    public void Translate_SdkOrTransportException_BecomesTheNamedExceptionKeepingTheCause(Exception error, Type expected)
    {
        var named = AwsCalls.Translate("dynamodb", "UpdateItem", error, CancellationToken.None);

        Assert.IsType(expected, named);
        Assert.Same(error, named!.InnerException);
        Assert.Equal("dynamodb", named.Service);
    }

    [Fact]
    public void Translate_ServiceError_KeepsCodeStatusAndRequestId()
    {
        var named = AwsCalls.Translate("ec2", "CreateFleet", Service("RequestLimitExceeded", HttpStatusCode.ServiceUnavailable), CancellationToken.None)!;

        Assert.Equal(("RequestLimitExceeded", 503, "req-1"), (named.Code, named.StatusCode, named.RequestId));
        Assert.StartsWith("ec2 RequestLimitExceeded: CreateFleet: it failed", named.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_NotAnAwsFailure_IsLeftAlone()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Null(AwsCalls.Translate("ec2", "DescribeInstances", new ArgumentException("a bug"), CancellationToken.None));
        Assert.Null(AwsCalls.Translate("ec2", "DescribeInstances", new AwsThrottledException("ec2", "Throttling", "x", 400, null), CancellationToken.None));
        Assert.Null(AwsCalls.Translate("ec2", "DescribeInstances", new TaskCanceledException(), cancelled.Token));
    }

    [Fact]
    public async Task RunAsync_CallersCancellation_StaysACancellation()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            AwsCalls.RunAsync("dynamodb", "GetItem", () => Task.FromCanceled<int>(cancelled.Token), cancelled.Token));
    }

    [Fact]
    public async Task StateStore_ServerThatNeverAnswers_TimesOutAsUnavailableAfterTheSdkRetries()
    {
        // Accepts connections and never answers: every attempt runs into the endpoint's timeout.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<Socket>();
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                held.Add(await silent.AcceptSocketAsync());
            }
        });
        var url = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/");
        var endpoint = MotoServer.EndpointAt(url) with { Timeout = TimeSpan.FromMilliseconds(500) };
        var store = new DynamoDbFleetStateStore(endpoint.DynamoDbClient(), "state", "prod");

        var error = await Assert.ThrowsAsync<AwsUnavailableException>(() => store.LoadAsync(default));

        Assert.Equal("Timeout", error.Code);
        Assert.Equal(AwsCalls.SdkRetries + 1, held.Count); // the SDK retried the timed-out attempts
        silent.Stop();
        held.ForEach(s => s.Dispose());
        await Assert.ThrowsAnyAsync<Exception>(() => accepting);
    }
}
