using System.Text.Json;
using NodeFleet.Core.Errors;

namespace NodeFleet.Core.Contracts;

public enum TriggerKind
{
    /// <summary>The EventBridge schedule: measure and decide.</summary>
    Schedule,

    /// <summary>EC2 Spot Instance Interruption Warning: about two minutes left.</summary>
    SpotInterruption,

    /// <summary>EC2 Instance Rebalance Recommendation: elevated risk of interruption.</summary>
    Rebalance,

    /// <summary>EC2 Instance State-change Notification (stopping, stopped, shutting-down, terminated).</summary>
    StateChange,

    /// <summary>
    /// The fast path: Prometheus' pending-pods alert, routed by Alertmanager through SNS, SQS and an
    /// EventBridge Pipe (<see cref="FastPath"/>). Measured and decided like a tick, seconds after the pods became unschedulable.
    /// </summary>
    PendingPods,
}

/// <summary>
/// Where NodeFleet runs. An EC2 event is acted on only when EC2 (<c>source</c> aws.ec2) sent it in
/// this account and region: anyone allowed to start executions could otherwise forge a spot
/// warning that drains and terminates a worker.
/// </summary>
public sealed record EventOrigin(string Account, string Region)
{
    public const string Ec2Source = "aws.ec2";
}

/// <summary>What started the execution.</summary>
public sealed record Trigger
{
    public required TriggerKind Kind { get; init; }

    /// <summary>The instance an EC2 event is about.</summary>
    public string? InstanceId { get; init; }

    /// <summary>For a state change, the new state.</summary>
    public string? State { get; init; }

    /// <summary>For the fast path, how many pods the alert named as unschedulable (the largest of a batch).</summary>
    public int? PendingPods { get; init; }

    public DateTimeOffset? Time { get; init; }

    /// <summary>An EC2 event about one instance: handled at once, without measuring the cluster.</summary>
    public bool IsInterruption => Kind is TriggerKind.SpotInterruption or TriggerKind.Rebalance or TriggerKind.StateChange;

    public static Trigger Schedule => new() { Kind = TriggerKind.Schedule };

    private static readonly string[] StoppingStates = ["stopping", "stopped", "shutting-down", "terminated"];

