using System.Net.Sockets;
using System.Text.Json;
using System.Xml;
using Amazon.Runtime;
using Amazon.Runtime.Internal;

namespace NodeFleet.Aws;

/// <summary>
/// An AWS API error, classified so the state machine can Retry the transient kinds and Catch
/// the rest. The class name is the Step Functions error name.
/// </summary>
public abstract class AwsException(string service, string code, string message, int statusCode, string? requestId, Exception? inner = null)
    : Exception($"{service} {code}: {message}" + (requestId is null ? "" : $" (request {requestId})"), inner)
{
    public string Service { get; } = service;

    /// <summary>The AWS error code, e.g. <c>RequestLimitExceeded</c>.</summary>
    public string Code { get; } = code;

    public int StatusCode { get; } = statusCode;

    public string? RequestId { get; } = requestId;
}

/// <summary>Throttled: retry with backoff.</summary>
public sealed class AwsThrottledException(string service, string code, string message, int statusCode, string? requestId, Exception? inner = null)
    : AwsException(service, code, message, statusCode, requestId, inner);

/// <summary>The service failed or could not be reached (5xx, timeouts, connection errors): retry with backoff.</summary>
public sealed class AwsUnavailableException(string service, string code, string message, int statusCode, string? requestId, Exception? inner = null)
    : AwsException(service, code, message, statusCode, requestId, inner);

/// <summary>EC2 has no capacity for the request (spot or on-demand): fall back or give up, do not retry blindly.</summary>
public sealed class InsufficientCapacityException(string service, string code, string message, int statusCode, string? requestId, Exception? inner = null)
    : AwsException(service, code, message, statusCode, requestId, inner);

/// <summary>The function's role lacks a permission: a deployment problem, never retried.</summary>
public sealed class AwsAccessDeniedException(string service, string code, string message, int statusCode, string? requestId, Exception? inner = null)
    : AwsException(service, code, message, statusCode, requestId, inner);

/// <summary>The request was refused as invalid (bad parameter, missing resource): never retried.</summary>
public sealed class AwsInvalidRequestException(string service, string code, string message, int statusCode, string? requestId, Exception? inner = null)
    : AwsException(service, code, message, statusCode, requestId, inner);

/// <summary>
/// A parameter NodeFleet reads by name (SSM Parameter Store) does not exist: the master has not
/// written it yet, or the deployment names the wrong one. Never retried by the state machine.
/// </summary>
public sealed class AwsParameterNotFoundException(string name, string? requestId, Exception? inner = null)
    : AwsException("ssm", "ParameterNotFound", $"parameter {name} does not exist", 400, requestId, inner)
{
    public string Name { get; } = name;
}

/// <summary>The service answered with something that is not the documented response.</summary>
public sealed class AwsMalformedResponseException(string service, string message, int statusCode, Exception? inner = null)
    : AwsException(service, "MalformedResponse", message, statusCode, null, inner);

/// <summary>Maps AWS error codes and HTTP status to the named exceptions above.</summary>
public static class AwsErrorClassifier
{
    private static readonly HashSet<string> Throttling = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded", "RequestThrottled",
        "RequestThrottledException", "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "SlowDown", "BandwidthLimitExceeded", "EC2ThrottledException", "PriorRequestNotComplete", "TooManyUpdates",
    };

    /// <summary>The capacity codes EC2 Fleet reports per pool (spot and on-demand).</summary>
    public static readonly IReadOnlySet<string> Capacity = new HashSet<string>(StringComparer.Ordinal)
    {
        "InsufficientInstanceCapacity", "InsufficientCapacity", "InsufficientHostCapacity",
        "InsufficientReservedInstanceCapacity", "MaxSpotInstanceCountExceeded", "SpotMaxPriceTooLow",
        "UnfulfillableCapacity", "InstanceLimitExceeded", "VcpuLimitExceeded", "MaxSpotFleetRequestCountExceeded",
        "InsufficientFreeAddressesInSubnet",
    };

    private static readonly HashSet<string> AccessDenied = new(StringComparer.Ordinal)
    {
        "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthFailure", "AuthorizationError",
        "UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
        "ExpiredTokenException", "OptInRequired", "Blocked",
    };

    private static readonly HashSet<string> Unavailable = new(StringComparer.Ordinal)
    {
        "InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException",
        "Unavailable", "RequestTimeout", "RequestTimeoutException", "InternalServiceError",
    };

    public static AwsException Classify(string service, int statusCode, string code, string message, string? requestId, Exception? inner = null)
    {
        if (Throttling.Contains(code) || statusCode == 429)
        {
            return new AwsThrottledException(service, code, message, statusCode, requestId, inner);
        }

        if (Capacity.Contains(code))
        {
            return new InsufficientCapacityException(service, code, message, statusCode, requestId, inner);
        }

        if (AccessDenied.Contains(code) || statusCode == 403)
        {
            return new AwsAccessDeniedException(service, code, message, statusCode, requestId, inner);
        }

        if (Unavailable.Contains(code) || statusCode >= 500)
        {
            return new AwsUnavailableException(service, code, message, statusCode, requestId, inner);
        }

        return new AwsInvalidRequestException(service, code, message, statusCode, requestId, inner);
    }
}

