using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;

namespace NodeFleet.Core.Policy.Scheduling;

/// <summary>
/// Whether the pods a drain would move off a node can all be placed on the remaining Ready,
/// schedulable nodes under the scheduler's predicates and within the target utilisation (memory
/// up to <c>memoryFill</c> of allocatable, the target unless memory counts by requests):
/// first-fit-decreasing by groups, nodes in snapshot order. A group pinned by its constraints to
/// nothing but this node, or with a constraint NodeFleet does not model, keeps the node, named.
/// Topology spread is counted without the node (it and its pods are gone) and with each moved pod
/// of the group where it lands; pods of other groups moved are not recounted (their selectors are
/// not known here).
/// </summary>
internal static class Relocation
{
    /// <param name="nodes">Every node of the snapshot as a place (built once per decision: scale-down may try several nodes).</param>
    /// <param name="memoryFill">How much of a node's allocatable memory requests may fill; the target when null.</param>
    /// <returns>Null when every movable pod finds a node; else why not.</returns>
    public static Refusal? WhyNot(NodeInfo node, IReadOnlyList<Place> nodes, double targetUtilization, double? memoryFill = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(nodes);
        var places = nodes.Where(p => p.Node!.Name != node.Name && p.Node.Ready && !p.Node.Unschedulable).ToList();
        var targets = places.Select(p => p.Node!).ToList();
        var fill = memoryFill ?? targetUtilization;
        var room = targets.Select(n => (n.Allocatable.Scaled(targetUtilization, fill) - n.Requested).AtLeastZero()).ToArray();
        var ports = new List<HostPort>?[targets.Count];
        var scratch = new Scratch(targets.Count);
        var reference = room.Length == 0 ? new Resources(1, 1, 1) : Largest(room);
        foreach (var group in ScaleUpPacker.Decreasing(node.MovablePods, reference))
        {
            var owner = group.Owner ?? $"{group.CpuMillis}m/{group.MemoryBytes / (1024 * 1024)}Mi pods";
            if (group.Constraints is { Unmodelled.Count: > 0 } unmodelled)
            {
                return new Refusal.PodsCannotMove(node.Name, owner, group.Count, Predicate.Unmodelled, unmodelled.Unmodelled[0]);
            }

            var move = new GroupMove(group, node, nodes, targets, places, room, ports, scratch);
            var left = move.Place();
            if (left > 0)
            {
                return move.Failure is { } failure
                    ? new Refusal.PodsCannotMove(node.Name, owner, left, failure.Predicate, failure.Detail)
                    : new Refusal.PodsDoNotFit(node.Name, targetUtilization, fill);
            }
        }

        return null;
    }

    private static Resources Largest(Resources[] bins) => new(
        Math.Max(1, bins.Max(b => b.CpuMillis)),
        Math.Max(1, bins.Max(b => b.MemoryBytes)),
        Math.Max(1, bins.Max(b => b.Pods)));

    /// <summary>Per target arrays one group at a time uses: allocated once per node tried.</summary>
    private sealed class Scratch(int targets)
    {
        public int[] Placed { get; } = new int[targets];

        /// <summary>0: not checked yet; 1: passes the group's predicates; -1: does not.</summary>
        public sbyte[] Passes { get; } = new sbyte[targets];
    }

    /// <summary>One group's pods moving to the other nodes.</summary>
    private sealed class GroupMove
    {
        private readonly PodGroup group;
        private readonly List<NodeInfo> targets;
        private readonly List<Place> places;
        private readonly Resources[] room;
        private readonly List<HostPort>?[] ports;
        private readonly IReadOnlyList<HostPort> wantedPorts;
        private readonly bool oneEach;
        private readonly List<SpreadCounts> spreads;
        private readonly string?[][] domains;
        private readonly bool[][] eligible;
        private readonly int[] placed;
        private readonly sbyte[] passes;
        private Unfit? closest;
        private Unfit? limited;
        private bool anyPasses;

        public GroupMove(PodGroup group, NodeInfo leaving, IReadOnlyList<Place> nodes, List<NodeInfo> targets, List<Place> places, Resources[] room, List<HostPort>?[] ports, Scratch scratch)
        {
            this.group = group;
            this.targets = targets;
            this.places = places;
            this.room = room;
            this.ports = ports;
            var constraints = group.Constraints;
            wantedPorts = constraints?.HostPorts ?? [];
            oneEach = wantedPorts.Count > 0 || (constraints?.AntiAffinity.Any(a => a.SelfMatch) ?? false);
            spreads = constraints is null ? [] : constraints.Spread.Select(s => new SpreadCounts(constraints, s, nodes, skip: leaving.Name)).ToList();
            domains = spreads.Count == 0 ? [] : spreads.Select(s => places.Select(s.Domain).ToArray()).ToArray();
            eligible = spreads.Count == 0 ? [] : spreads.Select(s => places.Select(s.Eligible).ToArray()).ToArray();
            placed = scratch.Placed;
            passes = scratch.Passes;
            Array.Clear(placed);
            Array.Clear(passes);
        }

