using System.Globalization;
using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy.Scheduling;

/// <summary>Capacity already on its way: instances launching (their zone when EC2 listed them) and the free room of nodes that joined moments ago.</summary>
internal sealed record OpenCapacity(IReadOnlyList<string?> LaunchingZones, IReadOnlyList<NodeInfo> RecentlyJoined)
{
    public static OpenCapacity None { get; } = new([], []);

    public int Launching => LaunchingZones.Count;

    public int Nodes => LaunchingZones.Count + RecentlyJoined.Count;
}

/// <summary>
/// What the pending pods need: <see cref="NewNodes"/> (a lower bound when <see cref="Truncated"/>),
/// of which <see cref="Pinned"/> must be in a given zone; the pods a node could hold at all
/// (<see cref="PlaceablePods"/>); and those no new node could host, by owner and reason.
/// </summary>
internal sealed record ScaleUpPlan(int NewNodes, bool Truncated, int PlaceablePods, IReadOnlyList<ZoneShare> Pinned, IReadOnlyList<NoScaleUpPods> NoScaleUp)
{
    public int UnplaceablePods => NoScaleUp.Sum(p => p.Count);
}

/// <summary>
/// First-fit-decreasing by pod groups under the scheduler's predicates: each group goes first into
/// open capacity (launching nodes, then recently joined ones), then into the nodes this plan opened
/// for earlier groups, then onto new nodes of the first template that can host it. A group is
/// poured whole into a node (as many copies as fit and its constraints allow), so the cost is
/// groups × nodes, not pods × nodes; new nodes stop at a limit (a launch never exceeds the maximum).
/// <list type="bullet">
/// <item>A new node for a group that fits every zone of the template stays unpinned (LaunchNodes
/// balances it); a group that fits only some zones, or spreads over zones, opens nodes pinned to a
/// zone, and may pin an unpinned node it joins. Among allowed zones, the one with the fewest workers
/// (existing and planned) is taken.</item>
/// <item>Hostname anti-affinity with its own replicas, and host ports, put one pod of the group per node.</item>
/// <item>Hostname spread caps each node at the lowest existing eligible node's count plus maxSkew
/// (the lowest is taken as it was in the snapshot: the plan never packs tighter than the scheduler may).</item>
/// <item>Zone spread: the group's pods are shared out over the zones a template can host it in by
/// water-filling (always the zone with the fewest matching pods), each zone capped by the lowest
/// eligible zone nothing can be launched in plus maxSkew, or by maxSkew alone with fewer domains
/// than minDomains. A zone counts as a domain where existing eligible nodes are, and once the plan
/// opens (or launches) a node there; an unpinned node is not counted anywhere. Pods beyond the caps
/// are never a reason to launch (TopologySpread).</item>
/// </list>
/// </summary>
internal sealed class ScaleUpPacker
{
    private readonly TemplateCatalog catalog;
    private readonly IReadOnlyList<NodeInfo> nodes;
    private readonly int maxNewNodes;
    private readonly List<Bin> bins = [];
    private readonly Dictionary<string, int> workersByZone = new(StringComparer.Ordinal);
    private readonly List<string> zoneOrder = [];
    private readonly List<NoScaleUpPods> noScaleUp = [];
    private readonly GroupFit groupFit;

    // Per group, by bin index: pods of the group placed there, and whether the bin passes the group's
    // predicates; an entry counts only when stamped with the current group's number (no clearing per group).
    private int[] placedHere = new int[16];
    private sbyte[] usable = new sbyte[16];
    private int[] stamp = new int[16];
    private int groupNumber;

    // The snapshot's nodes as places, built when a group first spreads (only spread counts need them all).
    private List<Place>? nodePlaces;

    private int newNodes;
    private bool truncated;
    private int placeable;

