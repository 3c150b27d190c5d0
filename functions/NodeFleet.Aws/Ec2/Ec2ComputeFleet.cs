using System.Security.Cryptography;
using System.Text;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Ports;

namespace NodeFleet.Aws.Ec2;

/// <summary>Refused to terminate instances that are not this cluster's managed workers; nothing was terminated.</summary>
public sealed class TerminationRefusedException(string message) : Exception(message);

/// <summary>
/// The cluster's workers as EC2 Fleet instances. Launches are balanced over zones, split
/// between spot and on-demand by the spot share, and fall back to on-demand at once for what
/// spot cannot supply. A launch id makes a retried launch add only what is still missing.
/// Also what the workers' spot pools cost now.
/// </summary>
public sealed class Ec2ComputeFleet(IEc2Api ec2, FleetSettings settings, TimeProvider? clock = null) : IComputeFleet, ISpotPrices
{
    private static readonly string[] LiveStates = ["pending", "running"];
    private readonly TimeProvider clock = clock ?? TimeProvider.System;

    public async Task<LaunchResult> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var managed = await DescribeManagedAsync(cancellationToken).ConfigureAwait(false);

        // Emulators ignore client tokens, and a retry may follow a partial success:
        // instances already tagged with this launch id count as launched.
        var mine = managed.Where(i => i.LaunchId == request.LaunchId).ToList();
        var others = managed.Where(i => i.LaunchId != request.LaunchId)
            .GroupBy(i => i.Zone).ToDictionary(g => g.Key, g => g.Count());
        var zones = settings.Subnets.Select(s => s.Zone).ToList();
        var plan = ZoneBalancer.Plan(request.Count, zones, others);

        var launched = new List<ManagedInstance>(mine);
        var errors = new List<string>();
        var (planned, spotPlanned) = (0, 0);
        foreach (var (zone, subnet) in settings.Subnets)
        {
            var missing = plan[zone] - mine.Count(i => i.Zone == zone);
            if (missing <= 0)
            {
                continue;
            }

            // The spot share applies to the whole launch: rounding per zone would drift (3.5 + 3.5 -> 8 of 10).
            planned += missing;
            var spot = (int)Math.Round(planned * settings.SpotShare, MidpointRounding.AwayFromZero) - spotPlanned;
            spotPlanned += spot;
            await LaunchInZoneAsync(request.LaunchId, zone, subnet, missing, spot, launched, errors, cancellationToken).ConfigureAwait(false);
        }

        return new LaunchResult(launched, errors);
    }

    private async Task LaunchInZoneAsync(string launchId, string zone, string subnet, int count, int spot, List<ManagedInstance> launched, List<string> errors, CancellationToken cancellationToken)
    {
        var primary = await TryCreateAsync(launchId, zone, subnet, "primary", spot, count - spot, cancellationToken).ConfigureAwait(false);
        Record(primary, zone, launchId, launched, errors);

        // What spot could not supply is asked for on demand at once, not on the next tick.
        var shortfall = count - primary.Instances.Count;
        if (shortfall > 0)
        {
            var fallback = await TryCreateAsync(launchId, zone, subnet, "on-demand-fallback", 0, shortfall, cancellationToken).ConfigureAwait(false);
            Record(fallback, zone, launchId, launched, errors);
        }
    }

    private async Task<FleetLaunch> TryCreateAsync(string launchId, string zone, string subnet, string attempt, int spot, int onDemand, CancellationToken cancellationToken)
    {
        var request = new FleetLaunchRequest(
            ClientToken(launchId, zone, attempt),
            settings.LaunchTemplateId,
            settings.LaunchTemplateVersion,
            settings.InstanceTypes.Select(t => new FleetOverride(t, subnet)).ToList(),
            spot,
            onDemand,
            new Dictionary<string, string>
            {
                [FleetTags.Managed] = "true",
                [FleetTags.Cluster] = settings.ClusterName,
                [FleetTags.LaunchId] = launchId,
                ["Name"] = $"{settings.ClusterName}-worker",
            });
        try
        {
            return await ec2.CreateInstantFleetAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (InsufficientCapacityException e)
        {
            // A whole-request capacity refusal is reported like a per-pool one, so the fallback runs.
            return new FleetLaunch([], [new FleetPoolError(e.Code, e.Message, spot > 0 ? "spot" : "on-demand", null, subnet)]);
        }
    }

    private static void Record(FleetLaunch result, string zone, string launchId, List<ManagedInstance> launched, List<string> errors)
    {
        launched.AddRange(result.Instances.Select(i => new ManagedInstance(
            i.InstanceId, zone, i.InstanceType, i.Lifecycle == "spot" ? CapacityType.Spot : CapacityType.OnDemand, "pending", launchId, DateTimeOffset.MinValue)));
        errors.AddRange(result.Errors.Select(e => $"{zone} {e.Lifecycle} {e.InstanceType ?? "any type"}: {e.Code} {e.Message}".TrimEnd()));
    }

    /// <summary>
    /// EC2's idempotency token (at most 64 ASCII characters): the same launch, zone and attempt
    /// always send the same token, so EC2 answers a retry with the first launch's result.
    /// </summary>
    public static string ClientToken(string launchId, string zone, string attempt)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{launchId}|{zone}|{attempt}"));
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
