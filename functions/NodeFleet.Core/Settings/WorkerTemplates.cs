using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Settings;

/// <summary>The platform facts a worker template needs: the zones workers launch in, the instance types offered and the spot share.</summary>
public sealed record WorkerPlatform
{
    public required IReadOnlyList<string> Zones { get; init; }

    public required IReadOnlyList<string> InstanceTypes { get; init; }

    public required double SpotShare { get; init; }

    public static WorkerPlatform Defaults { get; } = new()
    {
        Zones = ["us-east-1a"],
        InstanceTypes = SettingsCatalog.InstanceTypes.Default,
        SpotShare = SettingsCatalog.SpotShare.Default,
    };
}

/// <summary>
/// The worker template: the labels scripts/worker-user-data.sh and the kubelet give a worker,
/// the launch template's own labels and taints, and the shape. The instance type and the capacity
/// type are each one of several values when the fleet may choose among them.
/// </summary>
public static class WorkerTemplates
{
    public const string ZoneLabel = "topology.kubernetes.io/zone";
    public const string HostnameLabel = "kubernetes.io/hostname";
    public const string InstanceTypeLabel = "node.kubernetes.io/instance-type";
    public const string CapacityTypeLabel = "nodefleet.io/capacity-type";
    public const string ManagedLabel = "nodefleet.io/managed";
    public const string ClusterLabel = "nodefleet.io/cluster";
    public const string ArchitectureLabel = "kubernetes.io/arch";
    public const string OsLabel = "kubernetes.io/os";

    public static IReadOnlyList<WorkerTemplate> For(ScalingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var platform = settings.Platform;
        var capacity = new List<string>();
        if (platform.SpotShare > 0)
        {
            capacity.Add("spot");
        }

        if (platform.SpotShare < 1)
        {
            capacity.Add("on-demand");
        }

        var labels = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, value) in settings.WorkerLabels)
        {
            labels[key] = [value];
        }

        labels[ManagedLabel] = ["true"];
        labels[ClusterLabel] = [settings.ClusterName];
        labels[CapacityTypeLabel] = capacity;
        labels[InstanceTypeLabel] = [.. platform.InstanceTypes];
        labels[ArchitectureLabel] = [settings.WorkerArchitecture];
        labels[OsLabel] = ["linux"];
        return
        [
            new WorkerTemplate
            {
                Name = "default",
                Allocatable = settings.WorkerShape,
                Labels = labels,
                Taints = settings.WorkerTaints,
                Zones = platform.Zones,
            },
        ];
    }
}
