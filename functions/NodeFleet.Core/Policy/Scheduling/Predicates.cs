using System.Globalization;
using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy.Scheduling;

/// <summary>
/// The scheduler check a pod failed on a node. The first members are the ones a node not yet
/// launched can fail (<see cref="NoScaleUpReason"/>); host ports and anti-affinity can only fail on
/// nodes that already run pods.
/// </summary>
internal enum Predicate
{
    TooLarge,
    NodeSelector,
    NodeAffinity,
    VolumeZone,
    Taint,
    UncertainLabel,
    TopologySpread,
    Unmodelled,
    HostPort,
    PodAntiAffinity,
}

/// <summary>Why a pod cannot go on a node: the predicate, and the label, taint, volume or port that failed.</summary>
internal readonly record struct Unfit(Predicate Predicate, string Detail)
{
    /// <summary>How far a node got before it failed, to name the closest miss among many nodes (an uncertain label is nearly a fit).</summary>
    public int Rank => Predicate switch
    {
        Predicate.UncertainLabel => 10,
        Predicate.NodeSelector => 1,
        Predicate.NodeAffinity or Predicate.VolumeZone => 2,
        Predicate.Taint => 3,
        Predicate.TooLarge => 4,
        Predicate.HostPort or Predicate.PodAntiAffinity => 5,
        Predicate.TopologySpread => 6,
        _ => 0,
    };

    /// <summary>The closer miss of two; the first on a tie.</summary>
    public static Unfit? Closer(Unfit? best, Unfit candidate) => best is { } b && b.Rank >= candidate.Rank ? b : candidate;

    public NoScaleUpReason ToNoScaleUp() => Predicate switch
    {
        Predicate.TooLarge => NoScaleUpReason.TooLarge,
        Predicate.NodeSelector => NoScaleUpReason.NodeSelector,
        Predicate.NodeAffinity => NoScaleUpReason.NodeAffinity,
        Predicate.VolumeZone => NoScaleUpReason.VolumeZone,
        Predicate.Taint => NoScaleUpReason.Taint,
        Predicate.UncertainLabel => NoScaleUpReason.UncertainLabel,
        Predicate.TopologySpread => NoScaleUpReason.TopologySpread,
        _ => NoScaleUpReason.Unmodelled,
    };
}

/// <summary>
/// The Kubernetes scheduler's filters that depend on a node alone, with its documented semantics
/// (kube-scheduler's NodeAffinity, TaintToleration and NodePorts plugins): nodeSelector, required
/// node affinity (the pod's and its bound volumes'), taints and tolerations, host ports.
/// </summary>
internal static class Predicates
{
    public const string NodeNameField = "metadata.name";

    /// <summary>
    /// nodeSelector, then every required node selector, then the taints: the first definite failure;
    /// else, when a label with several possible values only may satisfy a requirement, that
    /// (<see cref="Predicate.UncertainLabel"/>); null when the node passes.
    /// </summary>
    public static Unfit? Check(PodConstraints? constraints, Place place)
    {
        if (constraints is null)
        {
            return UntoleratedTaint([], place.Taints);
        }

        var uncertain = Labels(constraints, place, podOnly: false, out var failure);
        return failure ?? UntoleratedTaint(constraints.Tolerations, place.Taints) ?? uncertain;
    }

    /// <summary>
    /// nodeSelector and required node selectors only. <paramref name="podOnly"/> leaves out the
    /// volumes' selectors (what topology spread's nodeAffinityPolicy honours is the pod's own).
    /// Returns the uncertain label, if any; <paramref name="failure"/> the first definite failure.
    /// </summary>
    public static Unfit? Labels(PodConstraints constraints, Place place, bool podOnly, out Unfit? failure)
    {
        Unfit? uncertain = null;
        failure = null;

        // Loops by index, and a count check before the dictionary's (boxed) enumerator: the policy
        // calls this for every group on every node, so the common case allocates nothing.
        if (constraints.NodeSelector.Count > 0)
        {
            foreach (var (key, value) in constraints.NodeSelector)
            {
                var match = Selects(place, key, value);
                if (match == Match.No)
                {
                    failure = new Unfit(Predicate.NodeSelector, $"{key}={value}");
                    return uncertain;
                }

                if (match == Match.Uncertain)
                {
                    uncertain ??= new Unfit(Predicate.UncertainLabel, $"{key}={value}");
                }
            }
        }

        var selectors = constraints.NodeAffinity;
        for (var i = 0; i < selectors.Count; i++)
        {
            var selector = selectors[i];
            var volume = IsVolume(selector);
            if (podOnly && volume)
            {
                continue;
            }

            var match = Terms(selector.Terms, place, out var detail);
            if (match == Match.No)
            {
                failure = new Unfit(volume ? Predicate.VolumeZone : Predicate.NodeAffinity, volume ? $"{selector.Source}: {detail}" : detail);
                return uncertain;
            }

            if (match == Match.Uncertain)
            {
                uncertain ??= new Unfit(Predicate.UncertainLabel, detail);
            }
        }

        return uncertain;
    }

