using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy.Scheduling;

/// <summary>
/// Whether a node satisfies a requirement. A node not yet launched may carry one of several values
/// of a label (the instance type EC2 Fleet picks, the capacity type, the zone of a launching node
/// whose instance is not listed yet): it satisfies the requirement only if every value does, and
/// <see cref="Uncertain"/> says that some do and some do not.
/// </summary>
internal enum Match
{
    No,
    Uncertain,
    Yes,
}

/// <summary>What a node says about one label key.</summary>
internal enum LabelKind
{
    Absent,

    /// <summary>One value, known.</summary>
    Single,

    /// <summary>One of several values (a node not yet launched).</summary>
    Many,

    /// <summary>The hostname of a node not yet launched: present, unknown, and unlike any existing node's.</summary>
    UnknownUnique,
}

/// <summary>
/// A node a pod could be placed on, as the predicates see it: an existing node (its name, labels
/// and taints), or a node of a worker template not launched yet (the template's labels, possibly
/// several values each; the zone, or any of the template's zones when unknown; a hostname no one
/// knows yet).
/// </summary>
internal sealed class Place
{
    private readonly WorkerTemplate? template;

    private Place(NodeInfo? node, WorkerTemplate? template, string? zone, IReadOnlyList<NodeTaint> taints)
    {
        Node = node;
        this.template = template;
        Zone = zone;
        Taints = taints;
    }

    /// <summary>The existing node; null for a node not yet launched.</summary>
    public NodeInfo? Node { get; }

    /// <summary>The zone, when known.</summary>
    public string? Zone { get; }

    public IReadOnlyList<NodeTaint> Taints { get; }

    public static Place Of(NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new(node, null, node.Labels.GetValueOrDefault(WorkerTemplates.ZoneLabel) ?? node.Zone, node.Taints);
    }

    /// <param name="zone">The zone it launches in; null when not known (any of the template's zones).</param>
    public static Place New(WorkerTemplate template, string? zone)
    {
        ArgumentNullException.ThrowIfNull(template);
        return new(null, template, zone, template.Taints);
    }

    /// <summary>
    /// The node's value(s) for <paramref name="key"/>. An existing node whose snapshot omits the zone
    /// or hostname label answers with its zone and name (every worker carries both).
    /// </summary>
    public LabelKind Lookup(string key, out string? single, out IReadOnlyList<string>? many)
    {
        many = null;
        if (Node is { } node)
        {
            single = node.Labels.GetValueOrDefault(key)
                ?? (key == WorkerTemplates.ZoneLabel ? node.Zone : key == WorkerTemplates.HostnameLabel ? node.Name : null);
            return single is null ? LabelKind.Absent : LabelKind.Single;
        }

        single = null;
        if (key == WorkerTemplates.HostnameLabel)
        {
            return LabelKind.UnknownUnique;
        }

        if (key == WorkerTemplates.ZoneLabel)
        {
            if (Zone is not null)
            {
                single = Zone;
                return LabelKind.Single;
            }

            many = template!.Zones;
        }
        else if (!template!.Labels.TryGetValue(key, out many))
        {
            return LabelKind.Absent;
        }

        switch (many!.Count)
        {
            case 0:
                many = null;
                return LabelKind.Absent;
            case 1:
                single = many[0];
                many = null;
                return LabelKind.Single;
            default:
                return LabelKind.Many;
        }
    }
}
