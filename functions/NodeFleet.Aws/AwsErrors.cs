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
public sealed class AwsThrottledException(string service, string code, string message, int statusCode, string? requestId)
    : AwsException(service, code, message, statusCode, requestId);

/// <summary>The service failed or could not be reached (5xx, timeouts, connection errors): retry with backoff.</summary>
public sealed class AwsUnavailableException(string service, string code, string message, int statusCode, string? requestId, Exception? inner = null)
    : AwsException(service, code, message, statusCode, requestId, inner);

/// <summary>EC2 has no capacity for the request (spot or on-demand): fall back or give up, do not retry blindly.</summary>
public sealed class InsufficientCapacityException(string service, string code, string message, int statusCode, string? requestId)
    : AwsException(service, code, message, statusCode, requestId);

/// <summary>The function's role lacks a permission: a deployment problem, never retried.</summary>
public sealed class AwsAccessDeniedException(string service, string code, string message, int statusCode, string? requestId)
    : AwsException(service, code, message, statusCode, requestId);

/// <summary>The request was refused as invalid (bad parameter, missing resource): never retried.</summary>
public sealed class AwsInvalidRequestException(string service, string code, string message, int statusCode, string? requestId)
    : AwsException(service, code, message, statusCode, requestId);

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
        "SlowDown", "BandwidthLimitExceeded", "EC2ThrottledException", "PriorRequestNotComplete",
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

    public static AwsException Classify(string service, int statusCode, string code, string message, string? requestId)
    {
        if (Throttling.Contains(code) || statusCode == 429)
        {
            return new AwsThrottledException(service, code, message, statusCode, requestId);
        }

        if (Capacity.Contains(code))
        {
            return new InsufficientCapacityException(service, code, message, statusCode, requestId);
        }

        if (AccessDenied.Contains(code) || statusCode == 403)
        {
            return new AwsAccessDeniedException(service, code, message, statusCode, requestId);
        }

        if (Unavailable.Contains(code) || statusCode >= 500)
        {
            return new AwsUnavailableException(service, code, message, statusCode, requestId);
        }

        return new AwsInvalidRequestException(service, code, message, statusCode, requestId);
    }
}
