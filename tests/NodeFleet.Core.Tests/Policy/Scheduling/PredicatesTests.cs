using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Scheduling;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Policy.Scheduling.SchedulingFixtures;

namespace NodeFleet.Core.Tests.Policy.Scheduling;

public class PredicatesTests
{
    private static readonly Place Labelled = Place.Of(ZonedWorker("w1", ZoneA, 0.2, ("disktype", "ssd"), ("cores", "8"), ("neg", "-3")));

    /// <summary>The default template in us-east-1a: three instance types, spot and on-demand, amd64.</summary>
    private static readonly Place NewWorker = Place.New(Template(ZoneA), ZoneA);

    [Theory]
    [InlineData("disktype", "In", "ssd", nameof(Match.Yes))]
    [InlineData("disktype", "In", "hdd,ssd", nameof(Match.Yes))]
    [InlineData("disktype", "In", "hdd", nameof(Match.No))]
    [InlineData("disktype", "NotIn", "hdd", nameof(Match.Yes))]
    [InlineData("disktype", "NotIn", "ssd", nameof(Match.No))]
    [InlineData("gpu", "NotIn", "true", nameof(Match.Yes))]      // NotIn holds when the label is absent
    [InlineData("gpu", "In", "true", nameof(Match.No))]
    [InlineData("disktype", "Exists", "", nameof(Match.Yes))]
    [InlineData("gpu", "Exists", "", nameof(Match.No))]
    [InlineData("gpu", "DoesNotExist", "", nameof(Match.Yes))]
    [InlineData("disktype", "DoesNotExist", "", nameof(Match.No))]
    [InlineData("cores", "Gt", "4", nameof(Match.Yes))]
    [InlineData("cores", "Gt", "8", nameof(Match.No))]           // strict
    [InlineData("cores", "Lt", "9", nameof(Match.Yes))]
    [InlineData("cores", "Lt", "8", nameof(Match.No))]
    [InlineData("neg", "Gt", "-4", nameof(Match.Yes))]           // signed integers
    [InlineData("disktype", "Gt", "4", nameof(Match.No))]        // the label is not an integer
    [InlineData("cores", "Gt", "four", nameof(Match.No))]        // the value is not an integer
    [InlineData("cores", "Gt", "4,5", nameof(Match.No))]         // Gt takes exactly one value
    [InlineData("gpu", "Gt", "1", nameof(Match.No))]             // Gt and Lt need the label
    [InlineData("gpu", "Lt", "1", nameof(Match.No))]
    [InlineData("disktype", "Matches", "ssd", nameof(Match.No))] // no such operator
    public void Requirement_OnAnExistingNode_FollowsTheOperatorsSemantics(string key, string op, string values, string expected)
    {
        var requirement = Req(key, op, values.Length == 0 ? [] : values.Split(','));

        Assert.Equal(Enum.Parse<Match>(expected), Predicates.Requirement(requirement, Labelled));
    }

    [Theory]
    [InlineData(WorkerTemplates.InstanceTypeLabel, "In", "t3.large", nameof(Match.Uncertain))]          // EC2 Fleet may pick another type
    [InlineData(WorkerTemplates.InstanceTypeLabel, "In", "t3.large,t3a.large,m5.large", nameof(Match.Yes))]
    [InlineData(WorkerTemplates.InstanceTypeLabel, "In", "c5.large", nameof(Match.No))]
    [InlineData(WorkerTemplates.InstanceTypeLabel, "NotIn", "m5.large", nameof(Match.Uncertain))]
    [InlineData(WorkerTemplates.InstanceTypeLabel, "NotIn", "c5.large", nameof(Match.Yes))]
    [InlineData(WorkerTemplates.InstanceTypeLabel, "Exists", "", nameof(Match.Yes))]
    [InlineData(WorkerTemplates.CapacityTypeLabel, "In", "spot", nameof(Match.Uncertain))]              // a launch splits spot and on-demand
    [InlineData(WorkerTemplates.ArchitectureLabel, "In", "amd64", nameof(Match.Yes))]
    [InlineData(WorkerTemplates.ArchitectureLabel, "In", "arm64", nameof(Match.No))]
    [InlineData(WorkerTemplates.ZoneLabel, "In", ZoneA, nameof(Match.Yes))]
    [InlineData(WorkerTemplates.ZoneLabel, "In", ZoneB, nameof(Match.No))]
    [InlineData(WorkerTemplates.ManagedLabel, "In", "true", nameof(Match.Yes))]
    [InlineData("gpu", "Exists", "", nameof(Match.No))]
    [InlineData("gpu", "DoesNotExist", "", nameof(Match.Yes))]
    [InlineData("gpu", "NotIn", "true", nameof(Match.Yes))]
    [InlineData(WorkerTemplates.HostnameLabel, "In", "w1", nameof(Match.No))]            // its name is not known yet
    [InlineData(WorkerTemplates.HostnameLabel, "NotIn", "w1,w2", nameof(Match.Yes))]     // ... and it is none of the existing nodes'
    [InlineData(WorkerTemplates.HostnameLabel, "Exists", "", nameof(Match.Yes))]         // every node has one
    [InlineData(WorkerTemplates.HostnameLabel, "DoesNotExist", "", nameof(Match.No))]
    [InlineData(WorkerTemplates.HostnameLabel, "Gt", "1", nameof(Match.No))]
    [InlineData(WorkerTemplates.HostnameLabel, "Lt", "1", nameof(Match.No))]
    public void Requirement_OnANewWorker_HoldsOnlyIfEveryPossibleValueSatisfiesIt(string key, string op, string values, string expected)
    {
        var requirement = Req(key, op, values.Length == 0 ? [] : values.Split(','));

        Assert.Equal(Enum.Parse<Match>(expected), Predicates.Requirement(requirement, NewWorker));
    }

