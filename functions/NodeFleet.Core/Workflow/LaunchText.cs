using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Workflow;

/// <summary>How a launch reads in logs and notifications: where the instances landed, which pools refused.</summary>
public static class LaunchText
{
    /// <summary>"2 in us-east-1b (t3.large on-demand)"; "nothing" when none landed.</summary>
    public static string Landed(LaunchOutcome launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        return launch.Instances.Count == 0
            ? "nothing landed"
            : string.Join(", ", launch.Instances
                .GroupBy(i => i.Zone).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Count()} in {g.Key} ({string.Join(", ", g.GroupBy(i => $"{i.InstanceType} {Capacity(i.CapacityType)}").OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => g.Count() == t.Count() ? t.Key : $"{t.Count()} {t.Key}"))})"));
    }

    /// <summary>"t3.large spot in us-east-1a: InsufficientInstanceCapacity (unavailable for a while)", per pool.</summary>
    public static string Refused(LaunchOutcome launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        return string.Join("; ", launch.FailedPools.Select(p => $"{p.InstanceType} {Capacity(p.CapacityType)} in {p.Zone}: {p.Code}" + (p.Capacity ? " (tried last for a while)" : "")));
    }

    private static string Capacity(CapacityType type) => type == CapacityType.Spot ? "spot" : "on-demand";
}
