using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;

namespace NodeFleet.Aws.Ec2;

/// <summary>Refused to terminate instances that are not this cluster's managed workers; nothing was terminated.</summary>
public sealed class TerminationRefusedException(string message) : Exception(message);

/// <summary>
/// The cluster's workers as EC2 Fleet instances. Launches are balanced over zones and split
/// between spot and on-demand by the spot share; each CreateFleet asks one capacity type in one
/// zone, over the instance types. What spot cannot supply is asked on demand at once; what a zone
/// cannot supply is asked in the other zones, fewest workers first; pools lately out of capacity
/// (<see cref="LaunchRequest.TryLast"/>) are asked only when nothing else could supply the launch.
/// A launch id makes a retried launch add only what is still missing. Also what the workers' spot
/// pools cost now.
/// </summary>
public sealed class Ec2ComputeFleet(IEc2Api ec2, FleetSettings settings, TimeProvider? clock = null) : IComputeFleet, ISpotPrices
{
    private static readonly string[] LiveStates = ["pending", "running"];

    /// <summary>
    /// Codes that mean "this pool has no capacity for us now" (EC2's error codes for CreateFleet, as
    /// fast-failover tools treat them): the pool is left for this launch and remembered as unavailable.
    /// Besides <see cref="AwsErrorClassifier.Capacity"/>: Unsupported, the type is not offered in that zone.
    /// </summary>
    public static readonly IReadOnlySet<string> PoolUnavailableCodes = new HashSet<string>(AwsErrorClassifier.Capacity.Append("Unsupported"), StringComparer.Ordinal);

    private readonly TimeProvider clock = clock ?? TimeProvider.System;

    public async Task<LaunchResult> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var managed = await DescribeManagedAsync(cancellationToken).ConfigureAwait(false);

        // Emulators ignore client tokens, and a retry may follow a partial success:
        // instances already tagged with this launch id count as launched.
        var mine = managed.Where(i => i.LaunchId == request.LaunchId).ToList();
        var others = managed.Where(i => i.LaunchId != request.LaunchId).ToList();
        var zones = settings.Subnets.Select(s => s.Zone).ToList();

        // Only what is still missing is planned, over every instance that runs (the launch's own
        // included, wherever an earlier attempt's fallback put them), so a retry never exceeds the count.
        // Nodes pinned to a zone (their pods can run only there) are planned there first; the rest by zone balance.
        var missingTotal = Math.Max(0, request.Count - mine.Count);
        var pinned = zones.ToDictionary(z => z, z => Math.Max(0, request.Zones.GetValueOrDefault(z) - mine.Count(i => i.Zone == z)));
        var over = pinned.Values.Sum() - missingTotal;
        foreach (var zone in zones.AsEnumerable().Reverse())
        {
            var cut = Math.Min(Math.Max(0, over), pinned[zone]);
            pinned[zone] -= cut;
            over -= cut;
        }

        var counts = zones.ToDictionary(z => z, z => managed.Count(i => i.Zone == z) + pinned[z]);
        var balanced = ZoneBalancer.Plan(missingTotal - pinned.Values.Sum(), zones, counts);

        var launch = new Attempt(settings, TryCreateAsync, request, mine);

        // 1. Each zone its planned share; pools lately out of capacity are left for later.
        var (planned, spotPlanned, carried) = (0, 0, 0);
        var pinnedShort = zones.ToDictionary(z => z, _ => 0);
        foreach (var (zone, subnet) in settings.Subnets)
        {
            var missing = pinned[zone] + balanced[zone];
            if (missing == 0)
            {
                continue;
            }

            // The spot share applies to the whole launch: rounding per zone would drift (3.5 + 3.5 -> 8 of 10).
            planned += missing;
            var spot = Spot(planned) - spotPlanned;
            spotPlanned += spot;
            var shortfall = await launch.FillZoneAsync(zone, subnet, missing, spot, tryLast: false, cancellationToken).ConfigureAwait(false);

            // What a zone could not supply moves to other zones only for nodes that are not pinned to it.
            pinnedShort[zone] = Math.Max(0, shortfall - balanced[zone]);
            carried += shortfall - pinnedShort[zone];
        }

        // 2. What a zone could not supply, in the other zones (fewest workers first), then
        // 3. in the pools lately out of capacity: they may be all there is. Pinned nodes stay in their zone.
        foreach (var tryLast in request.TryLast.Count > 0 ? [false, true] : new[] { false })
        {
            var byLoad = settings.Subnets
                .OrderBy(s => others.Count(i => i.Zone == s.Zone) + launch.Launched.Count(i => i.Zone == s.Zone))
                .ToList();
            foreach (var (zone, subnet) in byLoad)
            {
                if (tryLast && pinnedShort[zone] > 0)
                {
                    pinnedShort[zone] = await launch.FillZoneAsync(zone, subnet, pinnedShort[zone], Spot(pinnedShort[zone]), tryLast, cancellationToken).ConfigureAwait(false);
                }

                if (carried == 0)
                {
                    continue;
                }

                carried = await launch.FillZoneAsync(zone, subnet, carried, Spot(carried), tryLast, cancellationToken).ConfigureAwait(false);
            }
        }

