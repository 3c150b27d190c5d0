using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Cluster;

/// <summary>Nodes as the Kubernetes API describes them, in the snapshot's terms (used when Prometheus is not asked).</summary>
public static class NodeMapping
{
    public static NodeInfo ToNodeInfo(ClusterNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var mapped = ProviderId.TryParse(node.ProviderId, out var zone, out var instanceId);
        return new NodeInfo
        {
            Name = node.Name,
            InstanceId = mapped ? instanceId : null,
            Zone = node.Labels.GetValueOrDefault("topology.kubernetes.io/zone") ?? (mapped ? zone : null),
            InstanceType = node.Labels.GetValueOrDefault("node.kubernetes.io/instance-type"),
            Ready = node.Ready,
            ReadyChangedAt = node.ReadyChangedAt,
            Unschedulable = node.Unschedulable,
            ControlPlane = node.Labels.ContainsKey("node-role.kubernetes.io/control-plane") || node.Labels.ContainsKey("node-role.kubernetes.io/master"),
            Managed = node.Labels.GetValueOrDefault("nodefleet.io/managed") == "true",
            CreatedAt = node.CreatedAt,
            Allocatable = node.Allocatable,
            Requested = Resources.Zero,
            Cordon = node.Unschedulable ? CordonMark.FromAnnotations(node.Annotations) : null,
        };
    }
}