        /// <summary>Why the pods left over found no node: the closest predicate miss, or the limit that stopped them; null when only room ran out.</summary>
        public Unfit? Failure => anyPasses ? limited : closest;

        /// <summary>Places the group; returns the pods left over.</summary>
        public int Place()
        {
            var left = Placed();
            if (left > 0)
            {
                // Why: every node's predicates, not only those first fit got to.
                for (var t = 0; t < targets.Count; t++)
                {
                    Passes(t);
                }
            }

            return left;
        }

        /// <summary>The node passes the group's predicates; checked once, when first fit reaches it.</summary>
        private bool Passes(int t)
        {
            if (passes[t] == 0)
            {
                var unfit = Static(t);
                passes[t] = (sbyte)(unfit is null ? 1 : -1);
                anyPasses |= unfit is null;
                if (unfit is { } u)
                {
                    closest = Unfit.Closer(closest, u);
                }
            }

            return passes[t] > 0;
        }

        private int Placed()
        {
            var perPod = group.PerPod;
            if (spreads.Count == 0)
            {
                // Without spread, a node takes as many as fit at once: first fit by groups.
                var remaining = group.Count;
                for (var t = 0; t < targets.Count && remaining > 0; t++)
                {
                    var copies = perPod.CopiesThatFit(room[t]);
                    var fits = copies > 0 && Passes(t) ? Math.Min(remaining, copies) : 0;
                    var take = Math.Min(fits, PerNodeLimit(t));
                    if (take > 0)
                    {
                        Put(t, take);
                        remaining -= take;
                    }

                    if (take < fits)
                    {
                        // The node had room for more: one pod per node (anti-affinity, host ports) stopped them.
                        limited ??= OnePerNode();
                    }
                }

                return remaining;
            }

            // With spread, every placement changes what the next may do: pod by pod, as the scheduler does.
            for (var pod = 0; pod < group.Count; pod++)
            {
                var target = -1;
                for (var t = 0; t < targets.Count && target < 0; t++)
                {
                    if (perPod.FitsIn(room[t]) && Passes(t) && PerNodeLimit(t) > 0 && SpreadAllows(t))
                    {
                        target = t;
                    }
                }

                if (target < 0)
                {
                    return group.Count - pod;
                }

                Put(target, 1);
                for (var s = 0; s < spreads.Count; s++)
                {
                    if (domains[s][target] is { } domain && eligible[s][target])
                    {
                        spreads[s].Add(domain, 1);
                    }
                }
            }

            return 0;
        }

        private Unfit? Static(int t)
        {
            var constraints = group.Constraints;
            var name = targets[t].Name;
            if (Predicates.Check(constraints, places[t]) is { } unfit)
            {
                return unfit;
            }

            if (constraints is null)
            {
                return null;
            }

            if (wantedPorts.Count > 0 && constraints.HostPortNodes.Contains(name))
            {
                return new Unfit(Predicate.HostPort, Predicates.Describe(wantedPorts[0]));
            }

            return constraints.AntiAffinity.Any(a => a.Nodes.Contains(name)) ? new Unfit(Predicate.PodAntiAffinity, "") : null;
        }

        private int PerNodeLimit(int t)
        {
            if (wantedPorts.Count > 0 && Predicates.Conflicting(wantedPorts, ports[t]) is { } port)
            {
                limited ??= new Unfit(Predicate.HostPort, Predicates.Describe(port));
                return 0;
            }

            if (oneEach && placed[t] > 0)
            {
                limited ??= OnePerNode();
                return 0;
            }

            return oneEach ? 1 : int.MaxValue;
        }

        private Unfit OnePerNode() =>
            wantedPorts.Count > 0 ? new Unfit(Predicate.HostPort, Predicates.Describe(wantedPorts[0])) : new Unfit(Predicate.PodAntiAffinity, "");

        private bool SpreadAllows(int t)
        {
            for (var s = 0; s < spreads.Count; s++)
            {
                if (domains[s][t] is not { } domain || !spreads[s].Allows(domain))
                {
                    limited ??= new Unfit(Predicate.TopologySpread, ScaleUpPacker.Describe(spreads[s].Spread));
                    return false;
                }
            }

            return true;
        }

        private void Put(int t, int pods)
        {
            room[t] -= group.PerPod.Times(pods);
            placed[t] += pods;
            if (wantedPorts.Count > 0)
            {
                (ports[t] ??= []).AddRange(wantedPorts);
            }
        }
    }
}
