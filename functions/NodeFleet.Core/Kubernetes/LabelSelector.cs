namespace NodeFleet.Core.Kubernetes;

/// <summary>One <c>matchExpressions</c> entry: <c>In</c>, <c>NotIn</c>, <c>Exists</c> or <c>DoesNotExist</c>.</summary>
public sealed record SelectorRequirement(string Key, string Operator, IReadOnlyList<string> Values);

/// <summary>A Kubernetes label selector (matchLabels AND every matchExpressions entry). An empty selector selects everything.</summary>
public sealed record LabelSelector(IReadOnlyDictionary<string, string> MatchLabels, IReadOnlyList<SelectorRequirement> MatchExpressions)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels) =>
        MatchLabels.All(m => labels.TryGetValue(m.Key, out var v) && v == m.Value)
        && MatchExpressions.All(e => e.Operator switch
        {
            "In" => labels.TryGetValue(e.Key, out var v) && e.Values.Contains(v),
            "NotIn" => !labels.TryGetValue(e.Key, out var v) || !e.Values.Contains(v),
            "Exists" => labels.ContainsKey(e.Key),
            "DoesNotExist" => !labels.ContainsKey(e.Key),
            _ => false,
        });
}