    [Theory]
    [InlineData("In", ZoneA, nameof(Match.Uncertain))]
    [InlineData("In", ZoneA + "," + ZoneB, nameof(Match.Yes))]
    [InlineData("NotIn", ZoneC, nameof(Match.Yes))]
    [InlineData("Exists", "", nameof(Match.Yes))]
    public void Requirement_OnTheZoneOfANodeWhoseZoneIsNotKnown_IsAnyOfTheTemplatesZones(string op, string values, string expected)
    {
        var launching = Place.New(Template(ZoneA, ZoneB), zone: null);

        Assert.Equal(Enum.Parse<Match>(expected), Predicates.Requirement(Req(WorkerTemplates.ZoneLabel, op, values.Length == 0 ? [] : values.Split(',')), launching));
    }

    public static TheoryData<string, string> TermCases() => new()
    {
        { "no terms", nameof(Match.No) },
        { "empty term", nameof(Match.No) },
        { "one term, every requirement holds", nameof(Match.Yes) },
        { "one term, one requirement fails", nameof(Match.No) },
        { "first term fails, second holds", nameof(Match.Yes) },
        { "first term uncertain, second fails", nameof(Match.Uncertain) },
        { "uncertain and holding requirement", nameof(Match.Uncertain) },
    };

    [Theory]
    [MemberData(nameof(TermCases))]
    public void Terms_OredTermsOfAndedRequirements_EmptyTermMatchesNothing(string scenario, string expected)
    {
        var holds = Req(WorkerTemplates.ArchitectureLabel, "In", "amd64");
        var fails = Req("gpu", "Exists");
        var uncertain = Req(WorkerTemplates.CapacityTypeLabel, "In", "spot");
        IReadOnlyList<NodeSelectorTerm> terms = scenario switch
        {
            "no terms" => [],
            "empty term" => [new NodeSelectorTerm()],
            "one term, every requirement holds" => [Term(holds, holds)],
            "one term, one requirement fails" => [Term(holds, fails)],
            "first term fails, second holds" => [Term(fails), Term(holds)],
            "first term uncertain, second fails" => [Term(uncertain), Term(fails)],
            _ => [Term(uncertain, holds)],
        };

        Assert.Equal(Enum.Parse<Match>(expected), Predicates.Terms(terms, NewWorker, out _));
    }

    [Theory]
    [InlineData("w1", "In", "w1", nameof(Match.Yes))]
    [InlineData("w2", "In", "w1", nameof(Match.No))]
    [InlineData("w2", "NotIn", "w1", nameof(Match.Yes))]
    [InlineData("w1", "NotIn", "w1", nameof(Match.No))]
    [InlineData(null, "In", "w1", nameof(Match.No))]     // a node not launched yet has no name to list
    [InlineData(null, "NotIn", "w1", nameof(Match.Yes))]
    [InlineData("w1", "Exists", "", nameof(Match.No))]   // matchFields takes In and NotIn only
    public void Field_MetadataName_MatchesTheNodeName(string? node, string op, string values, string expected)
    {
        var place = node is null ? NewWorker : Place.Of(ZonedWorker(node, ZoneA));

        Assert.Equal(Enum.Parse<Match>(expected), Predicates.Field(Req(Predicates.NodeNameField, op, values.Length == 0 ? [] : values.Split(',')), place));
    }

