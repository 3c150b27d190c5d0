using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>
/// The testbed's scheduler, the oracle NodeFleet's predicates are tested against: a table per
/// kube-scheduler filter, with the documented semantics (Assigning Pods to Nodes, Taints and
/// Tolerations, Pod Topology Spread Constraints, Resource Management for Pods, Sidecar Containers),
/// each case a pod that binds to the node it must or stays Pending with the scheduler's words.
/// </summary>
public class SchedulerTests
{
    private const string NotHelpful = "Preemption is not helpful for scheduling";
    private const string NoVictims = "No preemption victims found for incoming pod";

    private readonly ClusterModel cluster = new();

    /// <summary>A spec of one container requesting 100m and 64 MiB, with <paramref name="fields"/> (JSON members) beside it.</summary>
    private static PodSpec Spec(string fields = "", string cpu = "100m", string memory = "64Mi") =>
        PodSpec.Parse("{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\",\"resources\":{\"requests\":{\"cpu\":\"" + cpu + "\",\"memory\":\"" + memory + "\"}}}]"
            + (fields.Length > 0 ? "," + fields : "") + "}");

    private static Dictionary<string, string> Labels(string labels) =>
        labels.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=')).ToDictionary(l => l[0], l => l.Length > 1 ? l[1] : "", StringComparer.Ordinal);

    private void Node(string name, string labels = "", long cpu = 2000, long memory = 4L << 30, int maxPods = 110, params TestTaint[] taints)
    {
        var node = new TestNode { Name = name, CpuMillis = cpu, MemoryBytes = memory, MaxPods = maxPods, Taints = [.. taints] };
        foreach (var (key, value) in Labels(labels))
        {
            node.Labels[key] = value;
        }

        cluster.Add(node);
    }

    private TestPod Running(string name, string node, string labels = "", string fields = "", string ns = "shop", string cpu = "100m")
    {
        var pod = new TestPod { Namespace = ns, Name = name, NodeName = node, Labels = Labels(labels), Spec = Spec(fields, cpu) };
        cluster.Add(pod);
        return pod;
    }

    /// <summary>Adds the pod, runs the scheduler, and says where it went ("" when it stayed Pending) and the condition's message.</summary>
    private (string Node, string? Message) Place(string fields = "", string labels = "", string ns = "shop", PodSpec? spec = null)
    {
        var pod = new TestPod { Namespace = ns, Name = "incoming", Phase = "Pending", Labels = Labels(labels), Spec = spec ?? Spec(fields) };
        cluster.Add(pod);
        cluster.Schedule();
        Assert.Equal(pod.NodeName is null, pod.Unschedulable);
        Assert.Equal(pod.NodeName is null ? "Pending" : "Running", pod.Phase);
        return (pod.NodeName ?? "", pod.UnschedulableMessage);
    }

    private static string Message(int nodes, string reasons, string preemption) =>
        $"0/{nodes} nodes are available: {reasons}. preemption: 0/{nodes} nodes are available: {preemption}.";

