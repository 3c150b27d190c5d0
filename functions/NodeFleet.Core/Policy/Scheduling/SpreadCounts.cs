using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy.Scheduling;

/// <summary>
/// One DoNotSchedule topology spread constraint of a pod group, counted over the nodes as
/// kube-scheduler's PodTopologySpread plugin counts them: a node is a domain (its zone, or itself
/// for the hostname key) only if it carries every topology key of the pod's constraints, passes the
/// pod's own nodeSelector and required node affinity (unless nodeAffinityPolicy is Ignore) and, when
/// nodeTaintsPolicy is Honor, has no taint the pod does not tolerate. Placing a pod in a domain is
/// allowed when <c>matching(domain) + self - globalMinimum &lt;= maxSkew</c>, <c>self</c> being 1 when
/// the pod matches its own selector; the global minimum is the fewest matching pods in an eligible
/// domain, or 0 with fewer eligible domains than minDomains (1 when unset).
/// </summary>
internal sealed class SpreadCounts
{
    private readonly Dictionary<string, int> counts = new(StringComparer.Ordinal);
    private int min;
    private bool minKnown;

    /// <param name="places">The snapshot's nodes as places (built once by the caller).</param>
    /// <param name="skip">A node left out (the one a scale-down would remove: its domain loses it and its pods).</param>
    public SpreadCounts(PodConstraints constraints, TopologySpread spread, IReadOnlyList<Place> places, string? skip = null)
    {
        Constraints = constraints;
        Spread = spread;
        for (var i = 0; i < places.Count; i++)
        {
            var place = places[i];
            var node = place.Node!;
            if (node.Name == skip)
            {
                continue;
            }

            if (Domain(place) is { } domain && Eligible(place))
            {
                counts[domain] = counts.GetValueOrDefault(domain) + spread.MatchingByNode.GetValueOrDefault(node.Name);
            }
        }
    }

    public PodConstraints Constraints { get; }

    public TopologySpread Spread { get; }

    public bool IsZone => Spread.TopologyKey == WorkerTemplates.ZoneLabel;

    public int Self => Spread.SelfMatch ? 1 : 0;

    /// <summary>Eligible domains counted so far.</summary>
    public int Domains => counts.Count;

    /// <summary>The fewest matching pods in an eligible domain; 0 when fewer domains are eligible than minDomains.</summary>
    public int GlobalMin
    {
        get
        {
            if (counts.Count < (Spread.MinDomains ?? 1))
            {
                return 0;
            }

            if (!minKnown)
            {
                min = counts.Values.Min();
                minKnown = true;
            }

            return min;
        }
    }

    public int Count(string domain) => counts.GetValueOrDefault(domain);

    public bool IsDomain(string domain) => counts.ContainsKey(domain);

    /// <summary>
    /// The node carries every topology key of the pod's constraints (the scheduler rejects a node
    /// that lacks one); a node not yet launched has a hostname, and a zone only when it is known.
    /// </summary>
    public bool HasKeys(Place place)
    {
        for (var i = 0; i < Constraints.Spread.Count; i++)
        {
            if (place.Lookup(Constraints.Spread[i].TopologyKey, out _, out _) is not (LabelKind.Single or LabelKind.UnknownUnique))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The node's domain for this constraint; null when it lacks a topology key, or its hostname is not known yet.</summary>
    public string? Domain(Place place) =>
        HasKeys(place) && place.Lookup(Spread.TopologyKey, out var value, out _) == LabelKind.Single ? value : null;

    /// <summary>The node counts as a domain under the constraint's node inclusion policies.</summary>
    public bool Eligible(Place place)
    {
        if (!Spread.IgnoreNodeAffinity)
        {
            var uncertain = Predicates.Labels(Constraints, place, podOnly: true, out var failure);
            if (failure is not null || uncertain is not null)
            {
                return false;
            }
        }

        return !Spread.HonorTaints || Predicates.UntoleratedTaint(Constraints.Tolerations, place.Taints) is null;
    }

    /// <summary>One more pod of the group may go into <paramref name="domain"/>.</summary>
    public bool Allows(string domain) => Count(domain) + Self - GlobalMin <= Spread.MaxSkew;

    /// <summary>
    /// How many more pods of the group <paramref name="domain"/> takes while the other domains stay
    /// as they are: up to the lowest other domain plus maxSkew for a self-matching group (while it is
    /// the lowest, each pod it takes is allowed), all or none otherwise.
    /// </summary>
    public int Room(string domain)
    {
        if (Self == 0)
        {
            return Allows(domain) ? int.MaxValue : 0;
        }

        var lowestOther = counts.Count < (Spread.MinDomains ?? 1) ? 0 : LowestOther(domain);
        return lowestOther == int.MaxValue ? int.MaxValue : Math.Max(0, lowestOther + Spread.MaxSkew - Count(domain));
    }

    /// <summary>Counts a placed pod of the group (only when it matches its own selector, in an eligible domain).</summary>
    public void Add(string domain, int pods)
    {
        if (Self == 0 || pods == 0)
        {
            return;
        }

        var before = counts.GetValueOrDefault(domain);
        counts[domain] = before + pods;
        if (minKnown && before == min)
        {
            minKnown = false;
        }
    }

    /// <summary>Makes <paramref name="domain"/> an eligible domain with no matching pod yet (a node the plan opens there).</summary>
    public void Open(string domain)
    {
        if (counts.TryAdd(domain, 0))
        {
            minKnown = false;
        }
    }

    /// <summary>The fewest matching pods among the domains not in <paramref name="except"/>; int.MaxValue when there are none.</summary>
    public int LowestExcept(IReadOnlyCollection<string> except)
    {
        var lowest = int.MaxValue;
        foreach (var (key, value) in counts)
        {
            if (value < lowest && !except.Contains(key))
            {
                lowest = value;
            }
        }

        return lowest;
    }

    private int LowestOther(string domain)
    {
        var lowest = int.MaxValue;
        foreach (var (key, value) in counts)
        {
            if (key != domain && value < lowest)
            {
                lowest = value;
            }
        }

        return lowest;
    }
}