    /// <summary>A bound PersistentVolume's node affinity (its source names the claim).</summary>
    public static bool IsVolume(RequiredNodeSelector selector) => selector.Source.StartsWith("volume", StringComparison.Ordinal);

    /// <summary>nodeSelector: the label is present with exactly this value.</summary>
    public static Match Selects(Place place, string key, string value) =>
        place.Lookup(key, out var single, out var many) switch
        {
            LabelKind.Single => Of(single == value),
            LabelKind.Many => OfCount(Count(many!, v => v == value), many!.Count),
            _ => Match.No,
        };

    /// <summary>
    /// nodeSelectorTerms, ORed; a term's requirements ANDed; an empty term, or no term, matches no
    /// node. <paramref name="detail"/> names the first requirement that failed (or was uncertain).
    /// </summary>
    public static Match Terms(IReadOnlyList<NodeSelectorTerm> terms, Place place, out string detail)
    {
        var best = Match.No;
        string? firstDetail = null;
        string? uncertainDetail = null;
        for (var i = 0; i < terms.Count; i++)
        {
            var match = Term(terms[i], place, out var termDetail);
            if (match == Match.Yes)
            {
                detail = "";
                return Match.Yes;
            }

            firstDetail ??= termDetail;
            if (match == Match.Uncertain && best == Match.No)
            {
                best = Match.Uncertain;
                uncertainDetail = termDetail;
            }
        }

        detail = uncertainDetail ?? firstDetail ?? "no nodeSelectorTerms";
        return best;
    }

    public static Match Term(NodeSelectorTerm term, Place place, out string detail)
    {
        detail = "";
        if (term.MatchExpressions.Count == 0 && term.MatchFields.Count == 0)
        {
            detail = "an empty nodeSelectorTerm";
            return Match.No;
        }

        var result = Match.Yes;
        var expressions = term.MatchExpressions;
        for (var i = 0; i < expressions.Count; i++)
        {
            var requirement = expressions[i];
            var match = Requirement(requirement, place);
            if (match == Match.No)
            {
                detail = Describe(requirement);
                return Match.No;
            }

            if (match == Match.Uncertain && result == Match.Yes)
            {
                result = Match.Uncertain;
                detail = Describe(requirement);
            }
        }

        var fields = term.MatchFields;
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            if (Field(field, place) == Match.No)
            {
                detail = Describe(field);
                return Match.No;
            }
        }