    [Fact]
    public void Field_OtherThanMetadataName_MatchesNothing()
    {
        Assert.Equal(Match.No, Predicates.Field(Req("metadata.namespace", "In", "w1"), Place.Of(ZonedWorker("w1", ZoneA))));
    }

    [Theory]
    [InlineData("disktype", "ssd", true, nameof(Match.Yes))]
    [InlineData("disktype", "hdd", true, nameof(Match.No))]
    [InlineData("gpu", "true", true, nameof(Match.No))]
    [InlineData(WorkerTemplates.CapacityTypeLabel, "spot", false, nameof(Match.Uncertain))]
    [InlineData(WorkerTemplates.ArchitectureLabel, "amd64", false, nameof(Match.Yes))]
    [InlineData(WorkerTemplates.HostnameLabel, "w1", false, nameof(Match.No))]
    public void Selects_NodeSelectorEntry_NeedsExactlyThatValue(string key, string value, bool existing, string expected)
    {
        Assert.Equal(Enum.Parse<Match>(expected), Predicates.Selects(existing ? Labelled : NewWorker, key, value));
    }

    public static TheoryData<Toleration, bool> Tolerations() => new()
    {
        { new Toleration { Key = "dedicated", Operator = "Equal", Value = "infra", Effect = "NoSchedule" }, true },
        { new Toleration { Key = "dedicated", Operator = "Equal", Value = "other", Effect = "NoSchedule" }, false },
        { new Toleration { Key = "dedicated", Operator = "Exists" }, true },                          // Exists ignores the value
        { new Toleration { Operator = "Exists" }, true },                                             // empty key + Exists tolerates every taint
        { new Toleration { Key = "dedicated", Operator = "Equal", Value = "infra" }, true },          // no effect matches every effect
        { new Toleration { Key = "dedicated", Operator = "Equal", Value = "infra", Effect = "NoExecute" }, false },
        { new Toleration { Key = "other", Operator = "Exists" }, false },
        { new Toleration { Key = "dedicated", Operator = "", Value = "infra" }, true },               // the operator defaults to Equal
        { new Toleration { Key = "dedicated", Operator = "Lt", Value = "infra" }, false },
    };

    [Theory]
    [MemberData(nameof(Tolerations))]
    public void Tolerates_TaintDedicatedInfraNoSchedule_FollowsTheMatchRules(Toleration toleration, bool expected)
    {
        Assert.Equal(expected, Predicates.Tolerates(toleration, new NodeTaint { Key = "dedicated", Value = "infra", Effect = "NoSchedule" }));
    }

    [Theory]
    [InlineData(null, true)]   // an absent value is ""
    [InlineData("", true)]
    [InlineData("x", false)]
    public void Tolerates_TaintWithoutValue_EqualComparesWithEmpty(string? value, bool expected)
    {
        Assert.Equal(expected, Predicates.Tolerates(new Toleration { Key = "spot", Value = value }, new NodeTaint { Key = "spot", Effect = "NoSchedule" }));
    }

    [Theory]
    [InlineData("NoSchedule", false, "spot:NoSchedule")]
    [InlineData("NoExecute", false, "spot:NoExecute")]
    [InlineData("PreferNoSchedule", false, null)] // never keeps a pod away
    [InlineData("NoSchedule", true, null)]
    [InlineData("NoExecute", true, null)]
    public void UntoleratedTaint_OnlyNoScheduleAndNoExecuteBlock(string effect, bool tolerated, string? expected)
    {
        IReadOnlyList<Toleration> tolerations = tolerated ? [new Toleration { Key = "spot", Operator = "Exists" }] : [];

        var unfit = Predicates.UntoleratedTaint(tolerations, [new NodeTaint { Key = "spot", Effect = effect }]);

        Assert.Equal(expected, unfit?.Detail);
        Assert.Equal(expected is null ? null : Predicate.Taint, unfit?.Predicate);
    }

