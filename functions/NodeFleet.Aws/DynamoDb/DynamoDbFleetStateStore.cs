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
            var free = "attribute_not_exists(leaseOwner) OR leaseExpiresAt < :now OR leaseOwner = :owner";
            if (request.PreemptDrain)
            {
                free += " OR leaseRoute = :drain";
                values[":drain"] = S(nameof(WorkflowRoute.Drain));
            }

            conditions.Add($"({free})");
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

        var update = "SET leaseOwner = :owner, leaseExpiresAt = :expires, fence = if_not_exists(fence, :zero) + :one";
        if (request.Route is { } route)
        {
            update += ", leaseRoute = :route";
            values[":route"] = S(route.ToString());
        }
        else
        {
            update += " REMOVE leaseRoute";
        }

        var response = await UpdateIfAsync(new UpdateItemRequest
        {
            TableName = table,
            Key = KeyAttribute(),
            UpdateExpression = update,
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

    public Task RecordLaunchAsync(Lease lease, InFlightLaunch launch, CancellationToken cancellationToken) =>
        HolderChangeAsync(lease, "record a launch", item => new Change { Set = { ["inFlight"] = InFlightValue(FleetTransitions.LaunchStarted(FleetStateOf(item), launch)) } }, cancellationToken);

    public Task RecordUnavailablePoolsAsync(Lease lease, IReadOnlyList<Pool> failed, DateTimeOffset now, TimeSpan ttl, CancellationToken cancellationToken) =>
        HolderChangeAsync(lease, "record unavailable pools", item => new Change
        {
            Set = { ["unavailablePools"] = S(JsonSerializer.Serialize(FleetTransitions.PoolsFailed(FleetStateOf(item), failed, now, ttl).UnavailablePools.ToList(), StateJsonContext.Default.ListUnavailablePool)) },
        }, cancellationToken);

    public Task RecordAndReleaseAsync(Lease lease, ScalingOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(outcome);
        return ChangeAsync("record the outcome", Holder(lease), item =>
        {
            if (AlreadyReleasedBy(item, lease) && History(item).Any(h => h.Owner == lease.Owner && h.Fence == lease.Fence))
            {
                return GuardAnswer.Done; // a retry after a write that succeeded
            }

            return IsHolder(item, lease) ? GuardAnswer.Holds : throw NotHolder(item, lease, "record the outcome");
        }, item => Released(Recorded(item, outcome, lease.Owner, lease.Fence)), cancellationToken);
    }

    public Task ReleaseAfterLaunchAsync(Lease lease, InFlightLaunch launch, string summary, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(launch);
        return ChangeAsync("record the launch and release the lease", Holder(lease), item =>
        {
            if (AlreadyReleasedBy(item, lease) && InFlight(item).Any(l => l.LaunchId == launch.LaunchId))
            {
                return GuardAnswer.Done;
            }

            return IsHolder(item, lease) ? GuardAnswer.Holds : throw NotHolder(item, lease, "record the launch and release the lease");
        }, item =>
        {
            var after = FleetTransitions.LaunchReleased(FleetStateOf(item), launch);
            var change = new Change
            {
                Set =
                {
                    ["inFlight"] = InFlightValue(after),
                    ["lastScaleUpAt"] = N(after.LastScaleUpAt!.Value),
                    ["history"] = HistoryValue(item, new HistoryEntry(launch.StartedAt, OutcomeKind.Launching, summary, lease.Owner, lease.Fence)),
                },
            };
            return Released(change);
        }, cancellationToken);
    }

    public async Task EnsureLaunchRecordedAsync(string launchId, CancellationToken cancellationToken)
    {
        var item = await GetAsync(cancellationToken).ConfigureAwait(false) ?? [];
        if (!InFlight(item).Any(l => l.LaunchId == launchId))
        {
            throw NotRecorded(launchId);
        }
    }

    public Task<bool> RecordLaunchEndAsync(string launchId, ScalingOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var guard = new Guard("contains(inFlight, :launchId)", new() { [":launchId"] = S(launchId) });
        return ChangeAsync("record the launch's end", guard,
            item => InFlight(item).Any(l => l.LaunchId == launchId) ? GuardAnswer.Holds : GuardAnswer.Done,
            item => Recorded(item, outcome, $"launch {launchId}", Long(item, "fence")), cancellationToken);
    }

    public Task RecordPreemptedAsync(Lease lease, ScalingOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(outcome);
        // Taken over: only the history line. Expired but nobody took it: release it too, and the next
        // tick's reconcile lifts the cordon this drain left.
        return ChangeAsync("record a preempted execution", Guard.None, _ => GuardAnswer.Holds, item =>
        {
            var change = new Change { Set = { ["history"] = HistoryValue(item, new HistoryEntry(outcome.At, outcome.Kind, outcome.Summary, lease.Owner, lease.Fence)) } };
            return IsHolder(item, lease) ? Released(change) : change;
        }, cancellationToken);
    }

    private Change Recorded(Dictionary<string, AttributeValue> item, ScalingOutcome outcome, string owner, long fence)
    {
        var before = FleetStateOf(item);
        var after = FleetTransitions.Recorded(before, outcome);
        var change = new Change
        {
            Set =
            {
                ["inFlight"] = InFlightValue(after),
                ["drainBackoffs"] = S(JsonSerializer.Serialize(after.DrainBackoffs.ToList(), StateJsonContext.Default.ListDrainBackoff)),
                ["history"] = HistoryValue(item, new HistoryEntry(outcome.At, outcome.Kind, outcome.Summary, owner, fence)),
            },
        };
        if (after.LastScaleUpAt != before.LastScaleUpAt && after.LastScaleUpAt is { } up)
        {
            change.Set["lastScaleUpAt"] = N(up);
        }

        if (after.LastScaleDownAt != before.LastScaleDownAt && after.LastScaleDownAt is { } down)
        {
            change.Set["lastScaleDownAt"] = N(down);
        }

        if (!after.NoScaleUpNotified.SequenceEqual(before.NoScaleUpNotified))
        {
            change.Set["noScaleUpNotified"] = S(JsonSerializer.Serialize(after.NoScaleUpNotified.ToList(), StateJsonContext.Default.ListNoScaleUpNotice));
        }

        if (after.RepairsHeldNotifiedAt != before.RepairsHeldNotifiedAt && after.RepairsHeldNotifiedAt is { } told)
        {
            change.Set["repairsHeldNotifiedAt"] = N(told);
        }

        return change;
    }

    private static Change Released(Change change)
    {
        change.Remove.AddRange(["leaseOwner", "leaseExpiresAt", "leaseRoute"]);
        return change;
    }

    private AttributeValue HistoryValue(Dictionary<string, AttributeValue> item, HistoryEntry entry) =>
        S(JsonSerializer.Serialize(History(item).Append(entry).TakeLast(historySize).ToList(), StateJsonContext.Default.ListHistoryEntry));

    private static AttributeValue InFlightValue(FleetState state) => S(JsonSerializer.Serialize(state.InFlight.ToList(), StateJsonContext.Default.ListInFlightLaunch));

    /// <summary>What a write sets and removes (attribute names to values).</summary>
    private sealed class Change
    {
        public Dictionary<string, AttributeValue> Set { get; } = new(StringComparer.Ordinal);

        public List<string> Remove { get; } = [];
    }

    /// <summary>The condition that must still hold when the write lands, besides the revision.</summary>
    private sealed record Guard(string? Condition, Dictionary<string, AttributeValue> Values)
    {
        public static Guard None { get; } = new(null, []);
    }

    private enum GuardAnswer
    {
        /// <summary>Write the change.</summary>
        Holds,

        /// <summary>Nothing to write (already written, or nothing the caller may change).</summary>
        Done,
    }

    private static Guard Holder(Lease lease) => new("leaseOwner = :owner AND fence = :fence", new()
    {
        [":owner"] = S(lease.Owner),
        [":fence"] = new() { N = lease.Fence.ToString(CultureInfo.InvariantCulture) },
    });

    private Task HolderChangeAsync(Lease lease, string what, Func<Dictionary<string, AttributeValue>, Change> build, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return ChangeAsync(what, Holder(lease), item => IsHolder(item, lease) ? GuardAnswer.Holds : throw NotHolder(item, lease, what), build, cancellationToken);
    }

    /// <summary>
    /// Attempts of a write that keeps meeting a newer revision. Writers are few (one lease holder and
    /// the launches booting without it), so each round lets one through; jitter keeps them from meeting again.
    /// </summary>
    public const int MaxWriteAttempts = 8;

    /// <summary>
    /// Read, check, change, write: the write is conditioned on the guard and on the revision that was
    /// read, so two writers that read the same item never both land (a lease holder and a launch
    /// recording its end without the lease both rewrite the in-flight list). A newer revision means
    /// read again and redo; a guard that fails on the fresh read answers as <paramref name="check"/> says.
    /// True when the change was written, false when the check found nothing to write.
    /// </summary>
    private async Task<bool> ChangeAsync(string what, Guard guard, Func<Dictionary<string, AttributeValue>, GuardAnswer> check, Func<Dictionary<string, AttributeValue>, Change> build, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var item = await GetAsync(cancellationToken).ConfigureAwait(false) ?? [];
            if (check(item) == GuardAnswer.Done)
            {
                return false;
            }

            var change = build(item);
            var values = new Dictionary<string, AttributeValue>(guard.Values);
            var names = new Dictionary<string, string>();
            var set = new List<string>();
            foreach (var (name, value) in change.Set)
            {
                set.Add($"#{name} = :{name}");
                names[$"#{name}"] = name;
                values[$":{name}"] = value;
            }

            var revision = Long(item, "revision");
            set.Add("revision = :nextRevision");
            values[":nextRevision"] = new() { N = (revision + 1).ToString(CultureInfo.InvariantCulture) };
            var conditions = new List<string>();
            if (guard.Condition is { } condition)
            {
                conditions.Add($"({condition})");
            }

            if (item.ContainsKey("revision"))
            {
                conditions.Add("revision = :revision");
                values[":revision"] = new() { N = revision.ToString(CultureInfo.InvariantCulture) };
            }
            else
            {
                conditions.Add("attribute_not_exists(revision)");
            }

            var update = "SET " + string.Join(", ", set) + (change.Remove.Count > 0 ? " REMOVE " + string.Join(", ", change.Remove) : "");
            var response = await UpdateIfAsync(new UpdateItemRequest
            {
                TableName = table,
                Key = KeyAttribute(),
                UpdateExpression = update,
                ConditionExpression = string.Join(" AND ", conditions),
                ExpressionAttributeNames = names.Count > 0 ? names : null,
                ExpressionAttributeValues = values,
            }, cancellationToken).ConfigureAwait(false);
            if (response is not null)
            {
                return true;
            }

            if (attempt == MaxWriteAttempts)
            {
                throw new StateConflictException($"Cannot {what}: the state item of cluster {cluster} changed under each of {MaxWriteAttempts} attempts");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 25 * attempt)), cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsHolder(Dictionary<string, AttributeValue> item, Lease lease) =>
        item.TryGetValue("leaseOwner", out var o) && o.S == lease.Owner && Long(item, "fence") == lease.Fence;

    private LeaseNotHeldException NotHolder(Dictionary<string, AttributeValue> item, Lease lease, string what)
    {
        var holder = item.TryGetValue("leaseOwner", out var o) ? $"{o.S} holds it with fence {Long(item, "fence")}" : "nobody holds it";
        return new LeaseNotHeldException($"Cannot {what}: {lease.Owner} does not hold the lease of cluster {cluster} with fence {lease.Fence} ({holder})");
    }

    private LaunchNotRecordedException NotRecorded(string launchId) =>
        new($"Fenced: launch {launchId} is no longer in flight in cluster {cluster} (a later execution's reconcile expired it, or it was recorded already); nothing was changed");

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
