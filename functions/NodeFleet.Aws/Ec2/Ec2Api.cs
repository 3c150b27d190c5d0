using System.Globalization;
using System.Xml.Linq;

namespace NodeFleet.Aws.Ec2;

/// <summary>EC2's Query API (version 2016-11-15) for the three operations in <see cref="IEc2Api"/>.</summary>
public sealed class Ec2Api(AwsQueryClient query, int pageSize = 500) : IEc2Api
{
    public const string Service = "ec2";
    public const string ApiVersion = "2016-11-15";

    public static Ec2Api Create(AwsEndpoint endpoint) =>
        new(new AwsQueryClient(endpoint.HttpClientFor(Service), endpoint.UriFor(Service), Service, ApiVersion));

    public async Task<FleetLaunch> CreateInstantFleetAsync(FleetLaunchRequest request, CancellationToken cancellationToken)
    {
        var p = new List<KeyValuePair<string, string>>
        {
            new("Type", "instant"),
            new("ClientToken", request.ClientToken),
            new("TargetCapacitySpecification.TotalTargetCapacity", Num(request.SpotCount + request.OnDemandCount)),
            new("TargetCapacitySpecification.SpotTargetCapacity", Num(request.SpotCount)),
            new("TargetCapacitySpecification.OnDemandTargetCapacity", Num(request.OnDemandCount)),
            new("TargetCapacitySpecification.DefaultTargetCapacityType", request.SpotCount > 0 ? "spot" : "on-demand"),
            new("SpotOptions.AllocationStrategy", "price-capacity-optimized"),
            new("OnDemandOptions.AllocationStrategy", "lowest-price"),
            new("LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateId", request.LaunchTemplateId),
            new("LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version", request.LaunchTemplateVersion),
            new("TagSpecification.1.ResourceType", "instance"),
        };
        for (var i = 0; i < request.Overrides.Count; i++)
        {
            p.Add(new($"LaunchTemplateConfigs.1.Overrides.{i + 1}.InstanceType", request.Overrides[i].InstanceType));
            p.Add(new($"LaunchTemplateConfigs.1.Overrides.{i + 1}.SubnetId", request.Overrides[i].SubnetId));
        }

        var tagIndex = 0;
        foreach (var (key, value) in request.Tags)
        {
            tagIndex++;
            p.Add(new($"TagSpecification.1.Tag.{tagIndex}.Key", key));
            p.Add(new($"TagSpecification.1.Tag.{tagIndex}.Value", value));
        }

        var xml = await query.CallAsync("CreateFleet", p, cancellationToken).ConfigureAwait(false);
        var instances = AwsQueryClient.Items(xml, "fleetInstanceSet").SelectMany(item =>
        {
            var lifecycle = query.Required(item, "lifecycle", "CreateFleet fleetInstanceSet item");
            var type = AwsQueryClient.Child(item, "instanceType")
                ?? Overrides(item)?.Type
                ?? throw new AwsMalformedResponseException(Service, "CreateFleet fleetInstanceSet item has no instance type", 200);
            return AwsQueryClient.Items(item, "instanceIds").Select(id => new FleetInstance(id.Value, type, lifecycle));
        }).ToList();
        var errors = AwsQueryClient.Items(xml, "errorSet").Select(item => new FleetPoolError(
            query.Required(item, "errorCode", "CreateFleet errorSet item"),
            AwsQueryClient.Child(item, "errorMessage") ?? "",
            AwsQueryClient.Child(item, "lifecycle") ?? "unknown",
            Overrides(item)?.Type,
            Overrides(item)?.Subnet)).ToList();
        return new FleetLaunch(instances, errors);
    }

    public async Task<IReadOnlyList<Ec2Instance>> DescribeInstancesAsync(IReadOnlyList<Ec2Filter> filters, IReadOnlyList<string> instanceIds, CancellationToken cancellationToken)
    {
        var result = new List<Ec2Instance>();
        string? nextToken = null;
        do
        {
            var p = new List<KeyValuePair<string, string>>();
            for (var f = 0; f < filters.Count; f++)
            {
                p.Add(new($"Filter.{f + 1}.Name", filters[f].Name));
                for (var v = 0; v < filters[f].Values.Length; v++)
                {
                    p.Add(new($"Filter.{f + 1}.Value.{v + 1}", filters[f].Values[v]));
                }
            }

            for (var i = 0; i < instanceIds.Count; i++)
            {
                p.Add(new($"InstanceId.{i + 1}", instanceIds[i]));
            }

            // EC2 refuses MaxResults together with instance ids.
            if (instanceIds.Count == 0)
            {
                p.Add(new("MaxResults", Num(pageSize)));
            }

            if (nextToken is not null)
            {
                p.Add(new("NextToken", nextToken));
            }

            var xml = await query.CallAsync("DescribeInstances", p, cancellationToken).ConfigureAwait(false);
            result.AddRange(AwsQueryClient.Items(xml, "reservationSet")
                .SelectMany(r => AwsQueryClient.Items(r, "instancesSet"))
                .Select(ParseInstance));
            nextToken = AwsQueryClient.Child(xml, "nextToken");
        }
        while (!string.IsNullOrEmpty(nextToken));

        return result;
    }

    public async Task TerminateInstancesAsync(IReadOnlyList<string> instanceIds, CancellationToken cancellationToken)
    {
        var p = instanceIds.Select((id, i) => new KeyValuePair<string, string>($"InstanceId.{i + 1}", id));
        await query.CallAsync("TerminateInstances", p, cancellationToken).ConfigureAwait(false);
    }

    private Ec2Instance ParseInstance(XElement item)
    {
        const string context = "DescribeInstances instance";
        var state = item.Elements().FirstOrDefault(e => e.Name.LocalName == "instanceState");
        var placement = item.Elements().FirstOrDefault(e => e.Name.LocalName == "placement");
        var tags = AwsQueryClient.Items(item, "tagSet").ToDictionary(
            t => query.Required(t, "key", "tag"),
            t => AwsQueryClient.Child(t, "value") ?? "",
            StringComparer.Ordinal);
        var launchTime = query.Required(item, "launchTime", context);
        return new Ec2Instance(
            query.Required(item, "instanceId", context),
            query.Required(item, "instanceType", context),
            query.Required(placement ?? throw new AwsMalformedResponseException(Service, $"{context}: <placement> is missing", 200), "availabilityZone", context),
            query.Required(state ?? throw new AwsMalformedResponseException(Service, $"{context}: <instanceState> is missing", 200), "name", context),
            AwsQueryClient.Child(item, "instanceLifecycle") == "spot",
            tags,
            DateTimeOffset.TryParse(launchTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                ? t
                : throw new AwsMalformedResponseException(Service, $"{context}: launchTime '{launchTime}' is not a time", 200));
    }

    private static (string? Type, string? Subnet)? Overrides(XElement item)
    {
        var overrides = item.Descendants().FirstOrDefault(e => e.Name.LocalName == "overrides");
        return overrides is null ? null : (AwsQueryClient.Child(overrides, "instanceType"), AwsQueryClient.Child(overrides, "subnetId"));
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}