    /// <summary>
    /// Reads the execution input as EventBridge delivers it. An empty object, or a scheduled
    /// event, is a tick; the three EC2 events carry <c>detail.instance-id</c>; the fast path's
    /// Pipe delivers an array of pending-pods events (one per SQS message of the batch), read as
    /// one trigger. An EC2 event must come from EC2 in <paramref name="origin"/>'s account and region and carry its
    /// time (how old it is decides whether it is still acted on). Anything else is refused with
    /// <see cref="InvalidInputException"/> before anything is touched.
    /// </summary>
    public static Trigger Parse(JsonElement input, EventOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        if (input.ValueKind == JsonValueKind.Array)
        {
            return PendingPodsBatch(input, origin);
        }

        if (input.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException($"Invalid trigger: the execution input is a JSON {input.ValueKind}, expected an object");
        }

        if (!input.TryGetProperty("detail-type", out var detailType))
        {
            // Only an empty object is a tick: anything else without detail-type (a lone source,
            // a hand-written payload) is not an event NodeFleet knows, and guessing would scale on it.
            return input.EnumerateObject().Any()
                ? throw new InvalidInputException("Invalid trigger: an object without detail-type is not an EventBridge event (send {} for a tick)")
                : Schedule;
        }

        if (detailType.ValueKind != JsonValueKind.String)
        {
            throw new InvalidInputException($"Invalid trigger: $.detail-type is a JSON {detailType.ValueKind}, expected a string");
        }

        var time = input.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(t.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : (DateTimeOffset?)null;
        var kind = detailType.GetString() switch
        {
            "Scheduled Event" => TriggerKind.Schedule,
            "EC2 Spot Instance Interruption Warning" => TriggerKind.SpotInterruption,
            "EC2 Instance Rebalance Recommendation" => TriggerKind.Rebalance,
            "EC2 Instance State-change Notification" => TriggerKind.StateChange,
            FastPath.DetailType => TriggerKind.PendingPods,
            var other => throw new InvalidInputException($"Invalid trigger: $.detail-type '{other}' is not one NodeFleet handles"),
        };
        if (kind == TriggerKind.Schedule)
        {
            return Schedule with { Time = time };
        }

        if (kind == TriggerKind.PendingPods)
        {
            return PendingPodsEvent(input, time);
        }

        Trusted(input, detailType.GetString()!, origin, time);
        if (!input.TryGetProperty("detail", out var detail) || detail.ValueKind != JsonValueKind.Object
            || !detail.TryGetProperty("instance-id", out var id) || id.ValueKind != JsonValueKind.String || !(id.GetString() ?? "").StartsWith("i-", StringComparison.Ordinal))
        {
            throw new InvalidInputException($"Invalid trigger: $.detail.instance-id is missing or not an instance id in a '{detailType.GetString()}' event");
        }

        string? state = null;
        if (kind == TriggerKind.StateChange)
        {
            state = detail.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            if (state is null || !StoppingStates.Contains(state))
            {
                throw new InvalidInputException($"Invalid trigger: $.detail.state '{state}' is not a state NodeFleet acts on ({string.Join(", ", StoppingStates)})");
            }
        }

        return new Trigger { Kind = kind, InstanceId = id.GetString(), State = state, Time = time };
    }

    /// <summary>An EC2 event NodeFleet acts on: sent by EC2, in this account and region, with the time it happened.</summary>
    private static void Trusted(JsonElement input, string detailType, EventOrigin origin, DateTimeOffset? time)
    {
        string? Field(string name) => input.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (Field("source") is var source && source != EventOrigin.Ec2Source)
        {
            throw new InvalidInputException($"Untrusted trigger: a '{detailType}' event must come from source '{EventOrigin.Ec2Source}', not {Quoted(source)}");
        }

        if (Field("account") is var account && account != origin.Account)
        {
            throw new InvalidInputException($"Untrusted trigger: a '{detailType}' event from account {Quoted(account)}; NodeFleet acts only on its own account's ({origin.Account})");
        }

        if (Field("region") is var region && region != origin.Region)
        {
            throw new InvalidInputException($"Untrusted trigger: a '{detailType}' event from region {Quoted(region)}; NodeFleet acts only on its own region's ({origin.Region})");
        }

        if (time is null)
        {
            throw new InvalidInputException($"Invalid trigger: $.time is missing or not a time in a '{detailType}' event (its age decides whether it is acted on)");
        }
    }

    private static string Quoted(string? value) => value is null ? "(none)" : $"'{value}'";

    private static Trigger PendingPodsBatch(JsonElement batch, EventOrigin origin)
    {
        if (batch.GetArrayLength() == 0)
        {
            throw new InvalidInputException("Invalid trigger: the execution input is an empty array (a Pipe batch holds at least one event)");
        }

        var events = batch.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.Object ? Parse(e, origin) : throw new InvalidInputException($"Invalid trigger: $[{i}] is a JSON {e.ValueKind}, expected a pending-pods event")).ToList();
        if (events.FirstOrDefault(e => e.Kind != TriggerKind.PendingPods) is { } other)
        {
            throw new InvalidInputException($"Invalid trigger: an array of events must hold only '{FastPath.DetailType}' events (the fast path's batch), not {other.Kind}");
        }

        return new Trigger { Kind = TriggerKind.PendingPods, PendingPods = events.Max(e => e.PendingPods), Time = events.Min(e => e.Time) };
    }

    private static Trigger PendingPodsEvent(JsonElement input, DateTimeOffset? time)
    {
        if (!input.TryGetProperty("source", out var source) || source.ValueKind != JsonValueKind.String || source.GetString() != FastPath.Source)
        {
            throw new InvalidInputException($"Invalid trigger: a '{FastPath.DetailType}' event must come from source '{FastPath.Source}'");
        }

        if (!input.TryGetProperty("detail", out var detail) || detail.ValueKind != JsonValueKind.Object
            || !detail.TryGetProperty("firing", out var firing) || firing.ValueKind != JsonValueKind.Number || !firing.TryGetInt32(out var count) || count < 1)
        {
            throw new InvalidInputException($"Invalid trigger: $.detail.firing must be a whole number of at least 1 in a '{FastPath.DetailType}' event (the Pipe's filter drops the rest)");
        }

        return new Trigger { Kind = TriggerKind.PendingPods, PendingPods = count, Time = time };
    }
}
