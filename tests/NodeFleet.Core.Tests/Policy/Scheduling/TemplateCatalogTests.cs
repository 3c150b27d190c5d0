using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Scheduling;
using NodeFleet.Core.Settings;
using static NodeFleet.Core.Tests.Fixtures;
using static NodeFleet.Core.Tests.Policy.Scheduling.SchedulingFixtures;

namespace NodeFleet.Core.Tests.Policy.Scheduling;

public class TemplateCatalogTests
{
    private static DaemonSetInfo DaemonSet(string name, long cpu, PodConstraints? constraints = null) =>
        new() { Name = "kube-system/" + name, CpuMillis = cpu, MemoryBytes = cpu * MiB, Constraints = constraints };

    [Theory]
    [InlineData("everywhere", 1900, 1900)]
    [InlineData("gpu nodes only", 2000, 2000)]                 // its nodeSelector names a label the template lacks
    [InlineData("zone b only", 2000, 1900)]
    [InlineData("spot only", 1900, 1900)]                     // may land (the capacity type is one of two): counted
    [InlineData("tolerates nothing, template tainted", 2000, 2000)]
    public void Slots_DaemonSets_TakeTheirShareWhereTheyLand(string daemonSet, long expectedA, long expectedB)
    {
        var template = Template(ZoneA, ZoneB);
        if (daemonSet == "tolerates nothing, template tainted")
        {
            template = template with { Taints = [new NodeTaint { Key = "dedicated", Effect = "NoSchedule" }] };
        }

        var constraints = daemonSet switch
        {
            "gpu nodes only" => new PodConstraints { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } },
            "zone b only" => new PodConstraints { NodeAffinity = [Affinity(Req(WorkerTemplates.ZoneLabel, "In", ZoneB))] },
            "spot only" => new PodConstraints { NodeSelector = new Dictionary<string, string> { [WorkerTemplates.CapacityTypeLabel] = "spot" } },
            _ => null,
        };

        var catalog = new TemplateCatalog([template], [DaemonSet("agent", 100, constraints)]);

        Assert.Equal(expectedA, catalog.Slot(0, ZoneA)!.Capacity.CpuMillis);
        Assert.Equal(expectedB, catalog.Slot(0, ZoneB)!.Capacity.CpuMillis);
        Assert.Equal(Math.Min(expectedA, expectedB), catalog.UnknownZone[0].Capacity.CpuMillis); // a node of unknown zone has the least room
    }

    [Fact]
    public void Slots_EachDaemonSet_TakesOnePodSlotToo()
    {
        var catalog = new TemplateCatalog([Template(ZoneA)], [DaemonSet("a", 10), DaemonSet("b", 10)]);

        Assert.Equal(Shape.Pods - 2, catalog.Slot(0, ZoneA)!.Capacity.Pods);
        Assert.Null(catalog.Slot(0, ZoneB));
    }
}
