using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy.Scheduling;

/// <summary>Builders for constrained pods, labelled nodes and templates in several zones.</summary>
internal static class SchedulingFixtures
{
    public const string ZoneA = "us-east-1a";
    public const string ZoneB = "us-east-1b";
    public const string ZoneC = "us-east-1c";

    public static NodeSelectorRequirement Req(string key, string op, params string[] values) => new() { Key = key, Operator = op, Values = values };

    /// <summary>Required node affinity of one term ANDing <paramref name="requirements"/>.</summary>
    public static RequiredNodeSelector Affinity(params NodeSelectorRequirement[] requirements) =>
        new() { Source = "nodeAffinity", Terms = [new NodeSelectorTerm { MatchExpressions = requirements }] };

    /// <summary>A bound PersistentVolume reachable only in <paramref name="zone"/>.</summary>
    public static RequiredNodeSelector Volume(string claim, string zone) =>
        new() { Source = "volume " + claim, Terms = [new NodeSelectorTerm { MatchExpressions = [Req(WorkerTemplates.ZoneLabel, "In", zone)] }] };

    /// <summary>A managed worker in <paramref name="zone"/> with the labels a worker carries plus <paramref name="labels"/>.</summary>
    public static NodeInfo ZonedWorker(string name, string zone, double requestedShare = 0.2, params (string Key, string Value)[] labels)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [WorkerTemplates.ZoneLabel] = zone,
            [WorkerTemplates.HostnameLabel] = name,
            [WorkerTemplates.ArchitectureLabel] = "amd64",
        };
        foreach (var (key, value) in labels)
        {
            all[key] = value;
        }

        return Worker(name, requestedShare) with { Zone = zone, Labels = all };
    }

    /// <summary>The default settings with workers launched in <paramref name="zones"/>.</summary>
    public static ScalingSettings InZones(params string[] zones) =>
        Defaults with { Platform = Defaults.Platform with { Zones = zones } };

    public static WorkerTemplate Template(params string[] zones) => InZones(zones).Templates[0];

    public static PodGroup With(this PodGroup group, PodConstraints constraints) => group with { Constraints = constraints };

    public static TopologySpread ZoneSpread(int maxSkew = 1, int? minDomains = null, bool selfMatch = true, params (string Node, int Pods)[] matching) => new()
    {
        TopologyKey = WorkerTemplates.ZoneLabel,
        MaxSkew = maxSkew,
        MinDomains = minDomains,
        SelfMatch = selfMatch,
        MatchingByNode = matching.ToDictionary(m => m.Node, m => m.Pods),
    };

    public static TopologySpread HostnameSpread(int maxSkew = 1, params (string Node, int Pods)[] matching) => new()
    {
        TopologyKey = WorkerTemplates.HostnameLabel,
        MaxSkew = maxSkew,
        SelfMatch = true,
        MatchingByNode = matching.ToDictionary(m => m.Node, m => m.Pods),
    };
}
