using NodeFleet.Core.Cluster;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Kubernetes;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Tests.Cluster;

public class KubernetesValuesTests
{
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

    [Theory]
    [InlineData(false, true)]  // an empty selector: every pod of the namespace
    [InlineData(true, false)]  // no selector: no pod (policy/v1)
    public void DisruptionBudget_SelectorPresence_DecidesWhatItSelects(bool nullSelector, bool expected)
    {
        var budget = new DisruptionBudget("shop", "any", nullSelector ? null : new LabelSelector(new Dictionary<string, string>(), []), 1);
        var pod = new ClusterPod("shop", "a", "w1", "Running", "ReplicaSet", false, false, new Dictionary<string, string>(), new Dictionary<string, string> { ["app"] = "web" }, 100, 1024);

        Assert.Equal(expected, budget.Selects(pod));
        Assert.False(budget.Selects(pod with { Namespace = "other" }));
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
