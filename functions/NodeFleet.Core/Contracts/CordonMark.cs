using System.Globalization;

namespace NodeFleet.Core.Contracts;

/// <summary>Why NodeFleet cordoned a node.</summary>
public enum CordonReason
{
    /// <summary>A scale-down drain: the node goes once its pods are gone.</summary>
    ScaleDown,

    /// <summary>An interruption drain (spot warning, rebalance recommendation, stopping).</summary>
    Interruption,

    /// <summary>
    /// A rebalance recommendation or <c>stopping</c> whose pods could not all be evicted: its
    /// replacement was launched and the node stays cordoned until the real spot warning.
    /// </summary>
    AwaitingInterruption,
}

/// <summary>
/// The mark NodeFleet leaves on a node it cordons, as three annotations written in the same PATCH
/// as <c>spec.unschedulable</c> and removed with the uncordon: which execution, why and when. A
/// cordon without it is someone else's (an operator's) and NodeFleet leaves it alone.
/// </summary>
public sealed record CordonMark
{
    public const string CordonedByAnnotation = "nodefleet.io/cordoned-by";
    public const string ReasonAnnotation = "nodefleet.io/cordon-reason";
    public const string AtAnnotation = "nodefleet.io/cordoned-at";

    public static IReadOnlyList<string> Annotations { get; } = [CordonedByAnnotation, ReasonAnnotation, AtAnnotation];

    /// <summary>The Step Functions execution that cordoned the node.</summary>
    public required string ExecutionId { get; init; }

    public required CordonReason Reason { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>The annotations as written (the time in RFC 3339, UTC, whole seconds as the API keeps times).</summary>
    public IReadOnlyDictionary<string, string> ToAnnotations() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [CordonedByAnnotation] = ExecutionId,
        [ReasonAnnotation] = Reason.ToString(),
        [AtAnnotation] = At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
    };

    /// <summary>The mark, or null when the node carries none (or a damaged one: a cordon NodeFleet cannot vouch for is not treated as its own).</summary>
    public static CordonMark? FromAnnotations(IReadOnlyDictionary<string, string> annotations)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        return annotations.TryGetValue(CordonedByAnnotation, out var execution) && execution.Length > 0
            && annotations.TryGetValue(ReasonAnnotation, out var reasonText) && Enum.TryParse<CordonReason>(reasonText, ignoreCase: false, out var reason) && Enum.IsDefined(reason)
            && annotations.TryGetValue(AtAnnotation, out var atText)
            && DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? new CordonMark { ExecutionId = execution, Reason = reason, At = at }
            : null;
    }
}
