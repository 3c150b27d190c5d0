using NodeFleet.Core.Cluster;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Kubernetes;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Tests.Cluster;

public class KubernetesValuesTests
{
    [Theory]
    [InlineData("500m", 500)]
    [InlineData("2", 2000)]
    [InlineData("0.25", 250)]
    [InlineData("1500u", 2)]   // rounded up, as the scheduler does
    public void CpuMillis_Quantities_Parse(string text, long expected) => Assert.Equal(expected, Quantity.CpuMillis(text));

    [Theory]
    [InlineData("512Mi", 536870912)]
    [InlineData("1Gi", 1073741824)]
    [InlineData("1G", 1000000000)]
    [InlineData("128974848", 128974848)]
    [InlineData("1e3", 1000)]
    public void Bytes_Quantities_Parse(string text, long expected) => Assert.Equal(expected, Quantity.Bytes(text));

    [Theory]
    [InlineData("1.5.5")]
    [InlineData("12Q")]
    [InlineData("")]
    public void Quantity_Malformed_Throws(string text) => Assert.Throws<FormatException>(() => Quantity.Value(text));

    [Theory]
    [InlineData("In", "web", true)]
    [InlineData("NotIn", "web", false)]
    [InlineData("Exists", null, true)]
    [InlineData("DoesNotExist", null, false)]
    public void LabelSelector_Expressions_Match(string op, string? value, bool expected)
    {
        var selector = new LabelSelector(new Dictionary<string, string>(), [new SelectorRequirement("app", op, value is null ? [] : [value])]);

        Assert.Equal(expected, selector.Matches(new Dictionary<string, string> { ["app"] = "web" }));
    }

    [Fact]
    public void WithPodFacts_ManagedReadyWorkers_GetMovablePodsAndBlockers()
    {
        var budgets = new[] { new DisruptionBudget("shop", "web", new LabelSelector(new Dictionary<string, string> { ["app"] = "web" }, []), 0) };
        static ClusterPod Pod(string name, string node, string? owner = "ReplicaSet", string app = "x", string phase = "Running") =>
            new("shop", name, node, phase, owner, false, false, new Dictionary<string, string>(), new Dictionary<string, string> { ["app"] = app }, 100, 1024);
        var pods = new[] { Pod("a", "w1"), Pod("b", "w1"), Pod("web-1", "w1", app: "web"), Pod("bare", "w2", owner: null), Pod("old", "w2", phase: "Succeeded") };
        var snapshot = Tests.Fixtures.Snapshot([Tests.Fixtures.Worker("w1"), Tests.Fixtures.Worker("w2"), Tests.Fixtures.Worker("u1") with { Managed = false }]);

        var enriched = PodFactsMapping.WithPodFacts(snapshot, pods, budgets).Nodes.ToDictionary(n => n.Name);

        Assert.Equal(2, enriched["w1"].MovablePods.Sum(g => g.Count));
        Assert.Equal(EvictionBlockReason.PodDisruptionBudget, Assert.Single(enriched["w1"].Blockers).Reason);
        Assert.Equal(EvictionBlockReason.NoController, Assert.Single(enriched["w2"].Blockers).Reason);
        Assert.Empty(enriched["w2"].MovablePods); // the Succeeded pod holds nothing
        Assert.Empty(enriched["u1"].Blockers);    // unmanaged: never a candidate, facts not needed
    }
}