        return result;
    }

    /// <summary>
    /// A matchExpressions requirement. NotIn and DoesNotExist hold when the label is absent; Gt and
    /// Lt need the label and their single value both to parse as 64-bit integers and compare
    /// strictly. The hostname of a node not yet launched is unknown and unlike every existing
    /// node's: Exists and NotIn hold, In, DoesNotExist, Gt and Lt do not.
    /// </summary>
    public static Match Requirement(NodeSelectorRequirement requirement, Place place)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        return place.Lookup(requirement.Key, out var single, out var many) switch
        {
            LabelKind.Absent => Of(requirement.Operator is "NotIn" or "DoesNotExist"),
            LabelKind.UnknownUnique => Of(requirement.Operator is "NotIn" or "Exists"),
            LabelKind.Single => Of(ValueSatisfies(requirement, single!)),
            _ => OfCount(Count(many!, v => ValueSatisfies(requirement, v)), many!.Count),
        };
    }

    /// <summary>
    /// A matchFields requirement: Kubernetes defines only <c>metadata.name</c> with In and NotIn.
    /// A node not yet launched has a name no requirement can list: NotIn holds, In does not.
    /// </summary>
    public static Match Field(NodeSelectorRequirement field, Place place)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field.Key != NodeNameField || field.Operator is not ("In" or "NotIn"))
        {
            return Match.No;
        }

        var listed = place.Node is { } node && field.Values.Contains(node.Name);
        return Of(field.Operator == "In" ? listed : !listed);
    }

    /// <summary>The first NoSchedule or NoExecute taint no toleration tolerates (PreferNoSchedule never keeps a pod away).</summary>
    public static Unfit? UntoleratedTaint(IReadOnlyList<Toleration> tolerations, IReadOnlyList<NodeTaint> taints)
    {
        for (var i = 0; i < taints.Count; i++)
        {
            var taint = taints[i];
            if (taint.Effect is "NoSchedule" or "NoExecute" && !Tolerated(tolerations, taint))
            {
                return new Unfit(Predicate.Taint, Describe(taint));
            }
        }

        return null;
    }

    private static bool Tolerated(IReadOnlyList<Toleration> tolerations, NodeTaint taint)
    {
        for (var i = 0; i < tolerations.Count; i++)
        {
            if (Tolerates(tolerations[i], taint))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// An empty key (with Exists) tolerates every key; no effect matches every effect; Exists
    /// ignores the value; Equal (the default) compares it, an absent value being "".
    /// </summary>
    public static bool Tolerates(Toleration toleration, NodeTaint taint)
    {
        ArgumentNullException.ThrowIfNull(toleration);
        ArgumentNullException.ThrowIfNull(taint);
        if (!string.IsNullOrEmpty(toleration.Effect) && toleration.Effect != taint.Effect)
        {
            return false;
        }

        if (!string.IsNullOrEmpty(toleration.Key) && toleration.Key != taint.Key)
        {
            return false;
        }

        return toleration.Operator switch
        {
            "Exists" => true,
            "Equal" or "" => (toleration.Value ?? "") == (taint.Value ?? ""),
            _ => false,
        };
    }

    /// <summary>Same port and protocol on overlapping addresses: an empty or 0.0.0.0 host IP overlaps every address.</summary>
    public static bool Conflict(HostPort a, HostPort b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Port == b.Port
            && Protocol(a) == Protocol(b)
            && (Wildcard(a.HostIp) || Wildcard(b.HostIp) || a.HostIp == b.HostIp);
    }

    /// <summary>The first of <paramref name="wanted"/> that conflicts with one of <paramref name="taken"/>.</summary>
    public static HostPort? Conflicting(IReadOnlyList<HostPort> wanted, IReadOnlyList<HostPort>? taken)
    {
        if (taken is null)
        {
            return null;
        }

        for (var i = 0; i < wanted.Count; i++)
        {
            for (var j = 0; j < taken.Count; j++)
            {
                if (Conflict(wanted[i], taken[j]))
                {
                    return wanted[i];
                }
            }
        }

        return null;
    }

    public static string Describe(HostPort port) =>
        $"{(Wildcard(port.HostIp) ? "" : port.HostIp + ":")}{port.Port}/{Protocol(port)}";

    public static string Describe(NodeTaint taint) =>
        $"{taint.Key}{(string.IsNullOrEmpty(taint.Value) ? "" : "=" + taint.Value)}:{taint.Effect}";

    public static string Describe(NodeSelectorRequirement requirement) => requirement.Operator switch
    {
        "Exists" or "DoesNotExist" => $"{requirement.Key} {requirement.Operator}",
        "Gt" or "Lt" => $"{requirement.Key} {requirement.Operator} {string.Join(",", requirement.Values)}",
        _ => $"{requirement.Key} {requirement.Operator} ({string.Join(", ", requirement.Values)})",
    };

    private static bool ValueSatisfies(NodeSelectorRequirement requirement, string value) => requirement.Operator switch
    {
        "In" => requirement.Values.Contains(value),
        "NotIn" => !requirement.Values.Contains(value),
        "Exists" => true,
        "DoesNotExist" => false,
        "Gt" => Integers(requirement, value, out var label, out var bound) && label > bound,
        "Lt" => Integers(requirement, value, out var label, out var bound) && label < bound,
        _ => false,
    };

    private static bool Integers(NodeSelectorRequirement requirement, string value, out long label, out long bound)
    {
        bound = 0;
        return long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out label)
            && requirement.Values.Count == 1
            && long.TryParse(requirement.Values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out bound);
    }

    private static int Count(IReadOnlyList<string> values, Func<string, bool> satisfies)
    {
        var count = 0;
        for (var i = 0; i < values.Count; i++)
        {
            count += satisfies(values[i]) ? 1 : 0;
        }

        return count;
    }

    private static Match Of(bool holds) => holds ? Match.Yes : Match.No;

    private static Match OfCount(int satisfying, int of) => satisfying == of ? Match.Yes : satisfying == 0 ? Match.No : Match.Uncertain;

    private static string Protocol(HostPort port) => string.IsNullOrEmpty(port.Protocol) ? "TCP" : port.Protocol;

    private static bool Wildcard(string? ip) => string.IsNullOrEmpty(ip) || ip == "0.0.0.0";
}
