using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Workflow;

namespace NodeFleet.Aws.DynamoDb;

/// <summary>One line of the capped decision history kept with the lease.</summary>
public sealed record HistoryEntry(DateTimeOffset At, OutcomeKind Kind, string Summary, string Owner, long Fence);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(List<InFlightLaunch>))]
[JsonSerializable(typeof(List<HistoryEntry>))]
[JsonSerializable(typeof(List<DrainBackoff>))]
[JsonSerializable(typeof(List<UnavailablePool>))]
[JsonSerializable(typeof(List<NoScaleUpNotice>))]
internal sealed partial class StateJsonContext : JsonSerializerContext;

/// <summary>
/// The state table holds one item per cluster (<c>pk = cluster#NAME</c>): the lease (owner,
/// expiry, fencing counter), the cooldown clocks, the in-flight launches, the pools lately out of
/// capacity and a capped history.
/// Acquisition is one conditional UpdateItem, so of two executions exactly one wins; every
/// later write is conditioned on the owner and the fence, so a holder that lost its lease
/// (expired and taken over) can no longer write. Every DynamoDB failure leaves as a named
/// exception (<see cref="AwsCalls"/>); a refused condition is an answer, never an error.
/// </summary>
public sealed class DynamoDbFleetStateStore(IAmazonDynamoDB dynamo, string table, string cluster, int historySize = 20) : IFleetStateStore
{
    public const string Service = "dynamodb";

    private string Key => $"cluster#{cluster}";

    public async Task<FleetState> LoadAsync(CancellationToken cancellationToken)
    {
        var item = await GetAsync(cancellationToken).ConfigureAwait(false);
        return item is null ? FleetState.Empty : FleetStateOf(item);
    }

    private static FleetState FleetStateOf(Dictionary<string, AttributeValue> item) => new()
    {
        LastScaleUpAt = Time(item, "lastScaleUpAt"),
        LastScaleDownAt = Time(item, "lastScaleDownAt"),
        InFlight = InFlight(item),
        RepairsHeldNotifiedAt = Time(item, "repairsHeldNotifiedAt"),
        DrainBackoffs = DrainBackoffs(item),
        UnavailablePools = UnavailablePools(item),
        NoScaleUpNotified = NoScaleUpNotified(item),
    };

    public async Task EnsureHeldAsync(Lease lease, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var item = await GetAsync(cancellationToken).ConfigureAwait(false) ?? [];
        var owner = item.TryGetValue("leaseOwner", out var o) ? o.S : null;
        var fence = Long(item, "fence");
        var expires = Time(item, "leaseExpiresAt");
        if (owner != lease.Owner || fence != lease.Fence || expires is null || expires <= now)
        {
            var holder = owner is null ? "nobody holds it" : $"{owner} holds it with fence {fence} until {expires:O}";
            throw new LeaseNotHeldException($"Fenced: {lease.Owner} no longer holds the lease of cluster {cluster} with fence {lease.Fence} ({holder}); nothing was changed");
        }
    }

    public async Task<LeaseGrant> AcquireAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var values = new Dictionary<string, AttributeValue>
        {
            [":owner"] = S(request.Owner),
            [":expires"] = N(request.Now + request.Duration),
            [":now"] = N(request.Now),
            [":zero"] = new() { N = "0" },
            [":one"] = new() { N = "1" },
        };
        var conditions = new List<string>();
        if (!request.Preempt)
        {
            conditions.Add("(attribute_not_exists(leaseOwner) OR leaseExpiresAt < :now OR leaseOwner = :owner)");
        }
        else
        {
            values.Remove(":now");
        }

        if (request.Cooldown is CooldownScope.ScaleUp or CooldownScope.ScaleDown)
        {
            conditions.Add("(attribute_not_exists(lastScaleUpAt) OR lastScaleUpAt <= :upCutoff)");
            values[":upCutoff"] = N(request.Now - request.ScaleUpCooldown);
        }

        if (request.Cooldown == CooldownScope.ScaleDown)
        {
            conditions.Add("(attribute_not_exists(lastScaleDownAt) OR lastScaleDownAt <= :downCutoff)");
            values[":downCutoff"] = N(request.Now - request.ScaleDownCooldown);
        }

        var response = await UpdateIfAsync(new UpdateItemRequest
        {
            TableName = table,
            Key = KeyAttribute(),
            UpdateExpression = "SET leaseOwner = :owner, leaseExpiresAt = :expires, fence = if_not_exists(fence, :zero) + :one",
            ConditionExpression = conditions.Count == 0 ? null : string.Join(" AND ", conditions),
            ExpressionAttributeValues = values,
            ReturnValues = ReturnValue.ALL_NEW,
        }, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            var item = await GetAsync(cancellationToken).ConfigureAwait(false) ?? [];
            return new LeaseGrant(null, WhyRefused(item, request));
        }