    private ScaleUpPacker(OpenCapacity open, TemplateCatalog catalog, IReadOnlyList<NodeInfo> nodes, int maxNewNodes)
    {
        this.catalog = catalog;
        this.nodes = nodes;
        this.maxNewNodes = maxNewNodes;
        groupFit = new GroupFit(catalog);
        foreach (var template in catalog.Templates)
        {
            foreach (var zone in template.Zones)
            {
                AddZone(zone);
            }
        }

        foreach (var node in nodes)
        {
            if (node.IsWorker && node.Zone is { } zone)
            {
                AddZone(zone);
                workersByZone[zone]++;
            }
        }

        // Launching nodes are taken to be of the first template: launches record no template (one pool today).
        foreach (var zone in open.LaunchingZones)
        {
            if (catalog.Templates.Count == 0)
            {
                break;
            }

            var slot = (zone is null ? null : catalog.Slot(0, zone)) ?? catalog.UnknownZone[0];
            bins.Add(new Bin { Template = 0, Zone = slot.Zone, Place = slot.Place, Capacity = slot.Capacity });
            if (slot.Zone is { } known)
            {
                AddZone(known);
                workersByZone[known]++;
            }
        }

        foreach (var node in open.RecentlyJoined)
        {
            var place = Place.Of(node);
            bins.Add(new Bin { Template = -1, Zone = place.Zone, Place = place, Capacity = FleetView.Room(node) });
        }
    }

    /// <param name="maxNewNodes">More new nodes than this can never be launched: packing stops there and says so.</param>
    public static ScaleUpPlan Pack(IReadOnlyList<PodGroup> pods, OpenCapacity open, TemplateCatalog catalog, IReadOnlyList<NodeInfo> nodes, int maxNewNodes)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(nodes);
        var packer = new ScaleUpPacker(open, catalog, nodes, maxNewNodes);
        var reference = catalog.Templates.Count > 0 ? catalog.Templates[0].Allocatable : new Resources(1, 1, 1);
        foreach (var group in Decreasing(pods, reference))
        {
            packer.Add(group);
        }

