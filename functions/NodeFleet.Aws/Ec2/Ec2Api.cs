using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;

namespace NodeFleet.Aws.Ec2;

/// <summary>
/// The operations of <see cref="IEc2Api"/> over the official EC2 SDK. Every SDK failure leaves as
/// a named exception (<see cref="AwsCalls"/>); a response missing what the API documents as always
/// present is <see cref="AwsMalformedResponseException"/>, never a null passed on.
/// </summary>
public sealed class Ec2Api(IAmazonEC2 ec2, int pageSize = 500) : IEc2Api
{
    public const string Service = "ec2";

    /// <summary>The operating system whose spot prices apply to the workers (Amazon Linux).</summary>
    public const string LinuxProduct = "Linux/UNIX";

    public static Ec2Api Create(AwsEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return new(endpoint.Ec2Client());
    }

    public async Task<FleetLaunch> CreateInstantFleetAsync(FleetLaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var create = new CreateFleetRequest
        {
            Type = FleetType.Instant,
            ClientToken = request.ClientToken,
            TargetCapacitySpecification = new TargetCapacitySpecificationRequest
            {
                TotalTargetCapacity = request.SpotCount + request.OnDemandCount,
                SpotTargetCapacity = request.SpotCount,
                OnDemandTargetCapacity = request.OnDemandCount,
                DefaultTargetCapacityType = request.SpotCount > 0 ? DefaultTargetCapacityType.Spot : DefaultTargetCapacityType.OnDemand,
            },
            SpotOptions = new SpotOptionsRequest { AllocationStrategy = SpotAllocationStrategy.PriceCapacityOptimized },
            OnDemandOptions = new OnDemandOptionsRequest { AllocationStrategy = FleetOnDemandAllocationStrategy.LowestPrice },
            LaunchTemplateConfigs =
            [
                new FleetLaunchTemplateConfigRequest
                {
                    LaunchTemplateSpecification = new FleetLaunchTemplateSpecificationRequest
                    {
                        LaunchTemplateId = request.LaunchTemplateId,
                        Version = request.LaunchTemplateVersion,
                    },
                    Overrides = [.. request.Overrides.Select(o => new FleetLaunchTemplateOverridesRequest { InstanceType = o.InstanceType, SubnetId = o.SubnetId })],
                },
            ],
            TagSpecifications =
            [
                new TagSpecification { ResourceType = ResourceType.Instance, Tags = [.. request.Tags.Select(t => new Tag(t.Key, t.Value))] },
            ],
        };
        var response = await AwsCalls.RunAsync(Service, "CreateFleet", () => ec2.CreateFleetAsync(create, cancellationToken), cancellationToken).ConfigureAwait(false);

        var instances = (response.Instances ?? []).SelectMany(item =>
        {
            var lifecycle = item.Lifecycle?.Value ?? throw Malformed("CreateFleet instance set item has no lifecycle");
            var type = item.InstanceType?.Value
                ?? item.LaunchTemplateAndOverrides?.Overrides?.InstanceType?.Value
                ?? throw Malformed("CreateFleet instance set item has no instance type");
            return (item.InstanceIds ?? []).Select(id => new FleetInstance(id, type, lifecycle));
        }).ToList();
        var errors = (response.Errors ?? []).Select(item => new FleetPoolError(
            item.ErrorCode ?? throw Malformed("CreateFleet error set item has no error code"),
            item.ErrorMessage ?? "",
            item.Lifecycle?.Value ?? "unknown",
            item.LaunchTemplateAndOverrides?.Overrides?.InstanceType?.Value,
            item.LaunchTemplateAndOverrides?.Overrides?.SubnetId)).ToList();
        return new FleetLaunch(instances, errors);
    }