    [Theory]
    [InlineData("""
        "nodeSelector":{"gpu":"true"}
        """, "b")]
    [InlineData("""
        "nodeSelector":{"disk":"ssd","zone":"us-east-1a"}
        """, "a")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["us-east-1c","us-east-1b"]}]}]}}}
        """, "b")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"NotIn","values":["us-east-1a"]}]}]}}}
        """, "b")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"gpu","operator":"NotIn","values":["true"]}]}]}}}
        """, "c")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"gpu","operator":"Exists"}]}]}}}
        """, "b")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"disk","operator":"DoesNotExist"}]}]}}}
        """, "c")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"cores","operator":"Gt","values":["8"]}]}]}}}
        """, "b")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"cores","operator":"Lt","values":["8"]}]}]}}}
        """, "a")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"cores","operator":"Gt","values":["4"]}]}]}}}
        """, "b")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["b"]}]}]}}}
        """, "b")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"NotIn","values":["c"]}]}]}}}
        """, "a")]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["us-east-1c"]}]},{"matchExpressions":[{"key":"disk","operator":"Exists"}]}]}}}
        """, "a")]
    [InlineData("""
        "nodeSelector":{"disk":"ssd"},"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"preference":{"matchExpressions":[{"key":"gpu","operator":"Exists"}]}}]}}
        """, "a")]
    public void Schedule_NodeSelectorOrRequiredAffinity_BindsToTheFirstNodeItMatches(string fields, string expected)
    {
        // c's cores label is no integer: Gt and Lt never match it.
        Node("c", "zone=us-east-1a,cores=many");
        Node("a", "zone=us-east-1a,cores=4,disk=ssd");
        Node("b", "zone=us-east-1b,cores=16,gpu=true");

        Assert.Equal((expected, null), Place(fields));
    }

    [Theory]
    [InlineData("""
        "nodeSelector":{"gpu":"false"}
        """)]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["us-east-1a"]},{"key":"gpu","operator":"Exists"}]}]}}}
        """)]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{}]}}}
        """)]
    [InlineData("""
        "nodeSelector":{"disk":"ssd"},"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"gpu","operator":"Exists"}]}]}}}
        """)]
    [InlineData("""
        "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"cores","operator":"Gt","values":["16"]}]}]}}}
        """)]
    public void Schedule_NoNodeMatchesTheSelectorOrAffinity_StaysPendingSayingSo(string fields)
    {
        Node("a", "zone=us-east-1a,cores=4,disk=ssd");
        Node("b", "zone=us-east-1b,cores=16,gpu=true");

        Assert.Equal(("", Message(2, "2 node(s) didn't match Pod's node affinity/selector", $"2 {NotHelpful}")), Place(fields));
    }

    [Theory]
    [InlineData("dedicated", "gpu", "NoSchedule", "", false)]
    [InlineData("dedicated", "gpu", "NoSchedule", """{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}""", true)]
    [InlineData("dedicated", "gpu", "NoSchedule", """{"key":"dedicated","value":"gpu"}""", true)]
    [InlineData("dedicated", "gpu", "NoSchedule", """{"key":"dedicated","operator":"Equal","value":"web","effect":"NoSchedule"}""", false)]
    [InlineData("dedicated", "gpu", "NoSchedule", """{"key":"dedicated","operator":"Exists"}""", true)]
    [InlineData("dedicated", "gpu", "NoSchedule", """{"operator":"Exists"}""", true)]
    [InlineData("dedicated", "gpu", "NoSchedule", """{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoExecute"}""", false)]
    [InlineData("dedicated", "gpu", "NoSchedule", """{"key":"other","operator":"Exists"}""", false)]
    [InlineData("dedicated", "gpu", "NoExecute", "", false)]
    [InlineData("dedicated", "gpu", "NoExecute", """{"key":"dedicated","operator":"Exists","effect":"NoExecute","tolerationSeconds":60}""", true)]
    [InlineData("dedicated", "gpu", "PreferNoSchedule", "", true)]
    [InlineData("spot", null, "NoSchedule", "", false)]
    [InlineData("spot", null, "NoSchedule", """{"key":"spot","operator":"Equal","value":""}""", true)]
    [InlineData("spot", null, "NoSchedule", """{"key":"spot","operator":"Equal","value":"true"}""", false)]
    public void Schedule_TaintedNode_BindsOnlyWhenTheTaintIsTolerated(string key, string? value, string effect, string toleration, bool binds)
    {
        Node("t1", taints: new TestTaint(key, effect) { Value = value });

        var placed = Place(toleration.Length == 0 ? "" : $"\"tolerations\":[{toleration}]");

        Assert.Equal(binds ? ("t1", null) : ("", Message(1, $"1 node(s) had untolerated taint {{{key}: {value}}}", $"1 {NotHelpful}")), placed);
    }

    [Fact]
    public void Schedule_NotReadyAndCordonedNodes_AreRefusedAsTheirTaintAndUnschedulableSay()
    {
        Node("down");
        Node("cordoned");
        cluster.SetReady("down", false);
        cluster.SetUnschedulable("cordoned", true);

        var refused = Place();
        var tolerated = Place(spec: Spec("""
            "tolerations":[{"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoSchedule"}]
            """));

        Assert.Equal(("", Message(2, "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable", $"2 {NotHelpful}")), refused);
        Assert.Equal("cordoned", tolerated.Node);
    }

    [Theory]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"1","memory":"1Gi"}}}]}""", true, null)]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"1001m"}}}]}""", false, "1 Insufficient cpu")]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"memory":"3Gi"}}}]}""", true, null)]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"memory":"3073Mi"}}}]}""", false, "1 Insufficient memory")]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"2","memory":"4Gi"}}}]}""", false, "1 Insufficient cpu, 1 Insufficient memory")]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"500m"}}}],"initContainers":[{"name":"i","image":"i","resources":{"requests":{"cpu":"1500m"}}}]}""", false, "1 Insufficient cpu")]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"1"}}}],"initContainers":[{"name":"i","image":"i","resources":{"requests":{"cpu":"900m"}}}]}""", true, null)]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"500m"}}}],"initContainers":[{"name":"s","image":"s","restartPolicy":"Always","resources":{"requests":{"cpu":"600m"}}}]}""", false, "1 Insufficient cpu")]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"500m"}}}],"initContainers":[{"name":"s","image":"s","restartPolicy":"Always","resources":{"requests":{"cpu":"200m"}}},{"name":"i","image":"i","resources":{"requests":{"cpu":"900m"}}}]}""", false, "1 Insufficient cpu")]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"500m"}}}],"initContainers":[{"name":"i","image":"i","resources":{"requests":{"cpu":"900m"}}},{"name":"s","image":"s","restartPolicy":"Always","resources":{"requests":{"cpu":"200m"}}}]}""", true, null)]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"900m"}}}],"overhead":{"cpu":"200m"}}""", false, "1 Insufficient cpu")]
    [InlineData("""{"containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"900m"}}}],"overhead":{"cpu":"100m"}}""", true, null)]
    public void Schedule_Requests_CountInitContainersSidecarsAndOverheadAsTheSchedulerDoes(string spec, bool binds, string? shortfall)
    {
        // 2 cores and 4 GiB, of which a running pod holds 1 core and 1 GiB: 1 core and 3 GiB are free.
        Node("n1");
        cluster.Add(new TestPod { Namespace = "shop", Name = "held", NodeName = "n1", CpuMillis = 1000, MemoryBytes = 1L << 30 });

        var placed = Place(spec: PodSpec.Parse(spec));

        Assert.Equal(binds ? ("n1", null) : ("", Message(1, shortfall!, $"1 {NoVictims}")), placed);
    }

    [Fact]
    public void Schedule_NodeOutOfPodSlots_SaysTooManyPodsBesideTheOtherShortfalls()
    {
        Node("n1", cpu: 1000, maxPods: 1);
        Running("held", "n1", cpu: "500m");

        var placed = Place(spec: Spec(cpu: "600m"));

        Assert.Equal(("", Message(1, "1 Insufficient cpu, 1 Too many pods", $"1 {NoVictims}")), placed);
    }

    [Theory]
    [InlineData("""{"containerPort":80,"hostPort":8080}""", false)]
    [InlineData("""{"containerPort":80,"hostPort":8080,"protocol":"UDP"}""", true)]
    [InlineData("""{"containerPort":80,"hostPort":8081}""", true)]
    [InlineData("""{"containerPort":80,"hostPort":8080,"hostIP":"10.0.0.5"}""", false)]
    [InlineData("""{"containerPort":90,"hostPort":9090,"hostIP":"10.0.0.2"}""", true)]
    [InlineData("""{"containerPort":90,"hostPort":9090,"hostIP":"10.0.0.1"}""", false)]
    [InlineData("""{"containerPort":90,"hostPort":9090}""", false)]
    [InlineData("""{"containerPort":70,"hostPort":7070}""", true)]
    [InlineData("""{"containerPort":60,"hostPort":6060}""", false)]
    [InlineData("""{"containerPort":8080}""", true)]
    public void Schedule_HostPorts_ConflictOnTheSamePortProtocolAndAddress(string port, bool binds)
    {
        // Held: 8080/TCP on every address, 9090/TCP on 10.0.0.1, a sidecar's 6060 for the pod's lifetime;
        // an ordinary init container's 7070 was released when it exited.
        Node("n1");
        Running("web", "n1", fields: """
            "initContainers":[
              {"name":"setup","image":"setup:1","ports":[{"containerPort":70,"hostPort":7070}]},
              {"name":"agent","image":"agent:1","restartPolicy":"Always","ports":[{"containerPort":60,"hostPort":6060}]}],
            "hostNetwork":false
            """);
        cluster.Add(new TestPod
        {
            Namespace = "shop", Name = "ports", NodeName = "n1",
            Spec = PodSpec.Parse("""{"containers":[{"name":"a","image":"a","ports":[{"containerPort":80,"hostPort":8080},{"containerPort":90,"hostPort":9090,"hostIP":"10.0.0.1"}]}]}"""),
        });

        var placed = Place(spec: PodSpec.Parse($$"""{"containers":[{"name":"b","image":"b","ports":[{{port}}]}]}"""));

        Assert.Equal(binds ? ("n1", null) : ("", Message(1, "1 node(s) didn't have free ports for the requested pod ports", $"1 {NoVictims}")), placed);
    }

    [Theory]
    [InlineData("data", "", "b", null)]
    [InlineData("anywhere", "", "a", null)]
    [InlineData("data", """
        "nodeSelector":{"topology.kubernetes.io/zone":"us-east-1a"}
        """, "", "1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had volume node affinity conflict|2 Preemption is not helpful for scheduling")]
    [InlineData("orphan", "", "", "2 node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)|2 Preemption is not helpful for scheduling")]
    [InlineData("missing", "", "", "persistentvolumeclaim \"missing\" not found|2 No preemption victims found for incoming pod")]
    [InlineData("loose", "", "", "pod has unbound immediate PersistentVolumeClaims|2 No preemption victims found for incoming pod")]
    public void Schedule_PersistentVolumeClaims_BindWhereTheBoundVolumeIsReachable(string claim, string fields, string expected, string? why)
    {
        Node("a", "topology.kubernetes.io/zone=us-east-1a");
        Node("b", "topology.kubernetes.io/zone=us-east-1b");
        cluster.Add(TestVolume.InZone("vol-b", "us-east-1b"));
        cluster.Add(new TestVolume { Name = "vol-any" });
        cluster.Add(new TestClaim { Namespace = "shop", Name = "data", VolumeName = "vol-b" });
        cluster.Add(new TestClaim { Namespace = "shop", Name = "anywhere", VolumeName = "vol-any" });
        cluster.Add(new TestClaim { Namespace = "shop", Name = "orphan", VolumeName = "vol-gone" });
        cluster.Add(new TestClaim { Namespace = "shop", Name = "loose" });
        cluster.Add(new TestClaim { Namespace = "other", Name = "missing", VolumeName = "vol-any" });

        var placed = Place($"\"volumes\":[{{\"name\":\"v\",\"persistentVolumeClaim\":{{\"claimName\":\"{claim}\"}}}}]" + (fields.Length > 0 ? "," + fields : ""));

        Assert.Equal((expected, why is null ? null : Message(2, why.Split('|')[0], why.Split('|')[1])), placed);
    }

    /// <summary>Zones a (a1, a2) and b (b1); existing web pods per node as "a1:2,b1:1".</summary>
    private void SpreadCluster(string existing)
    {
        Node("a1", "topology.kubernetes.io/zone=a");
        Node("a2", "topology.kubernetes.io/zone=a");
        Node("b1", "topology.kubernetes.io/zone=b");
        foreach (var entry in existing.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var (node, count) = (entry.Split(':')[0], int.Parse(entry.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
            for (var i = 0; i < count; i++)
            {
                Running($"web-{node}-{i}", node, "app=web");
            }
        }
    }

    private const string ZoneSpread = """{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"web"}}""";

    [Theory]
    [InlineData("a1:1", ZoneSpread + "}", "b1")]
    [InlineData("a1:1,b1:1", ZoneSpread + "}", "a1")]
    [InlineData("a1:1,a2:1,b1:1", ZoneSpread + "}", "b1")]
    [InlineData("a1:3", """{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway","labelSelector":{"matchLabels":{"app":"web"}}}""", "a1")]
    [InlineData("a1:1", """{"maxSkew":2,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"web"}}}""", "a1")]
    [InlineData("a1:1", """{"maxSkew":1,"topologyKey":"kubernetes.io/hostname","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"web"}}}""", "a2")]
    [InlineData("a1:1,b1:1", ZoneSpread + ""","minDomains":2}""", "a1")]
    [InlineData("a1:1", """{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"api"}}}""", "a1")]
    [InlineData("a1:2", """{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{}}""", "a1")]
    [InlineData("a1:2", """{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule"}""", "a1")]
    public void Schedule_TopologySpread_BindsWhereTheSkewStaysWithinMaxSkew(string existing, string constraint, string expected)
    {
        // An empty or absent selector counts no pod; a selector the pod does not match leaves it out of its own count.
        SpreadCluster(existing);

        Assert.Equal((expected, null), Place($"\"topologySpreadConstraints\":[{constraint}]", "app=web"));
    }

    [Fact]
    public void Schedule_SpreadMaxSkewOneOverTwoZones_AlternatesZonesThenWaitsWhenOneZoneIsFull()
    {
        SpreadCluster("");
        var spec = Spec($"\"topologySpreadConstraints\":[{ZoneSpread}}}]", cpu: "1");
        var zones = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var pod = new TestPod { Namespace = "shop", Name = $"web-{i}", Phase = "Pending", Labels = { ["app"] = "web" }, Spec = spec };
            cluster.Add(pod);
            cluster.Schedule();
            zones.Add(pod.NodeName![..1]);
        }

        // a1 and b1 now hold two pods of a core each and are full: the fifth goes to a2 (zone a 3 against
        // b's 2 is skew 1); a sixth would make it 4 against 2 on a2, and finds no room elsewhere.
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-4", Phase = "Pending", Labels = { ["app"] = "web" }, Spec = spec });
        cluster.Add(new TestPod { Namespace = "shop", Name = "web-5", Phase = "Pending", Labels = { ["app"] = "web" }, Spec = spec });
        cluster.Schedule();
        var (fifth, sixth) = cluster.Read((_, pods, _) => (pods.Single(p => p.Name == "web-4"), pods.Single(p => p.Name == "web-5")));

        Assert.Equal(["a", "b", "a", "b"], zones);
        Assert.Equal("a2", fifth.NodeName);
        Assert.Null(sixth.NodeName);
        Assert.Equal(Message(3, "1 node(s) didn't match pod topology spread constraints, 2 Insufficient cpu", $"3 {NoVictims}"), sixth.UnschedulableMessage);
    }

    [Theory]
    [InlineData("a1:1", false, "", "\"nodeSelector\":{\"topology.kubernetes.io/zone\":\"a\"}", "a1", "", "")]
    [InlineData("a1:1", false, ",\"nodeAffinityPolicy\":\"Ignore\"", "\"nodeSelector\":{\"topology.kubernetes.io/zone\":\"a\"}", "",
        "1 node(s) didn't match Pod's node affinity/selector, 2 node(s) didn't match pod topology spread constraints", $"1 {NotHelpful}, 2 {NoVictims}")]
    [InlineData("a1:1", true, "", "", "", "1 node(s) had untolerated taint {dedicated: batch}, 2 node(s) didn't match pod topology spread constraints", $"1 {NotHelpful}, 2 {NoVictims}")]
    [InlineData("a1:1", true, ",\"nodeTaintsPolicy\":\"Honor\"", "", "a1", "", "")]
    [InlineData("a1:1,b1:1", false, ",\"minDomains\":2", "", "a1", "", "")]
    [InlineData("a1:1,b1:1", false, ",\"minDomains\":3", "", "", "3 node(s) didn't match pod topology spread constraints", $"3 {NoVictims}")]
    public void Schedule_SpreadInclusionPoliciesAndMinDomains_ChangeWhichDomainsCount(
        string existing, bool taintB, string constraintFields, string podFields, string expected, string reasons, string preemption)
    {
        // nodeAffinityPolicy Honor (the default) counts only the zones the pod may go to; nodeTaintsPolicy
        // Ignore (the default) counts a tainted node's zone too; fewer domains than minDomains make the minimum 0.
        SpreadCluster(existing);
        if (taintB)
        {
            cluster.Node("b1")!.Taints.Add(new TestTaint("dedicated", "NoSchedule") { Value = "batch" });
        }

        var fields = $"\"topologySpreadConstraints\":[{ZoneSpread}{constraintFields}}}]" + (podFields.Length > 0 ? "," + podFields : "");

        Assert.Equal(expected.Length > 0 ? (expected, null) : ("", Message(3, reasons, preemption)), Place(fields, "app=web"));
    }

    [Fact]
    public void Schedule_SpreadCounts_LeaveOutTerminatingPodsOtherNamespacesAndOtherMatchLabelKeyValues()
    {
        SpreadCluster("");
        Running("old", "b1", "app=web").DeletionRequestedAt = DateTimeOffset.UtcNow;
        Running("elsewhere", "b1", "app=web", ns: "other");
        Running("previous", "a1", "app=web,hash=v1");

        var placed = Place($"\"topologySpreadConstraints\":[{ZoneSpread},\"matchLabelKeys\":[\"hash\"]}}]", "app=web,hash=v2");

        Assert.Equal(("a1", null), placed);
    }

    [Fact]
    public void Schedule_SpreadNodeWithoutTheKey_IsRefusedAsMissingTheLabel()
    {
        Node("bare");

        Assert.Equal(("", Message(1, "1 node(s) didn't match pod topology spread constraints (missing required label)", $"1 {NotHelpful}")),
            Place($"\"topologySpreadConstraints\":[{ZoneSpread}}}]", "app=web"));
    }

    /// <summary>h1 and h2 in zone a, h3 in zone b.</summary>
    private void AffinityCluster()
    {
        Node("h1", "topology.kubernetes.io/zone=a");
        Node("h2", "topology.kubernetes.io/zone=a");
        Node("h3", "topology.kubernetes.io/zone=b");
    }

    /// <summary>A required (anti-)affinity term: <paramref name="selector"/> is its labelSelector member with a trailing comma, or empty.</summary>
    private static string Term(string kind, string selector, string key, string extra) =>
        $"\"affinity\":{{\"{kind}\":{{\"requiredDuringSchedulingIgnoredDuringExecution\":[{{{selector}\"topologyKey\":\"{key}\"{extra}}}]}}}}";

    private static string Anti(string selector, string key = "kubernetes.io/hostname", string extra = "") => Term("podAntiAffinity", selector, key, extra);

    private static string Affinity(string selector, string key = "kubernetes.io/hostname") => Term("podAffinity", selector, key, "");

    private const string Web = """ "labelSelector":{"matchLabels":{"app":"web"}}, """;
    private const string Cache = """ "labelSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["cache"]}]}, """;

    [Theory]
    [InlineData(Web, "kubernetes.io/hostname", "", "h2")]
    [InlineData(Web, "kubernetes.io/hostname", ",\"namespaces\":[\"other\"]", "h1")]
    [InlineData(Web, "kubernetes.io/hostname", ",\"namespaceSelector\":{}", "h2")]
    [InlineData(Web, "topology.kubernetes.io/zone", "", "h3")]
    [InlineData("", "kubernetes.io/hostname", "", "h1")]
    [InlineData(""" "labelSelector":{"matchLabels":{"app":"api"}}, """, "kubernetes.io/hostname", "", "h1")]
    public void Schedule_IncomingAntiAffinity_KeepsThePodOutOfDomainsWithMatchingPods(string selector, string key, string extra, string expected)
    {
        // The running web pod is on h1 in namespace shop, the incoming pod's own, which a term covers
        // unless it names others; a term without a labelSelector matches no pod.
        AffinityCluster();
        Running("web", "h1", "app=web");

        Assert.Equal((expected, null), Place(Anti(selector, key, extra), "app=web"));
    }

    [Fact]
    public void Schedule_IncomingAntiAffinityEverywhere_StaysPendingSayingSo()
    {
        AffinityCluster();
        Running("web-1", "h1", "app=web");
        Running("web-2", "h2", "app=web");
        Running("web-3", "h3", "app=web");

        Assert.Equal(("", Message(3, "3 node(s) didn't match pod anti-affinity rules", $"3 {NoVictims}")), Place(Anti(Web), "app=web"));
    }

    [Fact]
    public void Schedule_ReplicasWithHostnameAntiAffinity_GetOneNodeEach()
    {
        AffinityCluster();
        var replicas = cluster.AddReplicas("shop", "web", 4, Spec(Anti(Web)), new Dictionary<string, string> { ["app"] = "web" });

        cluster.Schedule();

        Assert.Equal(["h1", "h2", "h3"], replicas.Take(3).Select(p => p.NodeName));
        Assert.Null(replicas[3].NodeName);
        Assert.Equal(Message(3, "3 node(s) didn't match pod anti-affinity rules", $"3 {NoVictims}"), replicas[3].UnschedulableMessage);
        Assert.All(replicas, p => Assert.Equal(("ReplicaSet", "web"), (p.OwnerKind, p.OwnerName)));
    }

    [Theory]
    [InlineData("shop", "kubernetes.io/hostname", "", "h2")]
    [InlineData("other", "kubernetes.io/hostname", "", "h1")]
    [InlineData("other", "kubernetes.io/hostname", ", \"namespaceSelector\":{\"matchLabels\":{\"team\":\"payments\"}}", "h2")]
    [InlineData("shop", "topology.kubernetes.io/zone", "", "h3")]
    public void Schedule_ExistingPodsAntiAffinity_KeepsAMatchingPodOutOfTheirDomains(string incomingNamespace, string key, string extra, string expected)
    {
        // A running shop pod on h1 repels api pods of its own namespace, or of namespaces its selector picks.
        AffinityCluster();
        cluster.SetNamespaceLabels("other", new Dictionary<string, string> { ["team"] = "payments" });
        Running("guard", "h1", "app=guard", Anti(""" "labelSelector":{"matchLabels":{"app":"api"}}, """, key, extra));

        Assert.Equal((expected, null), Place(labels: "app=api", ns: incomingNamespace));
    }

    [Fact]
    public void Schedule_ExistingPodsAntiAffinityEverywhere_StaysPendingSayingSo()
    {
        AffinityCluster();
        foreach (var node in new[] { "h1", "h2", "h3" })
        {
            Running("guard-" + node, node, "app=guard", Anti(""" "labelSelector":{"matchLabels":{"app":"api"}}, """));
        }

        Assert.Equal(("", Message(3, "3 node(s) didn't satisfy existing pods anti-affinity rules", $"3 {NoVictims}")), Place(labels: "app=api"));
    }

    [Theory]
    [InlineData("h3", "kubernetes.io/hostname", "app=api", "h3")]
    [InlineData("h3", "topology.kubernetes.io/zone", "app=api", "h3")]
    [InlineData("h2", "topology.kubernetes.io/zone", "app=api", "h1")]
    [InlineData("h3", "kubernetes.io/hostname", "app=cache", "h3")]
    [InlineData("", "kubernetes.io/hostname", "app=cache", "h1")]
    [InlineData("", "kubernetes.io/hostname", "app=api", "")]
    public void Schedule_RequiredPodAffinity_BindsInADomainWithAMatchingPod(string cacheNode, string key, string labels, string expected)
    {
        // With no cache pod anywhere, only a pod that is itself a cache pod (the first of its group) may
        // go, anywhere; once one runs, the next goes beside it.
        AffinityCluster();
        if (cacheNode.Length > 0)
        {
            Running("cache", cacheNode, "app=cache");
        }

        var placed = Place(Affinity(Cache, key), labels);

        Assert.Equal(expected.Length > 0 ? (expected, null) : ("", Message(3, "3 node(s) didn't match pod affinity rules", $"3 {NotHelpful}")), placed);
    }

    [Fact]
    public void Schedule_ByPriority_PlacesTheHigherFirst()
    {
        Node("n1", cpu: 1000);
        cluster.Add(new TestPod { Namespace = "shop", Name = "low", Phase = "Pending", Spec = Spec(cpu: "1") });
        cluster.Add(new TestPod { Namespace = "shop", Name = "high", Phase = "Pending", Spec = Spec(cpu: "1") with { Priority = 1000 } });

        cluster.Schedule();

        Assert.Equal("n1", cluster.Read((_, pods, _) => pods.Single(p => p.Name == "high").NodeName));
        Assert.True(cluster.Read((_, pods, _) => pods.Single(p => p.Name == "low").Unschedulable));
    }
}
