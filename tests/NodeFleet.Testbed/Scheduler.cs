namespace NodeFleet.Testbed;

/// <summary>
/// One pass of kube-scheduler's filters over the model (its default profile, in its order:
/// NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, VolumeBinding,
/// PodTopologySpread, InterPodAffinity), written from the Kubernetes documentation and the
/// scheduler plugins' documented behaviour, independently of NodeFleet's own predicates: the
/// testbed is the oracle NodeFleet is tested against. A node passes when every filter does; the
/// first that fails gives the node's reasons. A pod that fits nowhere gets the message the real
/// scheduler writes in its PodScheduled condition. Scoring is not modelled: the first node that
/// passes is taken, so preferred terms and ScheduleAnyway spread never matter; nor is preemption
/// (the message says what it would find with pods of equal priority: no victims).
/// </summary>
internal sealed class Scheduler
{
    /// <summary>The node lifecycle controller's taint on a NotReady node (TaintNodesByCondition).</summary>
    public static readonly TestTaint NotReadyTaint = new("node.kubernetes.io/not-ready", "NoSchedule");

    private static readonly TestTaint UnschedulableTaint = new("node.kubernetes.io/unschedulable", "NoSchedule");

    private readonly List<TestNode> nodes;
    private readonly Dictionary<string, TestNode> byName;
    private readonly Dictionary<string, List<TestPod>> podsOn = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Cpu, long Memory)> used = new(StringComparer.Ordinal);
    private readonly List<TestPod> withAntiAffinity = [];
    private readonly IReadOnlyList<TestClaim> claims;
    private readonly IReadOnlyList<TestVolume> volumes;
    private readonly Func<string, IReadOnlyDictionary<string, string>> namespaceLabels;

    public Scheduler(IReadOnlyList<TestNode> nodes, IEnumerable<TestPod> pods, IReadOnlyList<TestClaim> claims, IReadOnlyList<TestVolume> volumes,
        Func<string, IReadOnlyDictionary<string, string>> namespaceLabels)
    {
        this.nodes = [.. nodes];
        byName = this.nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        this.claims = claims;
        this.volumes = volumes;
        this.namespaceLabels = namespaceLabels;
        foreach (var node in this.nodes)
        {
            podsOn[node.Name] = [];
            used[node.Name] = (0, 0);
        }

        foreach (var pod in pods.Where(p => p.Active && p.NodeName is not null && byName.ContainsKey(p.NodeName)))
        {
            Bind(pod, pod.NodeName!);
        }
    }

    /// <summary>The node the pod may go to, or null with the scheduler's message.</summary>
    public string? Place(TestPod pod, out string? message)
    {
        message = null;
        var total = nodes.Count;
        if (total == 0)
        {
            message = "no nodes available to schedule pods";
            return null;
        }

        var context = new PodContext(this, pod);
        if (context.PreFilterRejection is { } rejected)
        {
            // A PreFilter rejection stands for every node; preemption then finds nothing to evict.
            message = $"0/{total} nodes are available: {rejected}. preemption: 0/{total} nodes are available: {total} No preemption victims found for incoming pod.";
            return null;
        }

        var failures = new List<Failure>();
        foreach (var node in nodes)
        {
            if (Filter(context, node) is not { } failure)
            {
                return node.Name;
            }

            failures.Add(failure);
        }

        static string Histogram(IEnumerable<string> reasons) =>
            string.Join(", ", reasons.GroupBy(r => r, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}").Order(StringComparer.Ordinal));
        var preemption = failures.Select(f => f.Unresolvable ? "Preemption is not helpful for scheduling" : "No preemption victims found for incoming pod");
        message = $"0/{total} nodes are available: {Histogram(failures.SelectMany(f => f.Reasons))}. preemption: 0/{total} nodes are available: {Histogram(preemption)}.";
        return null;
    }

    /// <summary>Counts the pod on the node for the pods placed after it.</summary>
    public void Bind(TestPod pod, string nodeName)
    {
        podsOn[nodeName].Add(pod);
        var (cpu, memory) = used[nodeName];
        used[nodeName] = (cpu + pod.CpuMillis, memory + pod.MemoryBytes);
        if (pod.Spec.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is { Count: > 0 })
        {
            withAntiAffinity.Add(pod);
        }
    }

    /// <summary>Whether the node's taints with these effects are all tolerated; the first one that is not otherwise.</summary>
    public static TestTaint? Untolerated(TestNode node, IReadOnlyList<TolerationSpec> tolerations, params string[] effects) =>
        EffectiveTaints(node).FirstOrDefault(t => effects.Contains(t.Effect) && !tolerations.Any(o => Tolerates(o, t)));

    /// <summary>The node's taints and, while it is NotReady, the not-ready taint the node lifecycle controller adds.</summary>
    public static IEnumerable<TestTaint> EffectiveTaints(TestNode node) =>
        node.Ready || node.Taints.Any(t => t.Key == NotReadyTaint.Key && t.Effect == NotReadyTaint.Effect) ? node.Taints : node.Taints.Append(NotReadyTaint);

    /// <summary>core/v1 Toleration.ToleratesTaint: effect and key (when given) must be equal; Equal compares the value, Exists does not.</summary>
    public static bool Tolerates(TolerationSpec toleration, TestTaint taint)
    {
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
            null or "" or "Equal" => (toleration.Value ?? "") == (taint.Value ?? ""),
            "Exists" => true,
            _ => false,
        };
    }

    /// <summary>spec.nodeSelector (every label equal) and the required node affinity (a term that matches).</summary>
    public static bool MatchesNodeSelector(TestNode node, PodSpec spec) =>
        (spec.NodeSelector ?? new Dictionary<string, string>()).All(s => node.Labels.TryGetValue(s.Key, out var v) && v == s.Value)
        && (spec.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution is not { } required || MatchesAnyTerm(node, required.NodeSelectorTerms));

    /// <summary>Terms are ORed; a term with no requirement matches no node; an empty list matches none.</summary>
    public static bool MatchesAnyTerm(TestNode node, IReadOnlyList<NodeSelectorTermSpec> terms) => terms.Any(term =>
    {
        var (expressions, fields) = (term.MatchExpressions ?? [], term.MatchFields ?? []);
        return (expressions.Count > 0 || fields.Count > 0)
            && expressions.All(r => Holds(r, node.Labels))
            && fields.All(r => r.Key == "metadata.name" && Holds(r, new Dictionary<string, string> { ["metadata.name"] = node.Name }));
    });

    /// <summary>A node selector requirement; Gt and Lt read the label and the single value as integers (a label that is not one never matches).</summary>
    public static bool Holds(NodeRequirementSpec requirement, IReadOnlyDictionary<string, string> labels)
    {
        var values = requirement.Values ?? [];
        var present = labels.TryGetValue(requirement.Key, out var value);
        return requirement.Operator switch
        {
            "In" => present && values.Contains(value!),
            "NotIn" => !present || !values.Contains(value!),
            "Exists" => present,
            "DoesNotExist" => !present,
            "Gt" => present && values.Count == 1 && Integer(value!) is { } gt && Integer(values[0]) is { } bound && gt > bound,
            "Lt" => present && values.Count == 1 && Integer(value!) is { } lt && Integer(values[0]) is { } limit && lt < limit,
            _ => false,
        };
    }

    private static long? Integer(string text) =>
        long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;

    private Failure? Filter(PodContext context, TestNode node)
    {
        var spec = context.Pod.Spec;
        if (node.Unschedulable && !context.Tolerations.Any(t => Tolerates(t, UnschedulableTaint)))
        {
            return Failure.Unresolved("node(s) were unschedulable");
        }

        if (Untolerated(node, context.Tolerations, "NoSchedule", "NoExecute") is { } taint)
        {
            return Failure.Unresolved($"node(s) had untolerated taint {{{taint.Key}: {taint.Value}}}");
        }

        if (!MatchesNodeSelector(node, spec))
        {
            return Failure.Unresolved("node(s) didn't match Pod's node affinity/selector");
        }

        if (context.HostPorts.Count > 0 && podsOn[node.Name].SelectMany(p => p.Spec.HostPorts()).Any(held => context.HostPorts.Any(wanted => Conflict(held, wanted))))
        {
            return Failure.Resolved("node(s) didn't have free ports for the requested pod ports");
        }

        if (ResourceShortfalls(context.Pod, node) is { Count: > 0 } shortfalls)
        {
            return new Failure(false, shortfalls);
        }

        if (context.MissingVolume)
        {
            return Failure.Unresolved("node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)");
        }

        if (context.VolumeAffinity.Any(terms => !MatchesAnyTerm(node, terms)))
        {
            return Failure.Unresolved("node(s) had volume node affinity conflict");
        }

        return context.Spread(node) ?? context.InterPod(node);
    }

    /// <summary>NodeResourcesFit: pod slots, then CPU and memory (a pod that requests neither needs only a slot).</summary>
    private List<string> ResourceShortfalls(TestPod pod, TestNode node)
    {
        var reasons = new List<string>();
        if (podsOn[node.Name].Count + 1 > node.MaxPods)
        {
            reasons.Add("Too many pods");
        }

        if (pod.CpuMillis == 0 && pod.MemoryBytes == 0)
        {
            return reasons;
        }

        var (cpu, memory) = used[node.Name];
        if (cpu + pod.CpuMillis > node.CpuMillis)
        {
            reasons.Add("Insufficient cpu");
        }

        if (memory + pod.MemoryBytes > node.MemoryBytes)
        {
            reasons.Add("Insufficient memory");
        }

        return reasons;
    }

    /// <summary>Same port and protocol on a shared address: an empty or 0.0.0.0 address takes the port on every address.</summary>
    private static bool Conflict(PortSpec a, PortSpec b)
    {
        static string Address(PortSpec p) => string.IsNullOrEmpty(p.HostIp) ? "0.0.0.0" : p.HostIp;
        static string Protocol(PortSpec p) => string.IsNullOrEmpty(p.Protocol) ? "TCP" : p.Protocol;
        return a.HostPort == b.HostPort && Protocol(a) == Protocol(b)
            && (Address(a) == "0.0.0.0" || Address(b) == "0.0.0.0" || Address(a) == Address(b));
    }

    private sealed record Failure(bool Unresolvable, IReadOnlyList<string> Reasons)
    {
        /// <summary>UnschedulableAndUnresolvable: evicting pods from the node would not help.</summary>
        public static Failure Unresolved(string reason) => new(true, [reason]);

        public static Failure Resolved(string reason) => new(false, [reason]);
    }

    /// <summary>What the PreFilter plugins work out once per pod: its tolerations, ports, volumes, spread counts and (anti-)affinity matches.</summary>
    private sealed class PodContext
    {
        private readonly Scheduler scheduler;
        private readonly List<SpreadCount> spread = [];
        private readonly List<AffinityTerm> affinity = [];
        private readonly List<AffinityTerm> antiAffinity = [];
        private readonly Dictionary<(string Key, string Value), int> affinityMatches = [];
        private readonly Dictionary<(string Key, string Value), int> antiAffinityMatches = [];
        private readonly Dictionary<(string Key, string Value), int> existingAntiAffinityMatches = [];

        public PodContext(Scheduler scheduler, TestPod pod)
        {
            this.scheduler = scheduler;
            Pod = pod;
            var spec = pod.Spec;
            Tolerations = spec.Tolerations ?? [];
            HostPorts = [.. spec.HostPorts()];
            foreach (var claimName in (spec.Volumes ?? []).Select(v => v.PersistentVolumeClaim?.ClaimName).OfType<string>())
            {
                var claim = scheduler.claims.FirstOrDefault(c => c.Namespace == pod.Namespace && c.Name == claimName);
                if (claim is null)
                {
                    PreFilterRejection = $"persistentvolumeclaim \"{claimName}\" not found";
                    return;
                }

                if (claim.VolumeName is null)
                {
                    // No StorageClass is modelled, so an unbound claim is an Immediate one nobody bound.
                    PreFilterRejection = "pod has unbound immediate PersistentVolumeClaims";
                    return;
                }

                if (scheduler.volumes.FirstOrDefault(v => v.Name == claim.VolumeName) is not { } volume)
                {
                    MissingVolume = true;
                }
                else if (volume.NodeAffinity is { } terms)
                {
                    VolumeAffinity.Add(terms);
                }
            }

            foreach (var constraint in (spec.TopologySpreadConstraints ?? []).Where(c => c.WhenUnsatisfiable == "DoNotSchedule"))
            {
                spread.Add(new SpreadCount(constraint, pod));
            }

            CountSpread();
            affinity.AddRange((spec.Affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? []).Select(t => new AffinityTerm(t, pod, scheduler.namespaceLabels)));
            antiAffinity.AddRange((spec.Affinity?.PodAntiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? []).Select(t => new AffinityTerm(t, pod, scheduler.namespaceLabels)));
            CountAffinity();
        }

        public TestPod Pod { get; }

        public IReadOnlyList<TolerationSpec> Tolerations { get; }

        public IReadOnlyList<PortSpec> HostPorts { get; }

        /// <summary>A claim missing or unbound: the pod fits no node, whatever the node.</summary>
        public string? PreFilterRejection { get; }

        public bool MissingVolume { get; }

        /// <summary>Each bound PersistentVolume's spec.nodeAffinity.required terms.</summary>
        public List<IReadOnlyList<NodeSelectorTermSpec>> VolumeAffinity { get; } = [];

        /// <summary>
        /// PodTopologySpread, DoNotSchedule constraints only: the node must carry the key, and placing
        /// the pod in its domain may not make that domain exceed the fewest (0 with fewer eligible
        /// domains than minDomains) by more than maxSkew.
        /// </summary>
        public Failure? Spread(TestNode node)
        {
            foreach (var count in spread)
            {
                if (!node.Labels.TryGetValue(count.Constraint.TopologyKey, out var domain))
                {
                    return Failure.Unresolved("node(s) didn't match pod topology spread constraints (missing required label)");
                }

                var self = count.Selector.Matches(Pod.Labels) ? 1 : 0;
                if (count.ByDomain.GetValueOrDefault(domain) + self - count.GlobalMinimum > count.Constraint.MaxSkew)
                {
                    return Failure.Resolved("node(s) didn't match pod topology spread constraints");
                }
            }

            return null;
        }

        /// <summary>InterPodAffinity: the pod's required affinity, its required anti-affinity, then the running pods' anti-affinity towards it.</summary>
        public Failure? InterPod(TestNode node)
        {
            if (affinity.Count > 0)
            {
                var podsExist = true;
                foreach (var term in affinity)
                {
                    if (!node.Labels.TryGetValue(term.TopologyKey, out var value))
                    {
                        return Failure.Unresolved("node(s) didn't match pod affinity rules");
                    }

                    podsExist &= affinityMatches.GetValueOrDefault((term.TopologyKey, value)) > 0;
                }

                // The first pod of a group that is affine to itself may go anywhere the keys exist.
                if (!podsExist && !(affinityMatches.Count == 0 && affinity.All(t => t.Matches(Pod))))
                {
                    return Failure.Unresolved("node(s) didn't match pod affinity rules");
                }
            }

            if (antiAffinity.Any(t => node.Labels.TryGetValue(t.TopologyKey, out var value) && antiAffinityMatches.GetValueOrDefault((t.TopologyKey, value)) > 0))
            {
                return Failure.Resolved("node(s) didn't match pod anti-affinity rules");
            }

            return node.Labels.Any(l => existingAntiAffinityMatches.GetValueOrDefault((l.Key, l.Value)) > 0)
                ? Failure.Resolved("node(s) didn't satisfy existing pods anti-affinity rules")
                : null;
        }

        /// <summary>
        /// Matching pods per domain over the nodes that carry every constraint's key and pass the
        /// constraint's node inclusion policies (node affinity honoured, taints ignored, by default).
        /// Terminating pods and pods of other namespaces do not count; nor does anything for an empty selector.
        /// </summary>
        private void CountSpread()
        {
            if (spread.Count == 0)
            {
                return;
            }

            foreach (var node in scheduler.nodes.Where(n => spread.All(s => n.Labels.ContainsKey(s.Constraint.TopologyKey))))
            {
                foreach (var count in spread)
                {
                    if ((count.HonorNodeAffinity && !MatchesNodeSelector(node, Pod.Spec))
                        || (count.HonorTaints && Untolerated(node, Tolerations, "NoSchedule", "NoExecute") is not null))
                    {
                        continue;
                    }

                    var domain = node.Labels[count.Constraint.TopologyKey];
                    var matching = count.Selector.IsEmpty ? 0 : scheduler.podsOn[node.Name]
                        .Count(p => p.DeletionRequestedAt is null && p.Namespace == Pod.Namespace && count.Selector.Matches(p.Labels));
                    count.ByDomain[domain] = count.ByDomain.GetValueOrDefault(domain) + matching;
                }
            }

            foreach (var count in spread)
            {
                count.GlobalMinimum = count.ByDomain.Count < (count.Constraint.MinDomains ?? 1) ? 0 : count.ByDomain.Values.Min();
            }
        }

        /// <summary>Per topology pair: running pods matching all the pod's affinity terms, pods matching an anti-affinity term, and running pods whose anti-affinity matches the pod.</summary>
        private void CountAffinity()
        {
            static void Add(Dictionary<(string, string), int> counts, TestNode node, string key)
            {
                if (node.Labels.TryGetValue(key, out var value))
                {
                    counts[(key, value)] = counts.GetValueOrDefault((key, value)) + 1;
                }
            }

            if (affinity.Count > 0 || antiAffinity.Count > 0)
            {
                foreach (var (nodeName, pods) in scheduler.podsOn)
                {
                    var node = scheduler.byName[nodeName];
                    foreach (var existing in pods)
                    {
                        if (affinity.Count > 0 && affinity.All(t => t.Matches(existing)))
                        {
                            affinity.ForEach(t => Add(affinityMatches, node, t.TopologyKey));
                        }

                        foreach (var term in antiAffinity.Where(t => t.Matches(existing)))
                        {
                            Add(antiAffinityMatches, node, term.TopologyKey);
                        }
                    }
                }
            }

            foreach (var existing in scheduler.withAntiAffinity)
            {
                var node = scheduler.byName[existing.NodeName!];
                foreach (var term in existing.Spec.Affinity!.PodAntiAffinity!.RequiredDuringSchedulingIgnoredDuringExecution!)
                {
                    var parsed = new AffinityTerm(term, existing, scheduler.namespaceLabels);
                    if (parsed.Matches(Pod))
                    {
                        Add(existingAntiAffinityMatches, node, parsed.TopologyKey);
                    }
                }
            }
        }
    }

    private sealed class SpreadCount(SpreadConstraintSpec constraint, TestPod pod)
    {
        public SpreadConstraintSpec Constraint { get; } = constraint;

        /// <summary>labelSelector ANDed with the pod's own values of matchLabelKeys.</summary>
        public Selector Selector { get; } = Selector.From(constraint.LabelSelector).With(
            (constraint.MatchLabelKeys ?? []).Where(pod.Labels.ContainsKey).ToDictionary(k => k, k => pod.Labels[k], StringComparer.Ordinal));

        public bool HonorNodeAffinity { get; } = (constraint.NodeAffinityPolicy ?? "Honor") == "Honor";

        public bool HonorTaints { get; } = (constraint.NodeTaintsPolicy ?? "Ignore") == "Honor";

        public Dictionary<string, int> ByDomain { get; } = new(StringComparer.Ordinal);

        public int GlobalMinimum { get; set; }
    }

    /// <summary>
    /// A pod (anti-)affinity term of <c>owner</c>: pods its selector matches (none for a null one) in
    /// the namespaces it names or its namespaceSelector selects (the owner's own when it gives neither).
    /// </summary>
    private sealed class AffinityTerm(AffinityTermSpec term, TestPod owner, Func<string, IReadOnlyDictionary<string, string>> namespaceLabels)
    {
        private readonly Selector selector = Selector.From(term.LabelSelector);
        private readonly Selector namespaceSelector = Selector.From(term.NamespaceSelector);
        private readonly HashSet<string> namespaces = term.Namespaces is { Count: > 0 } || term.NamespaceSelector is not null
            ? new HashSet<string>(term.Namespaces ?? [], StringComparer.Ordinal)
            : new HashSet<string>([owner.Namespace], StringComparer.Ordinal);

        public string TopologyKey { get; } = term.TopologyKey;

        public bool Matches(TestPod pod) =>
            (namespaces.Contains(pod.Namespace) || namespaceSelector.Matches(namespaceLabels(pod.Namespace))) && selector.Matches(pod.Labels);
    }
}