    public Task<IReadOnlyList<Ec2Instance>> DescribeInstancesAsync(IReadOnlyList<Ec2Filter> filters, IReadOnlyList<string> instanceIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentNullException.ThrowIfNull(instanceIds);
        var request = new DescribeInstancesRequest
        {
            Filters = filters.Count == 0 ? null : [.. filters.Select(f => new Filter(f.Name, [.. f.Values]))],
            InstanceIds = instanceIds.Count == 0 ? null : [.. instanceIds],

            // EC2 refuses MaxResults together with instance ids.
            MaxResults = instanceIds.Count == 0 ? pageSize : null,
        };
        return AwsCalls.RunAsync<IReadOnlyList<Ec2Instance>>(Service, "DescribeInstances", async () =>
        {
            var result = new List<Ec2Instance>();
            await foreach (var reservation in ec2.Paginators.DescribeInstances(request).Reservations.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                result.AddRange((reservation.Instances ?? []).Select(ToInstance));
            }

            return result;
        }, cancellationToken);
    }

    public Task TerminateInstancesAsync(IReadOnlyList<string> instanceIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceIds);
        return AwsCalls.RunAsync(Service, "TerminateInstances",
            () => ec2.TerminateInstancesAsync(new TerminateInstancesRequest([.. instanceIds]), cancellationToken), cancellationToken);
    }

    public Task<IReadOnlyList<SpotPriceRecord>> DescribeSpotPricesAsync(IReadOnlyList<string> instanceTypes, IReadOnlyList<string> zones, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceTypes);
        ArgumentNullException.ThrowIfNull(zones);

        // Start and end at the same moment: EC2 answers with the price in effect then, per pool.
        var request = new DescribeSpotPriceHistoryRequest
        {
            InstanceTypes = [.. instanceTypes],
            ProductDescriptions = [LinuxProduct],
            Filters = zones.Count == 0 ? null : [new Filter("availability-zone", [.. zones])],
            StartTime = at.UtcDateTime,
            EndTime = at.UtcDateTime,
        };
        return AwsCalls.RunAsync<IReadOnlyList<SpotPriceRecord>>(Service, "DescribeSpotPriceHistory", async () =>
        {
            var result = new List<SpotPriceRecord>();
            await foreach (var price in ec2.Paginators.DescribeSpotPriceHistory(request).SpotPriceHistory.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                result.Add(ToSpotPrice(price));
            }

            return result;
        }, cancellationToken);
    }

    private static Ec2Instance ToInstance(Instance item)
    {
        const string context = "DescribeInstances instance";
        var id = item.InstanceId ?? throw Malformed($"{context}: instanceId is missing");
        return new Ec2Instance(
            id,
            item.InstanceType?.Value ?? throw Malformed($"{context} {id}: instanceType is missing"),
            item.Placement?.AvailabilityZone ?? throw Malformed($"{context} {id}: placement.availabilityZone is missing"),
            item.State?.Name?.Value ?? throw Malformed($"{context} {id}: instanceState.name is missing"),
            item.InstanceLifecycle == InstanceLifecycleType.Spot,
            (item.Tags ?? []).ToDictionary(t => t.Key ?? throw Malformed($"{context} {id}: a tag has no key"), t => t.Value ?? "", StringComparer.Ordinal),
            item.LaunchTime is { } launched
                ? Utc(launched)
                : throw Malformed($"{context} {id}: launchTime is missing"));
    }

    private static SpotPriceRecord ToSpotPrice(SpotPrice item)
    {
        const string context = "DescribeSpotPriceHistory item";
        var type = item.InstanceType?.Value ?? throw Malformed($"{context}: instanceType is missing");
        var zone = item.AvailabilityZone ?? throw Malformed($"{context} {type}: availabilityZone is missing");
        return new SpotPriceRecord(
            type,
            zone,
            decimal.TryParse(item.Price, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price)
                ? price
                : throw Malformed($"{context} {type} {zone}: spotPrice '{item.Price}' is not a price"),
            item.Timestamp is { } at
                ? Utc(at)
                : throw Malformed($"{context} {type} {zone}: timestamp is missing"));
    }

    private static DateTimeOffset Utc(DateTime time) =>
        new(time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : time.ToUniversalTime());

    private static AwsMalformedResponseException Malformed(string message) => new(Service, message, 200);
}
