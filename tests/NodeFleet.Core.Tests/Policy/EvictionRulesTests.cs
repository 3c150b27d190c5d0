using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;

namespace NodeFleet.Core.Tests.Policy;

public class EvictionRulesTests
{
    private static PodFacts Pod(string ns = "default", string? owner = "ReplicaSet", bool local = false, bool mirror = false, string? safeToEvict = null, string? doNotDisrupt = null, params string[] pdbs)
    {
        var annotations = new Dictionary<string, string>();
        if (safeToEvict is not null)
        {
            annotations[EvictionRules.SafeToEvictAnnotation] = safeToEvict;
        }

        if (doNotDisrupt is not null)
        {
            annotations[EvictionRules.DoNotDisruptAnnotation] = doNotDisrupt;
        }

        return new PodFacts
        {
            Namespace = ns,
            Name = "p",
            OwnerKind = owner,
            HasLocalStorage = local,
            IsMirror = mirror,
            Annotations = annotations,
            DisruptionBudgets = pdbs,
            CpuMillis = 100,
            MemoryBytes = 1024,
        };
    }

    public static TheoryData<PodFacts, EvictionBlockReason?> Rules() => new()
    {
        { Pod(), null },
        { Pod(owner: null), EvictionBlockReason.NoController },
        { Pod(owner: null, safeToEvict: "true"), null },
        { Pod(local: true), EvictionBlockReason.LocalStorage },
        { Pod(local: true, safeToEvict: "true"), null },
        { Pod(safeToEvict: "false"), EvictionBlockReason.SafeToEvictFalse },
        { Pod(doNotDisrupt: "true"), EvictionBlockReason.DoNotDisrupt },
        { Pod(doNotDisrupt: "true", safeToEvict: "true"), EvictionBlockReason.DoNotDisrupt },
        { Pod(ns: "kube-system"), EvictionBlockReason.KubeSystem },
        { Pod(ns: "kube-system", owner: "DaemonSet"), null },
        { Pod(ns: "kube-system", safeToEvict: "true"), null },
        { Pod(owner: "DaemonSet", local: true), null },
        { Pod(owner: null, mirror: true), null },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void BlockReason_PodFacts_FollowAutoscalerRules(PodFacts pod, EvictionBlockReason? expected)
    {
        Assert.Equal(expected, EvictionRules.BlockReason(pod));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(5, 3)]
    public void Classify_PodsUnderOneBudget_MovesOnlyWhatItAllows(int allowed, int expectedMovable)
    {
        var pods = Enumerable.Range(0, 3).Select(_ => Pod(pdbs: "default/web")).ToList();

        var result = EvictionRules.Classify(pods, new Dictionary<string, int> { ["default/web"] = allowed });

        Assert.Equal(expectedMovable, result.Movable.Sum(g => g.Count));
        Assert.Equal(3 - expectedMovable, result.Blockers.Count);
        Assert.All(result.Blockers, b => Assert.Equal(EvictionBlockReason.PodDisruptionBudget, b.Reason));
    }

    [Fact]
    public void Classify_DaemonSetAndMirrorPods_NeitherMoveNorBlock()
    {
        var result = EvictionRules.Classify([Pod(owner: "DaemonSet"), Pod(owner: null, mirror: true)], new Dictionary<string, int>());

        Assert.Empty(result.Movable);
        Assert.Empty(result.Blockers);
    }

    [Fact]
    public void Classify_IdenticalRequests_AreGrouped()
    {
        var pods = new[] { Pod(), Pod(), Pod() with { CpuMillis = 500 } };

        var result = EvictionRules.Classify(pods, new Dictionary<string, int>());

        Assert.Equal(2, result.Movable.Count);
        Assert.Equal(3, result.Movable.Sum(g => g.Count));
    }
}
