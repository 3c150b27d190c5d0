using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Cluster;

/// <summary>Which launched instances have joined as Ready nodes, which are still coming, and which are overdue.</summary>
public static class Readiness
{
    /// <summary>Taints a node carries while it is starting; a node with any of them is not ready for pods yet.</summary>
    public static readonly IReadOnlySet<string> StartupTaints = new HashSet<string>(StringComparer.Ordinal)
    {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/network-unavailable",
        "node.cloudprovider.kubernetes.io/uninitialized",
    };

    public static ReadinessReport Evaluate(LaunchOutcome launch, IReadOnlyList<ClusterNode> nodes, DateTimeOffset now, TimeSpan joinTimeout)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var deadline = launch.StartedAt + joinTimeout;
        var byInstance = new Dictionary<string, ClusterNode>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            if (ProviderId.TryParse(node.ProviderId, out _, out var instanceId))
            {
                byInstance[instanceId] = node;
            }
        }

        var ready = new List<JoinedNode>();
        var notReady = new List<string>();
        foreach (var instance in launch.Instances)
        {
            if (byInstance.TryGetValue(instance.InstanceId, out var node) && node.Ready && !node.Unschedulable && !node.Taints.Any(t => StartupTaints.Contains(t.Key)))
            {
                ready.Add(new JoinedNode { InstanceId = instance.InstanceId, Node = node.Name });
            }
            else
            {
                notReady.Add(instance.InstanceId);
            }
        }

        var overdue = now >= deadline;
        return new ReadinessReport
        {
            Status = notReady.Count == 0 ? ReadinessStatus.AllReady : overdue ? ReadinessStatus.Overdue : ReadinessStatus.Waiting,
            Deadline = deadline,
            Ready = ready,
            Pending = overdue ? [] : notReady,
            Overdue = overdue ? notReady : [],
        };
    }
}