    [Theory]
    [InlineData(80, "TCP", null, 80, "TCP", null, true)]
    [InlineData(80, "TCP", null, 81, "TCP", null, false)]
    [InlineData(80, "TCP", null, 80, "UDP", null, false)]              // another protocol
    [InlineData(80, "TCP", "0.0.0.0", 80, "TCP", "10.0.0.1", true)]    // 0.0.0.0 overlaps every address
    [InlineData(80, "TCP", null, 80, "TCP", "10.0.0.1", true)]         // so does an empty host IP
    [InlineData(80, "TCP", "10.0.0.1", 80, "TCP", "10.0.0.2", false)]
    [InlineData(80, "TCP", "10.0.0.1", 80, "TCP", "10.0.0.1", true)]
    [InlineData(80, "", null, 80, "TCP", null, true)]                  // the protocol defaults to TCP
    public void Conflict_HostPorts_SamePortAndProtocolOnOverlappingAddresses(int portA, string protocolA, string? ipA, int portB, string protocolB, string? ipB, bool expected)
    {
        var a = new HostPort { Port = portA, Protocol = protocolA, HostIp = ipA };
        var b = new HostPort { Port = portB, Protocol = protocolB, HostIp = ipB };

        Assert.Equal(expected, Predicates.Conflict(a, b));
        Assert.Equal(expected, Predicates.Conflict(b, a));
    }

    public static TheoryData<string, string?, string?> CheckCases() => new()
    {
        { "unconstrained", null, null },
        { "selector and affinity fail", nameof(Predicate.NodeSelector), "gpu=true" },
        { "affinity fails", nameof(Predicate.NodeAffinity), "kubernetes.io/arch In (arm64)" },
        { "volume in another zone", nameof(Predicate.VolumeZone), "volume data-db-0: topology.kubernetes.io/zone In (us-east-1c)" },
        { "uncertain label and an untolerated taint", nameof(Predicate.Taint), "dedicated=infra:NoSchedule" },
        { "only an uncertain label", nameof(Predicate.UncertainLabel), "nodefleet.io/capacity-type=spot" },
        { "tolerated taint", null, null },
    };

    [Theory]
    [MemberData(nameof(CheckCases))]
    public void Check_ConstraintsOnANewWorker_NamesTheFirstDefiniteFailureElseTheUncertainLabel(string scenario, string? expected, string? detail)
    {
        var tainted = Template(ZoneA) with { Taints = [new NodeTaint { Key = "dedicated", Value = "infra", Effect = "NoSchedule" }] };
        var place = scenario is "uncertain label and an untolerated taint" or "tolerated taint" ? Place.New(tainted, ZoneA) : NewWorker;
        var constraints = scenario switch
        {
            "selector and affinity fail" => new PodConstraints { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" }, NodeAffinity = [Affinity(Req(WorkerTemplates.ArchitectureLabel, "In", "arm64"))] },
            "affinity fails" => new PodConstraints { NodeAffinity = [Affinity(Req(WorkerTemplates.ArchitectureLabel, "In", "arm64"))] },
            "volume in another zone" => new PodConstraints { NodeAffinity = [Volume("data-db-0", ZoneC)] },
            "uncertain label and an untolerated taint" or "only an uncertain label" => new PodConstraints { NodeSelector = new Dictionary<string, string> { [WorkerTemplates.CapacityTypeLabel] = "spot" } },
            "tolerated taint" => new PodConstraints { Tolerations = [new Toleration { Key = "dedicated", Operator = "Exists", Effect = "NoSchedule" }] },
            _ => null,
        };

        var unfit = Predicates.Check(constraints, place);

        Assert.Equal(expected, unfit?.Predicate.ToString());
        Assert.Equal(detail, unfit?.Detail);
    }

    [Fact]
    public void Check_UnconstrainedPodOnATaintedNode_DoesNotFit()
    {
        var tainted = ZonedWorker("w1", ZoneA) with { Taints = [new NodeTaint { Key = "node.kubernetes.io/unreachable", Effect = "NoExecute" }] };

        Assert.Equal(Predicate.Taint, Predicates.Check(null, Place.Of(tainted))?.Predicate);
    }

    [Fact]
    public void Lookup_ExistingNodeWithoutZoneOrHostnameLabels_AnswersWithItsZoneAndName()
    {
        var place = Place.Of(Fixtures.Worker("w9"));

        Assert.Equal(Match.Yes, Predicates.Requirement(Req(WorkerTemplates.ZoneLabel, "In", ZoneA), place));
        Assert.Equal(Match.Yes, Predicates.Requirement(Req(WorkerTemplates.HostnameLabel, "In", "w9"), place));
    }

    private static NodeSelectorTerm Term(params NodeSelectorRequirement[] requirements) => new() { MatchExpressions = requirements };
}
