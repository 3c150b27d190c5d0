using k8s.Models;
using NodeFleet.Cluster.Kubernetes;

namespace NodeFleet.Cluster.Tests;

/// <summary>The official client's models as the steps read them: quantities rounded up, owners, local storage, selectors.</summary>
public class KubernetesModelsTests
{
    private static V1Pod Pod(Action<V1Pod>? change = null)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web-1", NamespaceProperty = "shop" },
            Spec = new V1PodSpec { NodeName = "w1", Containers = [] },
            Status = new V1PodStatus { Phase = "Running" },
        };
        change?.Invoke(pod);
        return pod;
    }

    private static V1Container Container(string cpu, string memory) => new()
    {
        Name = "c" + cpu,
        Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new(memory) } },
    };

    [Theory]
    [InlineData("500m", 500)]
    [InlineData("2", 2000)]
    [InlineData("0.25", 250)]
    [InlineData("1500u", 2)]   // rounded up, as the scheduler does
    [InlineData("100n", 1)]
    public void CpuMillis_Quantities_RoundUp(string text, long expected) => Assert.Equal(expected, KubernetesModels.CpuMillis(new ResourceQuantity(text)));

    [Theory]
    [InlineData("512Mi", 536870912)]
    [InlineData("1Gi", 1073741824)]
    [InlineData("1G", 1000000000)]
    [InlineData("128974848", 128974848)]
    [InlineData("1e3", 1000)]
    [InlineData("1.5Ki", 1536)]
    public void Bytes_Quantities_Parse(string text, long expected) => Assert.Equal(expected, KubernetesModels.Bytes(new ResourceQuantity(text)));

    [Fact]
    public void ToPod_Requests_AreTheLargerOfContainersAndInitContainersPlusOverhead()
    {
        var pod = Pod(p =>
        {
            p.Spec.Containers = [Container("250m", "128Mi"), Container("0.5", "256Mi"), new V1Container { Name = "no-requests" }];
            p.Spec.InitContainers = [Container("2", "1Gi")];
            p.Spec.Overhead = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m") };
        });

        var mapped = KubernetesModels.ToPod(pod);

        // max(250m + 500m, 2) + 100m; max(128Mi + 256Mi, 1Gi).
        Assert.Equal((2100, 1L << 30), (mapped.CpuMillis, mapped.MemoryBytes));
    }

    [Fact]
    public void ToPod_OwnersMirrorAndStorage_AreRead()
    {
        var pod = Pod(p =>
        {
            p.Metadata.OwnerReferences = [new V1OwnerReference { Kind = "Node", Name = "w1", ApiVersion = "v1", Uid = "1" }, new V1OwnerReference { Kind = "ReplicaSet", Name = "web", ApiVersion = "apps/v1", Uid = "2", Controller = true }];
            p.Metadata.Annotations = new Dictionary<string, string> { [KubernetesModels.MirrorAnnotation] = "abc" };
            p.Spec.Volumes = [new V1Volume { Name = "logs", HostPath = new V1HostPathVolumeSource { Path = "/var/log" } }];
        });

        var mapped = KubernetesModels.ToPod(pod);

        Assert.Equal("ReplicaSet", mapped.OwnerKind); // the controller, not the first owner
        Assert.True(mapped.IsMirror);
        Assert.True(mapped.HasLocalStorage);
        Assert.Equal("abc", mapped.Annotations[KubernetesModels.MirrorAnnotation]);
    }

    [Fact]
    public void ToPod_NoControllerNoVolumes_IsBareAndStorageFree()
    {
        var mapped = KubernetesModels.ToPod(Pod(p => p.Spec.Volumes = [new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = "cfg" } }]));

        Assert.Null(mapped.OwnerKind);
        Assert.False(mapped.HasLocalStorage);
        Assert.False(mapped.IsMirror);
    }

    [Fact]
    public void ToPod_WithoutNamespace_IsRejectedNamingTheField()
    {
        var error = Assert.Throws<ClusterRequestRejectedException>(() => KubernetesModels.ToPod(Pod(p => p.Metadata.NamespaceProperty = null)));

        Assert.Contains("pod web-1 without metadata.namespace", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToNode_ConditionsTaintsAndCreation_AreRead()
    {
        var node = new V1Node
        {
            Metadata = new V1ObjectMeta { Name = "w1", CreationTimestamp = new DateTime(2026, 11, 18, 8, 0, 0, DateTimeKind.Utc), Labels = new Dictionary<string, string> { ["a"] = "b" } },
            Spec = new V1NodeSpec { ProviderID = "aws:///us-east-1a/i-1", Unschedulable = true, Taints = [new V1Taint { Key = "k", Effect = "NoSchedule" }] },
            Status = new V1NodeStatus
            {
                Conditions = [new V1NodeCondition { Type = "MemoryPressure", Status = "False" }, new V1NodeCondition { Type = "Ready", Status = "True" }],
                Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1930m"), ["memory"] = new("7Gi"), ["pods"] = new("110") },
            },
        };

        var mapped = KubernetesModels.ToNode(node);

        Assert.True(mapped.Ready);
        Assert.True(mapped.Unschedulable);
        Assert.Equal(new DateTimeOffset(2026, 11, 18, 8, 0, 0, TimeSpan.Zero), mapped.CreatedAt);
        Assert.Equal(new Core.Contracts.Resources(1930, 7L << 30, 110), mapped.Allocatable);
        Assert.Equal("b", mapped.Labels["a"]);
    }

    [Fact]
    public void ToBudget_Selector_KeepsExpressionsAndNullMeansNoPod()
    {
        var withSelector = new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop" },
            Spec = new V1PodDisruptionBudgetSpec
            {
                Selector = new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "tier", OperatorProperty = "In", Values = ["front", "edge"] }] },
            },
            Status = new V1PodDisruptionBudgetStatus { DisruptionsAllowed = 2 },
        };
        var withoutSelector = new V1PodDisruptionBudget { Metadata = new V1ObjectMeta { Name = "none", NamespaceProperty = "shop" }, Spec = new V1PodDisruptionBudgetSpec() };

        var mapped = KubernetesModels.ToBudget(withSelector);

        Assert.Equal(2, mapped.DisruptionsAllowed);
        Assert.True(mapped.Selector!.Matches(new Dictionary<string, string> { ["tier"] = "edge" }));
        Assert.False(mapped.Selector.Matches(new Dictionary<string, string> { ["tier"] = "back" }));
        Assert.Null(KubernetesModels.ToBudget(withoutSelector).Selector);
    }
}
