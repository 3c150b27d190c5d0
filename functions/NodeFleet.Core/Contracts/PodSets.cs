using NodeFleet.Core.Errors;

namespace NodeFleet.Core.Contracts;

/// <summary>
/// The payload's form of the scheduling constraints: every distinct constraint is kept once in
/// <see cref="ClusterSnapshot.Constraints"/> and every distinct per-node count once in
/// <see cref="ClusterSnapshot.PodSets"/> (by node index), both referred to by index. A Deployment's
/// replicas on a hundred nodes would otherwise carry the same constraints and hundred-entry maps
/// each, past Step Functions' 256 KB. CollectMetrics packs before it writes; Decide unpacks after it reads.
/// </summary>
public static class PodSets
{
    public static ClusterSnapshot Pack(ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var nodeIndex = snapshot.Nodes.Select((n, i) => (n.Name, i)).GroupBy(x => x.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
        var sets = new Table<PodSet>();
        var constraints = new Table<PodConstraints>();

        int SetOf(IEnumerable<KeyValuePair<string, int>> byNode)
        {
            // Counts on nodes outside the snapshot cannot be a scheduling domain of this decision.
            var known = byNode.Where(e => nodeIndex.ContainsKey(e.Key)).Select(e => (Node: nodeIndex[e.Key], e.Value)).OrderBy(e => e.Node).ToList();
            return sets.Id(string.Join(",", known.Select(e => $"{e.Node}={e.Value}")), () => new PodSet { Nodes = [.. known.Select(e => e.Node)], Counts = [.. known.Select(e => e.Value)] });
        }

        PodGroup PackGroup(PodGroup g)
        {
            if (g.Constraints is not { } c)
            {
                return g;
            }

            var packed = c with
            {
                Spread = c.Spread.Select(s => s with { PodSet = SetOf(s.MatchingByNode) }).ToList(),
                AntiAffinity = c.AntiAffinity.Select(a => a with { PodSet = SetOf(a.Nodes.Select(n => KeyValuePair.Create(n, 1))) }).ToList(),
            };
            return g with { ConstraintsId = constraints.Id(Cluster.SchedulingFacts.Key(packed), () => packed) };
        }

        var pending = snapshot.UnschedulablePods.Select(PackGroup).ToList();
        var nodes = snapshot.Nodes.Select(n => n.MovablePods.Count == 0 ? n : n with { MovablePods = n.MovablePods.Select(PackGroup).ToList() }).ToList();
        return snapshot with { UnschedulablePods = pending, Nodes = nodes, Constraints = constraints.Items, PodSets = sets.Items };
    }

    /// <summary>Puts the constraints and counts back where the policy reads them; an index outside its list is invalid input, named.</summary>
    public static ClusterSnapshot Unpack(ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var problems = new List<string>();
        var names = snapshot.Nodes.Select(n => n.Name).ToList();
        IReadOnlyDictionary<string, int> Set(int? id, string path)
        {
            if (id is not { } i || i < 0 || i >= snapshot.PodSets.Count)
            {
                problems.Add($"{path}.podSet: {(id is null ? "missing" : $"{id} is not an index of $.observation.snapshot.podSets ({snapshot.PodSets.Count} set(s))")}");
                return new Dictionary<string, int>();
            }

            var set = snapshot.PodSets[i];
            if (set.Nodes.Count != set.Counts.Count || set.Nodes.Any(n => n < 0 || n >= names.Count))
            {
                problems.Add($"$.observation.snapshot.podSets[{i}]: needs one count per node, each node an index of $.observation.snapshot.nodes ({names.Count} node(s))");
                return new Dictionary<string, int>();
            }

            return set.Nodes.Zip(set.Counts).ToDictionary(e => names[e.First], e => e.Second, StringComparer.Ordinal);
        }

        var unpacked = snapshot.Constraints.Select((c, i) => c with
        {
            Spread = c.Spread.Select((s, j) => s with { MatchingByNode = Set(s.PodSet, $"$.observation.snapshot.constraints[{i}].spread[{j}]") }).ToList(),
            AntiAffinity = c.AntiAffinity.Select((a, j) => a with { Nodes = [.. Set(a.PodSet, $"$.observation.snapshot.constraints[{i}].antiAffinity[{j}]").Keys.Order(StringComparer.Ordinal)] }).ToList(),
        }).ToList();

        PodGroup UnpackGroup(PodGroup g, string path)
        {
            if (g.ConstraintsId is not { } id)
            {
                return g;
            }

            if (id < 0 || id >= unpacked.Count)
            {
                problems.Add($"{path}.constraintsId: {id} is not an index of $.observation.snapshot.constraints ({unpacked.Count} constraint(s))");
                return g;
            }

            return g with { Constraints = unpacked[id] };
        }

        var pending = snapshot.UnschedulablePods.Select((g, i) => UnpackGroup(g, $"$.observation.snapshot.unschedulablePods[{i}]")).ToList();
        var nodes = snapshot.Nodes.Select((n, ni) => n.MovablePods.Count == 0 ? n
            : n with { MovablePods = n.MovablePods.Select((g, i) => UnpackGroup(g, $"$.observation.snapshot.nodes[{ni}].movablePods[{i}]")).ToList() }).ToList();
        return problems.Count == 0 ? snapshot with { UnschedulablePods = pending, Nodes = nodes, Constraints = unpacked } : throw InvalidInputException.For(problems.Distinct().ToList());
    }

    /// <summary>Distinct items by key, each given the index it was first seen at.</summary>
    private sealed class Table<T>
    {
        private readonly Dictionary<string, int> index = new(StringComparer.Ordinal);

        public List<T> Items { get; } = [];

        public int Id(string key, Func<T> make)
        {
            if (!index.TryGetValue(key, out var id))
            {
                id = Items.Count;
                index[key] = id;
                Items.Add(make());
            }

            return id;
        }
    }
}