        return new LeaseGrant(new Lease(request.Owner, Long(response.Attributes ?? [], "fence"), request.Now + request.Duration), null);
    }

    public async Task RecordLaunchAsync(Lease lease, InFlightLaunch launch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var item = await GetAsync(cancellationToken).ConfigureAwait(false) ?? [];
        var after = FleetTransitions.LaunchStarted(FleetStateOf(item), launch);
        await HolderWriteAsync(lease, "SET inFlight = :inFlight", new() { [":inFlight"] = S(JsonSerializer.Serialize(after.InFlight.ToList(), StateJsonContext.Default.ListInFlightLaunch)) }, "record a launch", cancellationToken).ConfigureAwait(false);
    }

    public async Task RecordUnavailablePoolsAsync(Lease lease, IReadOnlyList<Pool> failed, DateTimeOffset now, TimeSpan ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var item = await GetAsync(cancellationToken).ConfigureAwait(false) ?? [];
        var after = FleetTransitions.PoolsFailed(FleetStateOf(item), failed, now, ttl);
        await HolderWriteAsync(lease, "SET unavailablePools = :pools", new() { [":pools"] = S(JsonSerializer.Serialize(after.UnavailablePools.ToList(), StateJsonContext.Default.ListUnavailablePool)) }, "record unavailable pools", cancellationToken).ConfigureAwait(false);
    }

    public async Task RecordAndReleaseAsync(Lease lease, ScalingOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(outcome);
        var item = await GetAsync(cancellationToken).ConfigureAwait(false) ?? [];
        if (AlreadyReleasedBy(item, lease) && History(item).Any(h => h.Owner == lease.Owner && h.Fence == lease.Fence))
        {
            return; // a retry after a write that succeeded
        }

        var before = FleetStateOf(item);
        var after = FleetTransitions.Recorded(before, outcome);
        var history = History(item).Append(new HistoryEntry(outcome.At, outcome.Kind, outcome.Summary, lease.Owner, lease.Fence))
            .TakeLast(historySize).ToList();
        var set = new List<string> { "inFlight = :inFlight", "history = :history", "drainBackoffs = :backoffs" };
        var values = new Dictionary<string, AttributeValue>
        {
            [":inFlight"] = S(JsonSerializer.Serialize(after.InFlight.ToList(), StateJsonContext.Default.ListInFlightLaunch)),
            [":backoffs"] = S(JsonSerializer.Serialize(after.DrainBackoffs.ToList(), StateJsonContext.Default.ListDrainBackoff)),
            [":history"] = S(JsonSerializer.Serialize(history, StateJsonContext.Default.ListHistoryEntry)),
        };
        if (after.LastScaleUpAt != before.LastScaleUpAt && after.LastScaleUpAt is { } up)
        {
            set.Add("lastScaleUpAt = :up");
            values[":up"] = N(up);
        }

        if (after.LastScaleDownAt != before.LastScaleDownAt && after.LastScaleDownAt is { } down)
        {
            set.Add("lastScaleDownAt = :down");
            values[":down"] = N(down);
        }

        if (!after.NoScaleUpNotified.SequenceEqual(before.NoScaleUpNotified))
        {
            set.Add("noScaleUpNotified = :noScaleUp");
            values[":noScaleUp"] = S(JsonSerializer.Serialize(after.NoScaleUpNotified.ToList(), StateJsonContext.Default.ListNoScaleUpNotice));
        }

        if (after.RepairsHeldNotifiedAt != before.RepairsHeldNotifiedAt && after.RepairsHeldNotifiedAt is { } told)
        {
            set.Add("repairsHeldNotifiedAt = :told");
            values[":told"] = N(told);
        }

        await HolderWriteAsync(lease, $"SET {string.Join(", ", set)} REMOVE leaseOwner, leaseExpiresAt", values, "record the outcome", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An update only the holder of <paramref name="lease"/> (same owner, same fence) may make.</summary>
    private async Task HolderWriteAsync(Lease lease, string update, Dictionary<string, AttributeValue> values, string what, CancellationToken cancellationToken)
    {
        values[":owner"] = S(lease.Owner);
        values[":fence"] = new() { N = lease.Fence.ToString(CultureInfo.InvariantCulture) };
        var response = await UpdateIfAsync(new UpdateItemRequest
        {
            TableName = table,
            Key = KeyAttribute(),
            UpdateExpression = update,
            ConditionExpression = "leaseOwner = :owner AND fence = :fence",
            ExpressionAttributeValues = values,
        }, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            var item = await GetAsync(cancellationToken).ConfigureAwait(false) ?? [];
            var holder = item.TryGetValue("leaseOwner", out var o) ? $"{o.S} holds it with fence {Long(item, "fence")}" : "nobody holds it";
            throw new LeaseNotHeldException($"Cannot {what}: {lease.Owner} does not hold the lease of cluster {cluster} with fence {lease.Fence} ({holder})");
        }
    }

    /// <summary>
    /// A conditional UpdateItem: null when the condition refused it (an answer, not an error);
    /// every other failure is a named exception.
    /// </summary>
    private Task<UpdateItemResponse?> UpdateIfAsync(UpdateItemRequest request, CancellationToken cancellationToken) =>
        AwsCalls.RunAsync<UpdateItemResponse?>(Service, "UpdateItem", async () =>
        {
            try
            {
                return await dynamo.UpdateItemAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (ConditionalCheckFailedException)
            {
                return null;
            }
        }, cancellationToken);

    /// <summary>The lease is free and its last holder was this one: a release already happened.</summary>
    private static bool AlreadyReleasedBy(Dictionary<string, AttributeValue> item, Lease lease) =>
        !item.ContainsKey("leaseOwner") && item.ContainsKey("fence") && Long(item, "fence") == lease.Fence;

    private static string WhyRefused(Dictionary<string, AttributeValue> item, LeaseRequest request)
    {
        if (item.TryGetValue("leaseOwner", out var owner) && owner.S != request.Owner && Time(item, "leaseExpiresAt") is { } expires && expires >= request.Now)
        {
            return $"held by {owner.S} until {expires:O}";
        }

        if (Time(item, "lastScaleUpAt") is { } up && up + request.ScaleUpCooldown > request.Now)
        {
            return $"scale-up cooldown runs until {up + request.ScaleUpCooldown:O}";
        }

        return Time(item, "lastScaleDownAt") is { } down && down + request.ScaleDownCooldown > request.Now
            ? $"scale-down cooldown runs until {down + request.ScaleDownCooldown:O}"
            : "refused by the state table's condition";
    }

    private async Task<Dictionary<string, AttributeValue>?> GetAsync(CancellationToken cancellationToken)
    {
        var response = await AwsCalls.RunAsync(Service, "GetItem",
            () => dynamo.GetItemAsync(new GetItemRequest { TableName = table, Key = KeyAttribute(), ConsistentRead = true }, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    private Dictionary<string, AttributeValue> KeyAttribute() => new() { ["pk"] = S(Key) };

    private static List<InFlightLaunch> InFlight(Dictionary<string, AttributeValue> item) =>
        item.TryGetValue("inFlight", out var v) && v.S is { } json
            ? JsonSerializer.Deserialize(json, StateJsonContext.Default.ListInFlightLaunch) ?? []
            : [];

    private static List<DrainBackoff> DrainBackoffs(Dictionary<string, AttributeValue> item) =>
        item.TryGetValue("drainBackoffs", out var v) && v.S is { } json
            ? JsonSerializer.Deserialize(json, StateJsonContext.Default.ListDrainBackoff) ?? []
            : [];

    private static List<NoScaleUpNotice> NoScaleUpNotified(Dictionary<string, AttributeValue> item) =>
        item.TryGetValue("noScaleUpNotified", out var v) && v.S is { } json
            ? JsonSerializer.Deserialize(json, StateJsonContext.Default.ListNoScaleUpNotice) ?? []
            : [];

    private static List<UnavailablePool> UnavailablePools(Dictionary<string, AttributeValue> item) =>
        item.TryGetValue("unavailablePools", out var v) && v.S is { } json
            ? JsonSerializer.Deserialize(json, StateJsonContext.Default.ListUnavailablePool) ?? []
            : [];

    private static List<HistoryEntry> History(Dictionary<string, AttributeValue> item) =>
        item.TryGetValue("history", out var v) && v.S is { } json
            ? JsonSerializer.Deserialize(json, StateJsonContext.Default.ListHistoryEntry) ?? []
            : [];

    private static AttributeValue S(string value) => new() { S = value };

    private static AttributeValue N(DateTimeOffset time) => new() { N = time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) };

    private static DateTimeOffset? Time(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var v) && v.N is { } n ? DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(n, CultureInfo.InvariantCulture)) : null;

    private static long Long(Dictionary<string, AttributeValue> item, string name) =>
        item.TryGetValue(name, out var v) && v.N is { } n ? long.Parse(n, CultureInfo.InvariantCulture) : 0;
}