        return new LaunchResult(launch.Launched, launch.Errors) { FailedPools = launch.Failures };
    }

    private int Spot(int count) => CapacitySplit.SpotCount(count, settings.SpotShare);

    /// <summary>One launch's requests: what it holds, the pools that refused it, and what it still may ask.</summary>
    private sealed class Attempt(FleetSettings settings, Func<FleetLaunchRequest, CancellationToken, Task<FleetLaunch>> create, LaunchRequest request, IReadOnlyList<ManagedInstance> mine)
    {
        private readonly HashSet<Pool> refused = [];
        private readonly HashSet<Pool> tryLast = [.. request.TryLast];

        public List<ManagedInstance> Launched { get; } = [.. mine];

        public List<string> Errors { get; } = [];

        public List<PoolFailure> Failures { get; } = [];

        /// <summary>Spot first, on demand for the rest and for what spot could not supply; returns what the zone could not supply.</summary>
        public async Task<int> FillZoneAsync(string zone, string subnet, int count, int spot, bool tryLast, CancellationToken cancellationToken)
        {
            var spotShort = spot > 0 ? await AskAsync(zone, subnet, CapacityType.Spot, spot, tryLast, cancellationToken).ConfigureAwait(false) : 0;
            var onDemand = count - spot + spotShort;
            return onDemand > 0 ? await AskAsync(zone, subnet, CapacityType.OnDemand, onDemand, tryLast, cancellationToken).ConfigureAwait(false) : 0;
        }

        /// <summary>One CreateFleet of one capacity type in one zone over the types still worth asking; returns the shortfall.</summary>
        private async Task<int> AskAsync(string zone, string subnet, CapacityType capacity, int count, bool includeTryLast, CancellationToken cancellationToken)
        {
            var pools = settings.InstanceTypes.Select(t => new Pool(t, zone, capacity))
                .Where(p => !refused.Contains(p) && (includeTryLast || !tryLast.Contains(p)))
                .ToList();
            if (pools.Count == 0)
            {
                return count;
            }

            var (spot, onDemand) = capacity == CapacityType.Spot ? (count, 0) : (0, count);
            var overrides = pools.Select(p => new FleetOverride(p.InstanceType, subnet)).ToList();
            var result = await create(new FleetLaunchRequest(
                ClientToken(request.LaunchId, Launched.Count, overrides, spot, onDemand),
                settings.LaunchTemplateId,
                settings.LaunchTemplateVersion,
                overrides,
                spot,
                onDemand,
                Tags(settings, request.LaunchId)), cancellationToken).ConfigureAwait(false);

            Launched.AddRange(result.Instances.Select(i => new ManagedInstance(
                i.InstanceId, zone, i.InstanceType, i.Lifecycle == "spot" ? CapacityType.Spot : CapacityType.OnDemand, "pending", request.LaunchId, DateTimeOffset.MinValue)));
            foreach (var error in result.Errors)
            {
                Errors.Add($"{zone} {Lifecycle(capacity)} {error.InstanceType ?? "any type"}: {error.Code} {error.Message}".TrimEnd());

                // An error without a type (the whole request refused) refuses every pool asked.
                foreach (var pool in error.InstanceType is { } type ? [new Pool(type, zone, capacity)] : pools)
                {
                    refused.Add(pool);
                    Failures.Add(new PoolFailure(pool, error.Code, error.Message, PoolUnavailableCodes.Contains(error.Code)));
                }
            }

            var shortfall = count - result.Instances.Count;
            if (shortfall > 0 && result.Errors.Count == 0)
            {
                // Fewer than asked and no reason given: asking these pools again would only repeat it.
                refused.UnionWith(pools);
            }

            return Math.Max(0, shortfall);
        }
    }

    private async Task<FleetLaunch> TryCreateAsync(FleetLaunchRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await ec2.CreateInstantFleetAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsException e) when (e is InsufficientCapacityException || PoolUnavailableCodes.Contains(e.Code))
        {
            // A whole-request refusal is reported like a per-pool one: the other pools and zones are asked next.
            return new FleetLaunch([], [new FleetPoolError(e.Code, e.Message, request.SpotCount > 0 ? "spot" : "on-demand", null, request.Overrides[0].SubnetId)]);
        }
    }

    private static Dictionary<string, string> Tags(FleetSettings settings, string launchId) => new()
    {
        [FleetTags.Managed] = "true",
        [FleetTags.Cluster] = settings.ClusterName,
        [FleetTags.LaunchId] = launchId,
        ["Name"] = $"{settings.ClusterName}-worker",
    };

    private static string Lifecycle(CapacityType capacity) => capacity == CapacityType.Spot ? "spot" : "on-demand";

    /// <summary>
    /// EC2's idempotency token (at most 64 ASCII characters), from everything that makes the
    /// request: the launch, how many instances it already holds, the pools (type and subnet) and
    /// the spot and on-demand counts. The same request retried (an SDK retry, or a step retry that
    /// does not see the first answer's instances yet) sends the same token and gets EC2's first
    /// answer; a different request never reuses one, so EC2 never refuses it as a mismatch.
    /// </summary>
    public static string ClientToken(string launchId, int held, IReadOnlyList<FleetOverride> overrides, int spot, int onDemand)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var pools = string.Join(",", overrides.Select(o => $"{o.InstanceType}@{o.SubnetId}").Order(StringComparer.Ordinal));
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("|", launchId, held.ToString(CultureInfo.InvariantCulture), pools, spot.ToString(CultureInfo.InvariantCulture), onDemand.ToString(CultureInfo.InvariantCulture))));
        return "nodefleet-" + Convert.ToHexStringLower(hash)[..40];
    }

    public async Task<IReadOnlyList<ManagedInstance>> DescribeManagedAsync(CancellationToken cancellationToken)
    {
        var instances = await ec2.DescribeInstancesAsync(
        [
            new Ec2Filter($"tag:{FleetTags.Cluster}", settings.ClusterName),
            new Ec2Filter($"tag:{FleetTags.Managed}", "true"),
            new Ec2Filter("instance-state-name", LiveStates),
        ], [], cancellationToken).ConfigureAwait(false);
        return instances.Select(ToManaged).ToList();
    }

    public async Task TerminateAsync(IReadOnlyList<string> instanceIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceIds);
        if (instanceIds.Count == 0)
        {
            return;
        }

        var found = await DescribeExistingAsync(instanceIds, cancellationToken).ConfigureAwait(false);
        var refused = found.Where(i => !IsOurWorker(i)).ToList();
        if (refused.Count > 0)
        {
            throw new TerminationRefusedException(
                $"Refusing to terminate {string.Join(", ", refused.Select(Describe))}: only instances tagged {FleetTags.Managed}=true and {FleetTags.Cluster}={settings.ClusterName} (and not the control plane) may be terminated; nothing was terminated");
        }

        var live = found.Where(i => i.State is not ("terminated" or "shutting-down")).Select(i => i.InstanceId).ToList();
        if (live.Count > 0)
        {
            await ec2.TerminateInstancesAsync(live, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Describes the ids that exist; ids EC2 no longer knows are already gone, which is success.</summary>
    private async Task<IReadOnlyList<Ec2Instance>> DescribeExistingAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        try
        {
            return await ec2.DescribeInstancesAsync([], ids, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsInvalidRequestException e) when (e.Code == "InvalidInstanceID.NotFound" && ids.Count > 1)
        {
            var found = new List<Ec2Instance>();
            foreach (var id in ids)
            {
                found.AddRange(await DescribeExistingAsync([id], cancellationToken).ConfigureAwait(false));
            }

            return found;
        }
        catch (AwsInvalidRequestException e) when (e.Code == "InvalidInstanceID.NotFound")
        {
            return [];
        }
    }

    public async Task<IReadOnlyList<SpotPriceQuote>> CurrentAsync(CancellationToken cancellationToken)
    {
        var zones = settings.Subnets.Select(s => s.Zone).ToList();
        var history = await ec2.DescribeSpotPricesAsync(settings.InstanceTypes, zones, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);

        // The history may hold several changes of one pool: the latest is the price now.
        return history
            .GroupBy(p => (p.InstanceType, p.Zone))
            .Select(g => g.MaxBy(p => p.Since)!)
            .OrderBy(p => p.InstanceType, StringComparer.Ordinal).ThenBy(p => p.Zone, StringComparer.Ordinal)
            .Select(p => new SpotPriceQuote(p.InstanceType, p.Zone, p.PricePerHour, p.Since))
            .ToList();
    }

    private bool IsOurWorker(Ec2Instance instance) =>
        instance.Tags.GetValueOrDefault(FleetTags.Managed) == "true"
        && instance.Tags.GetValueOrDefault(FleetTags.Cluster) == settings.ClusterName
        && !instance.Tags.ContainsKey(FleetTags.Role);

    private static string Describe(Ec2Instance i) =>
        i.Tags.TryGetValue(FleetTags.Role, out var role) ? $"{i.InstanceId} ({role})" : $"{i.InstanceId} (not a managed worker of this cluster)";

    private static ManagedInstance ToManaged(Ec2Instance i) => new(
        i.InstanceId, i.Zone, i.InstanceType, i.Spot ? CapacityType.Spot : CapacityType.OnDemand, i.State,
        i.Tags.GetValueOrDefault(FleetTags.LaunchId), i.LaunchTime);
}