/// <summary>
/// The one place that knows the AWS SDKs' exception types: every call through the SDKs (and the
/// transport of the hand-written signed clients) runs through <see cref="RunAsync{T}"/>, so
/// nothing but the named exceptions above leaves an adapter.
/// </summary>
public static class AwsCalls
{
    /// <summary>
    /// How often an SDK client retries a throttled, 5xx or dropped call itself before the named
    /// exception reaches the state machine, whose Retry (with backoff and jitter) is the main one.
    /// </summary>
    public const int SdkRetries = 2;

    /// <summary>
    /// The most the SDK's standard retry mode waits before its retries, together: retry i waits a
    /// random share of min(2^i s, 20 s), so 2 s + 4 s for <see cref="SdkRetries"/> = 2.
    /// </summary>
    public static readonly TimeSpan MaxRetryDelays = TimeSpan.FromSeconds(Enumerable.Range(1, SdkRetries).Sum(i => Math.Min(Math.Pow(2, i), 20)));

    /// <summary>
    /// Work whose number of calls is not fixed (pages, pools asked one after another) within an
    /// overall <paramref name="budget"/>: running out is <see cref="AwsUnavailableException"/>
    /// (code <c>Deadline</c>, retried by the state machine), never a silent Lambda timeout.
    /// </summary>
    public static async Task<T> WithinAsync<T>(string service, string what, TimeSpan budget, Func<CancellationToken, Task<T>> work, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var deadline = new CancellationTokenSource(budget, clock ?? TimeProvider.System);
        try
        {
            return await work(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested)
        {
            throw new AwsUnavailableException(service, "Deadline", $"{what} did not finish within its {budget.TotalSeconds:0.#} s budget", 0, null, e);
        }
    }

    public static async Task<T> RunAsync<T>(string service, string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(service, operation, e, cancellationToken) is { } named)
        {
            throw named;
        }
    }

    public static Task RunAsync(string service, string operation, Func<Task> call, CancellationToken cancellationToken) =>
        RunAsync(service, operation, async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>
    /// The named exception for <paramref name="error"/>, or null for what is not an AWS failure:
    /// our own named exceptions, the caller's cancellation, and programming errors stay as they are.
    /// </summary>
    public static AwsException? Translate(string service, string operation, Exception error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error switch
        {
            AwsException => null,
            OperationCanceledException when cancellationToken.IsCancellationRequested => null,
            AmazonUnmarshallingException e => Unreadable(service, operation, (int)e.StatusCode, e),
            AmazonServiceException e when e.StatusCode == 0 && e.ErrorCode is null => Unreachable(service, operation, e),
            AmazonServiceException e => AwsErrorClassifier.Classify(service, (int)e.StatusCode, e.ErrorCode ?? $"Http{(int)e.StatusCode}",
                $"{operation}: {e.Message}", e.RequestId, e),
            HttpErrorResponseException e => Unreadable(service, operation, (int)e.Response.StatusCode, e),

            // The SDKs' parsers throw these raw when a successful response is not XML or JSON.
            XmlException or JsonException => new AwsMalformedResponseException(service, $"{operation} returned a body that is not the documented response: {error.Message}", 200, error),
            OperationCanceledException or TimeoutException => new AwsUnavailableException(service, "Timeout", $"{operation} timed out: {error.Message}", 0, null, error),
            AmazonClientException or HttpRequestException or IOException or SocketException => Unreachable(service, operation, error),
            _ => null,
        };
    }

    private static AwsUnavailableException Unreachable(string service, string operation, Exception error) =>
        new(service, "NetworkError", $"{operation} could not reach {service}: {error.Message}", 0, null, error);

    /// <summary>A response the SDK could not read: a proxy's error page when 5xx or 429, else not the documented shape.</summary>
    private static AwsException Unreadable(string service, string operation, int status, Exception error) =>
        status >= 500 || status == 429
            ? AwsErrorClassifier.Classify(service, status, $"Http{status}", $"{operation} failed with HTTP {status}", null, error)
            : new AwsMalformedResponseException(service, $"{operation} returned HTTP {status} with a body that is not the documented response: {error.Message}", status, error);
}