/// <summary>
/// A label selector as metav1.LabelSelectorAsSelector reads it: null selects nothing, an empty one
/// everything; matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) are ANDed.
/// </summary>
internal sealed class Selector
{
    private static readonly Selector Nothing = new(null, []);
    private readonly IReadOnlyDictionary<string, string>? labels;
    private readonly IReadOnlyList<NodeRequirementSpec> expressions;

    private Selector(IReadOnlyDictionary<string, string>? labels, IReadOnlyList<NodeRequirementSpec> expressions) => (this.labels, this.expressions) = (labels, expressions);

    public static Selector From(LabelSelectorSpec? spec) =>
        spec is null ? Nothing : new(spec.MatchLabels ?? new Dictionary<string, string>(), spec.MatchExpressions ?? []);

    /// <summary>Selects everything: spread counts nothing for it.</summary>
    public bool IsEmpty => labels is { Count: 0 } && expressions.Count == 0;

    /// <summary>Also requiring <paramref name="more"/> (matchLabelKeys); a selector of nothing stays one.</summary>
    public Selector With(IReadOnlyDictionary<string, string> more) =>
        labels is null || more.Count == 0 ? this : new(labels.Concat(more).GroupBy(l => l.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal), expressions);

    public bool Matches(IReadOnlyDictionary<string, string> of) =>
        labels is not null
        && labels.All(l => of.TryGetValue(l.Key, out var v) && v == l.Value)
        && expressions.All(e => e.Operator is "In" or "NotIn" or "Exists" or "DoesNotExist" && Scheduler.Holds(e, of));
}