        return packer.Result();
    }

    /// <summary>Largest first by the dominant share of a worker, then by CPU, then by memory (stable: snapshot order on ties).</summary>
    public static IEnumerable<PodGroup> Decreasing(IEnumerable<PodGroup> pods, Resources reference) =>
        pods.Where(g => g.Count > 0)
            .OrderByDescending(g => g.PerPod.DominantShareOf(reference))
            .ThenByDescending(g => g.CpuMillis)
            .ThenByDescending(g => g.MemoryBytes);

    private ScaleUpPlan Result()
    {
        var pinned = new List<ZoneShare>();
        foreach (var zone in zoneOrder)
        {
            var count = bins.Count(b => b.New && b.Zone == zone);
            if (count > 0)
            {
                pinned.Add(new ZoneShare { Zone = zone, Nodes = count });
            }
        }

        return new ScaleUpPlan(newNodes, truncated, placeable, pinned, Merge(noScaleUp));
    }

    private void Add(PodGroup group)
    {
        var constraints = group.Constraints;
        if (constraints is { Unmodelled.Count: > 0 })
        {
            noScaleUp.Add(NoScaleUp(group, group.Count, new Unfit(Predicate.Unmodelled, constraints.Unmodelled[0])));
            return;
        }

        // Only zone and hostname spread are modelled; another key is not something a template says.
        if (constraints?.Spread.FirstOrDefault(s => s.TopologyKey is not (Settings.WorkerTemplates.ZoneLabel or Settings.WorkerTemplates.HostnameLabel)) is { } other)
        {
            noScaleUp.Add(NoScaleUp(group, group.Count, new Unfit(Predicate.Unmodelled, "topology spread on " + other.TopologyKey)));
            return;
        }

        var fit = groupFit.Load(group);
        if (truncated)
        {
            // Packing stopped at the limit: later groups are only classified.
            Classified(group, group.Count, fit, spreadExcess: 0);
            return;
        }

        groupNumber++;
        var pour = new Pour(this, group, fit);
        var remaining = pour.Spreads.Any(s => s.IsZone) ? pour.AcrossZones() : pour.Anywhere(group.Count);
        Classified(group, remaining, fit, pour.SpreadExcess);
    }

    /// <summary>Counts the group's placeable pods; what is left over and no template could host is listed, never launched for.</summary>
    private void Classified(PodGroup group, int remaining, GroupFit fit, int spreadExcess)
    {
        var unplaceable = 0;
        if (remaining > 0 && fit.FirstTemplate < 0)
        {
            unplaceable = remaining;
            noScaleUp.Add(NoScaleUp(group, remaining, fit.Failure ?? new Unfit(Predicate.TooLarge, "no worker template")));
        }
        else if (remaining > 0 && spreadExcess > 0)
        {
            unplaceable = Math.Min(remaining, spreadExcess);
            var spread = group.Constraints!.Spread.First(s => s.TopologyKey == Settings.WorkerTemplates.ZoneLabel);
            noScaleUp.Add(NoScaleUp(group, unplaceable, new Unfit(Predicate.TopologySpread, Describe(spread))));
        }

        placeable += group.Count - unplaceable;
    }

    private static NoScaleUpPods NoScaleUp(PodGroup group, int count, Unfit why) => new()
    {
        Owner = group.Owner ?? $"{group.CpuMillis}m/{group.MemoryBytes / (1024 * 1024)}Mi pods",
        Count = count,
        Reason = why.ToNoScaleUp(),
        Detail = why.Detail,
    };

    /// <summary>One entry per owner, reason and detail (an owner's pods of several sizes are counted together).</summary>
    private static List<NoScaleUpPods> Merge(List<NoScaleUpPods> entries) =>
        entries.GroupBy(e => (e.Owner, e.Reason, e.Detail))
            .Select(g => g.First() with { Count = g.Sum(e => e.Count) })
            .ToList();

    public static string Describe(TopologySpread spread) =>
        $"{spread.TopologyKey} maxSkew {spread.MaxSkew}"
        + (spread.MinDomains is { } min ? string.Create(CultureInfo.InvariantCulture, $", minDomains {min}") : "");

    private void AddZone(string zone)
    {
        if (workersByZone.TryAdd(zone, 0))
        {
            zoneOrder.Add(zone);
        }
    }

    /// <summary>Makes bin <paramref name="b"/>'s scratch entries the current group's.</summary>
    private void Touch(int b)
    {
        if (b >= stamp.Length)
        {
            var size = Math.Max(b + 1, stamp.Length * 2);
            Array.Resize(ref stamp, size);
            Array.Resize(ref placedHere, size);
            Array.Resize(ref usable, size);
        }

        if (stamp[b] != groupNumber)
        {
            stamp[b] = groupNumber;
            placedHere[b] = 0;
            usable[b] = 0;
        }
    }

    private int OpenBin(int template, string? zone)
    {
        var slot = zone is null ? catalog.UnknownZone[template] : catalog.Slot(template, zone)!;
        bins.Add(new Bin { Template = template, Zone = zone, New = true, Place = slot.Place, Capacity = slot.Capacity });
        newNodes++;
        if (zone is not null)
        {
            workersByZone[zone]++;
        }

        return bins.Count - 1;
    }

    /// <summary>Takes back a new node that no pod of the group could use after all (the last one opened).</summary>
    private void CloseEmpty(int b)
    {
        if (bins[b].Zone is { } zone)
        {
            workersByZone[zone]--;
        }

        bins.RemoveAt(b);
        newNodes--;
    }

    /// <summary>A node of the plan: open capacity (launching, just joined) or a new node.</summary>
    private sealed class Bin
    {
        /// <summary>Index of its template; -1 for a node that has joined.</summary>
        public int Template { get; init; }

        /// <summary>Its zone when known or pinned; null for a launching node not listed yet, or a new node left to the zone balance.</summary>
        public string? Zone { get; set; }

        public bool New { get; init; }

        public bool Pinnable => New && Zone is null;

        public required Place Place { get; set; }

        /// <summary>The room it offers empty (a joined node: its free room in the snapshot).</summary>
        public Resources Capacity { get; set; }

        public Resources Used { get; set; }

        public List<HostPort>? Ports { get; set; }

        public Resources Room => Capacity - Used;
    }

    /// <summary>Where a group fits on the templates: per template and zone, in a zone not known, and the closest miss when nowhere.</summary>
    private sealed class GroupFit
    {
        private readonly TemplateCatalog catalog;
        private readonly bool[][] fits;

        /// <summary>Arrays for the catalog, reused for every group (<see cref="Load"/>).</summary>
        public GroupFit(TemplateCatalog catalog)
        {
            this.catalog = catalog;
            fits = catalog.Slots.Select(slots => new bool[slots.Count]).ToArray();
            FitsUnknown = new bool[catalog.Templates.Count];
            AllZones = new bool[catalog.Templates.Count];
            AnyZone = new bool[catalog.Templates.Count];
        }

        public GroupFit Load(PodGroup group)
        {
            var perPod = group.PerPod;
            FirstTemplate = -1;
            Failure = null;
            for (var t = 0; t < catalog.Templates.Count; t++)
            {
                var slots = catalog.Slots[t];
                var all = slots.Count > 0;
                var any = false;
                for (var z = 0; z < slots.Count; z++)
                {
                    var unfit = Check(group.Constraints, slots[z], perPod);
                    fits[t][z] = unfit is null;
                    all &= unfit is null;
                    any |= unfit is null;
                    if (unfit is { } u)
                    {
                        Failure = Unfit.Closer(Failure, u);
                    }
                }

                FitsUnknown[t] = Check(group.Constraints, catalog.UnknownZone[t], perPod) is null;
                AllZones[t] = all && FitsUnknown[t];
                AnyZone[t] = any;
                if (FirstTemplate < 0 && any)
                {
                    FirstTemplate = t;
                }
            }

            return this;
        }

        /// <summary>The first template with a zone that can host the group; -1 when none can.</summary>
        public int FirstTemplate { get; private set; }

        /// <summary>Per template: a node of it in a zone not known hosts the group.</summary>
        public bool[] FitsUnknown { get; }

        /// <summary>Per template: every zone hosts the group alike, so its new nodes need no zone.</summary>
        public bool[] AllZones { get; }

        /// <summary>The closest miss over every template and zone (meaningful when <see cref="FirstTemplate"/> is -1).</summary>
        public Unfit? Failure { get; private set; }

        public bool Fits(int template, string zone)
        {
            var slots = catalog.Slots[template];
            for (var z = 0; z < slots.Count; z++)
            {
                if (slots[z].Zone == zone)
                {
                    return fits[template][z];
                }
            }

            return false;
        }

        /// <summary>Per template: some zone hosts the group.</summary>
        public bool[] AnyZone { get; }

        private static Unfit? Check(PodConstraints? constraints, TemplateSlot slot, Resources perPod) =>
            Predicates.Check(constraints, slot.Place)
            ?? (perPod.FitsIn(slot.Capacity)
                ? null
                : new Unfit(Predicate.TooLarge, $"{perPod.CpuMillis}m CPU and {perPod.MemoryBytes / (1024 * 1024)}Mi memory; a new worker offers {slot.Capacity.CpuMillis}m and {slot.Capacity.MemoryBytes / (1024 * 1024)}Mi"));
    }

    /// <summary>Pouring one group into the plan's nodes.</summary>
    private sealed class Pour
    {
        private readonly ScaleUpPacker packer;
        private readonly PodGroup group;
        private readonly GroupFit fit;
        private readonly Resources perPod;
        private readonly bool oneEach;
        private readonly IReadOnlyList<HostPort> ports;

        public Pour(ScaleUpPacker packer, PodGroup group, GroupFit fit)
        {
            this.packer = packer;
            this.group = group;
            this.fit = fit;
            perPod = group.PerPod;
            var constraints = group.Constraints;
            ports = constraints?.HostPorts ?? [];
            oneEach = ports.Count > 0 || (constraints?.AntiAffinity.Any(a => a.SelfMatch) ?? false);
            Spreads = constraints is null ? [] : constraints.Spread.Select(s => new SpreadCounts(constraints, s, packer.nodePlaces ??= packer.nodes.Select(Scheduling.Place.Of).ToList())).ToList();
        }

        public IReadOnlyList<SpreadCounts> Spreads { get; }

        /// <summary>Pods zone spread lets no zone take.</summary>
        public int SpreadExcess { get; private set; }

        private List<Bin> Bins => packer.bins;

        /// <summary>First fit over the plan's nodes, then new nodes; returns the pods left (none unless truncated or no template fits).</summary>
        public int Anywhere(int count)
        {
            var remaining = count;
            for (var b = 0; b < Bins.Count && remaining > 0; b++)
            {
                var bin = Bins[b];
                if (Full(bin) || !Usable(b))
                {
                    continue;
                }

                string? pin = null;
                var room = bin.Room;
                if (bin.Pinnable && !fit.AllZones[bin.Template])
                {
                    pin = BalancedZone(bin.Template);
                    room = packer.catalog.Slot(bin.Template, pin!)!.Capacity - bin.Used;
                }

                remaining -= Place(b, Math.Min(remaining, Cap(b)), room, pin);
            }

            var template = fit.FirstTemplate;
            while (remaining > 0 && template >= 0 && !packer.truncated)
            {
                if (packer.newNodes >= packer.maxNewNodes)
                {
                    packer.truncated = true;
                    break;
                }

                var b = packer.OpenBin(template, fit.AllZones[template] ? null : BalancedZone(template));
                var placed = Place(b, Math.Min(remaining, Cap(b)), Bins[b].Room, null);
                if (placed == 0)
                {
                    packer.CloseEmpty(b);
                    break;
                }

                remaining -= placed;
            }

            return remaining;
        }

        /// <summary>Zone spread: shares the pods out over the zones by water-filling, then pours each share into its zone.</summary>
        public int AcrossZones()
        {
            var zoneSpreads = Spreads.Where(s => s.IsZone).ToList();
            foreach (var bin in Bins)
            {
                // The plan's nodes with a known zone are domains (a joined node is in the snapshot already).
                if (bin.Template >= 0 && bin.Zone is { } zone)
                {
                    foreach (var spread in zoneSpreads.Where(s => s.HasKeys(bin.Place) && s.Eligible(bin.Place)))
                    {
                        spread.Open(zone);
                    }
                }
            }

            var zones = new List<string>();
            foreach (var zone in packer.zoneOrder)
            {
                var hostable = Enumerable.Range(0, packer.catalog.Templates.Count).Any(t => fit.Fits(t, zone));
                if (hostable && zoneSpreads.All(s => s.Self == 1 || !s.IsDomain(zone) || s.Allows(zone)))
                {
                    zones.Add(zone);
                }
            }

            var selfMatching = zoneSpreads.Where(s => s.Self == 1).ToList();
            var levels = zones.Select(z => selfMatching.Count > 0 ? selfMatching[0].Count(z) : 0).ToArray();
            var extra = zones.Select(z => selfMatching.Count == 0 ? long.MaxValue : selfMatching.Min(s => Extra(s, z, zones))).ToArray();
            var open = zones.Select(HasOpenRoom).ToArray();
            var shares = WaterFill(levels, extra, open, group.Count);
            SpreadExcess = group.Count - shares.Sum();

            var remaining = group.Count;
            for (var i = 0; i < zones.Count && !packer.truncated; i++)
            {
                if (shares[i] == 0)
                {
                    continue;
                }

                var placed = IntoZone(zones[i], shares[i]);
                foreach (var spread in zoneSpreads)
                {
                    spread.Open(zones[i]);
                    spread.Add(zones[i], placed);
                }

                remaining -= placed;
            }

            return remaining;
        }

        /// <summary>
        /// Shares <paramref name="count"/> pods over zones at <paramref name="levels"/>, each taking at
        /// most its <paramref name="extra"/>: the lowest zone first; on the last level, zones with
        /// open room first, then in order.
        /// </summary>
        public static int[] WaterFill(int[] levels, long[] extra, bool[] open, int count)
        {
            var shares = new int[levels.Length];
            if (levels.Length == 0 || count == 0)
            {
                return shares;
            }

            long Filled(long level)
            {
                long sum = 0;
                for (var i = 0; i < levels.Length; i++)
                {
                    sum += Math.Min(extra[i], Math.Max(0, level - levels[i]));
                }

                return sum;
            }

            long low = levels.Min(), high = (long)levels.Max() + count;
            if (Filled(high) < count)
            {
                for (var i = 0; i < levels.Length; i++)
                {
                    shares[i] = (int)Math.Min(extra[i], Math.Max(0, high - levels[i]));
                }

                return shares;
            }

            while (low < high)
            {
                var mid = low + ((high - low) / 2);
                if (Filled(mid) >= count)
                {
                    high = mid;
                }
                else
                {
                    low = mid + 1;
                }
            }

            var left = count;
            for (var i = 0; i < levels.Length; i++)
            {
                shares[i] = (int)Math.Min(extra[i], Math.Max(0, low - 1 - levels[i]));
                left -= shares[i];
            }

            foreach (var preferOpen in new[] { true, false })
            {
                for (var i = 0; i < levels.Length && left > 0; i++)
                {
                    if (open[i] == preferOpen && Math.Min(extra[i], Math.Max(0, low - levels[i])) > shares[i])
                    {
                        shares[i]++;
                        left--;
                    }
                }
            }

            return shares;
        }

        /// <summary>
        /// How many more pods of the group <paramref name="zone"/> may end up with: up to the lowest
        /// eligible zone no template can grow plus maxSkew; maxSkew alone when, even with every hostable
        /// zone opened, fewer domains than minDomains exist; unbounded when every domain can grow.
        /// </summary>
        private static long Extra(SpreadCounts spread, string zone, List<string> hostable)
        {
            var domains = spread.Domains + hostable.Count(z => !spread.IsDomain(z));
            if (domains < (spread.Spread.MinDomains ?? 1))
            {
                return Math.Max(0, spread.Spread.MaxSkew - spread.Count(zone));
            }

            var fixedLowest = spread.LowestExcept(hostable);
            return fixedLowest == int.MaxValue ? long.MaxValue : Math.Max(0, (long)fixedLowest + spread.Spread.MaxSkew - spread.Count(zone));
        }

        private bool HasOpenRoom(string zone)
        {
            for (var b = 0; b < Bins.Count; b++)
            {
                if (Bins[b].Zone == zone && Usable(b) && Cap(b) > 0 && perPod.CopiesThatFit(Bins[b].Room) > 0)
                {
                    return true;
                }
            }

            return false;
        }

        private int IntoZone(string zone, int count)
        {
            var placed = 0;
            for (var b = 0; b < Bins.Count && placed < count; b++)
            {
                var bin = Bins[b];
                if (Full(bin) || (bin.Pinnable ? !fit.Fits(bin.Template, zone) : bin.Zone != zone || !Usable(b)))
                {
                    continue;
                }

                var room = bin.Pinnable ? packer.catalog.Slot(bin.Template, zone)!.Capacity - bin.Used : bin.Room;
                placed += Place(b, Math.Min(count - placed, Cap(b)), room, bin.Pinnable ? zone : null);
            }

            var template = Enumerable.Range(0, packer.catalog.Templates.Count).FirstOrDefault(t => fit.Fits(t, zone), -1);
            while (placed < count && template >= 0)
            {
                if (packer.newNodes >= packer.maxNewNodes)
                {
                    packer.truncated = true;
                    break;
                }

                var b = packer.OpenBin(template, zone);
                var took = Place(b, Math.Min(count - placed, Cap(b)), Bins[b].Room, null);
                if (took == 0)
                {
                    packer.CloseEmpty(b);
                    break;
                }

                placed += took;
            }

            return placed;
        }

        /// <summary>No pod of the group fits any more, whatever zone the node is pinned to (checked first: most nodes are full for later groups).</summary>
        private bool Full(Bin bin) =>
            !perPod.FitsIn(bin.Pinnable ? packer.catalog.Largest[bin.Template] - bin.Used : bin.Room);

        /// <summary>Puts up to <paramref name="wanted"/> pods in, as room allows; pins the node to <paramref name="pin"/> when it takes any.</summary>
        private int Place(int b, int wanted, Resources room, string? pin)
        {
            var take = wanted <= 0 ? 0 : Math.Min(wanted, perPod.CopiesThatFit(room));
            if (take == 0)
            {
                return 0;
            }

            var bin = Bins[b];
            if (pin is not null)
            {
                var slot = packer.catalog.Slot(bin.Template, pin)!;
                bin.Zone = pin;
                bin.Place = slot.Place;
                bin.Capacity = slot.Capacity;
                packer.workersByZone[pin]++;
            }

            bin.Used += perPod.Times(take);
            packer.Touch(b);
            packer.placedHere[b] += take;
            if (ports.Count > 0)
            {
                (bin.Ports ??= []).AddRange(ports);
            }

            return take;
        }

        /// <summary>The node passes the group's predicates (labels, taints, ports and anti-affinity of running pods); cached per group.</summary>
        private bool Usable(int b)
        {
            packer.Touch(b);
            if (packer.usable[b] == 0)
            {
                packer.usable[b] = (sbyte)(Passes(Bins[b]) ? 1 : -1);
            }

            return packer.usable[b] > 0;
        }

        private bool Passes(Bin bin)
        {
            if (bin.Template < 0)
            {
                var node = bin.Place.Node!;
                var constraints = group.Constraints;
                return Predicates.Check(constraints, bin.Place) is null
                    && (ports.Count == 0 || !constraints!.HostPortNodes.Contains(node.Name))
                    && (constraints is null || !Repels(constraints, node.Name));
            }

            if (bin.Pinnable)
            {
                return fit.AnyZone[bin.Template];
            }

            return bin.Zone is { } zone ? fit.Fits(bin.Template, zone) : fit.FitsUnknown[bin.Template];
        }

        /// <summary>How many more of the group's pods the node may take by its constraints (room aside).</summary>
        private int Cap(int b)
        {
            var bin = Bins[b];
            packer.Touch(b);
            var here = packer.placedHere[b];
            var cap = oneEach ? 1 - here : int.MaxValue;
            if (ports.Count > 0 && Predicates.Conflicting(ports, bin.Ports) is not null)
            {
                return 0;
            }

            foreach (var spread in Spreads)
            {
                if (!spread.HasKeys(bin.Place))
                {
                    return 0;
                }

                if (spread.IsZone)
                {
                    continue;
                }

                // Hostname spread: a node not launched yet has no matching pod of its own.
                var count = (bin.Place.Node is { } node ? spread.Count(node.Name) : 0) + (spread.Self * here);
                var limit = spread.Self == 1
                    ? spread.GlobalMin + spread.Spread.MaxSkew - count
                    : count - spread.GlobalMin <= spread.Spread.MaxSkew ? int.MaxValue : 0;
                cap = Math.Min(cap, Math.Max(0, limit));
            }

            return cap;
        }

        private static bool Repels(PodConstraints constraints, string node)
        {
            for (var i = 0; i < constraints.AntiAffinity.Count; i++)
            {
                if (constraints.AntiAffinity[i].Nodes.Contains(node))
                {
                    return true;
                }
            }

            return false;
        }

        private string BalancedZone(int template)
        {
            string? best = null;
            foreach (var slot in packer.catalog.Slots[template])
            {
                if (fit.Fits(template, slot.Zone!) && (best is null || packer.workersByZone[slot.Zone!] < packer.workersByZone[best]))
                {
                    best = slot.Zone;
                }
            }

            return best!;
        }
    }
}
