using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Cluster;

/// <summary>
/// Carries out a reconcile plan under the lease. The plan was made from a snapshot seconds old:
/// each item is checked again against the API's nodes as they are now, and left (and said so)
/// when the world has moved on: an orphan that became Ready, a cordon taken over by another drain.
/// </summary>
public sealed class Reconciliation(IComputeFleet fleet, IClusterApi api, IFleetStateStore store)
{
    public async Task<ReconcileResult> RunAsync(ReconcilePlan plan, Lease lease, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(lease);
        if (!plan.HasWork)
        {
            return new ReconcileResult();
        }

        await store.EnsureHeldAsync(lease, now, cancellationToken).ConfigureAwait(false);
        var nodes = (await api.ListNodesAsync(null, cancellationToken).ConfigureAwait(false)).Select(NodeMapping.ToNodeInfo).ToList();
        var byName = nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var byInstance = nodes.Where(n => n.InstanceId is not null).GroupBy(n => n.InstanceId!).ToDictionary(g => g.Key, g => g.First());
        var skipped = new List<string>();

        var orphans = new List<OrphanInstance>();
        foreach (var orphan in plan.Orphans)
        {
            if (byInstance.TryGetValue(orphan.InstanceId, out var node) && !Reconciler.NeverReady(node))
            {
                skipped.Add($"{orphan.InstanceId}: its node {node.Name} is Ready now");
                continue;
            }

            orphans.Add(orphan with { Node = node?.Name ?? orphan.Node });
        }

        var terminated = orphans.Select(o => o.InstanceId).ToList();
        await fleet.TerminateAsync(terminated, cancellationToken).ConfigureAwait(false);

        var deleted = new List<string>();
        foreach (var name in orphans.Where(o => o.Node is not null).Select(o => o.Node!).Concat(plan.Ghosts).Distinct(StringComparer.Ordinal))
        {
            if (!byName.TryGetValue(name, out var node))
            {
                continue; // gone already: what a delete wants
            }

            if (node.Ready || node.ControlPlane || !node.Managed)
            {
                skipped.Add($"{name}: {(node.Ready ? "Ready now" : "not a managed worker")}");
                continue;
            }

            await api.DeleteNodeAsync(name, cancellationToken).ConfigureAwait(false);
            deleted.Add(name);
        }

        var uncordoned = new List<string>();
        foreach (var stray in plan.StrayCordons)
        {
            if (!byName.TryGetValue(stray.Node, out var node) || !node.Unschedulable)
            {
                continue;
            }

            if (node.Cordon?.ExecutionId != stray.CordonedBy)
            {
                skipped.Add($"{stray.Node}: cordoned by {node.Cordon?.ExecutionId ?? "someone else"} now");
                continue;
            }

            await api.UncordonAsync(stray.Node, cancellationToken).ConfigureAwait(false);
            uncordoned.Add(stray.Node);
        }

        return new ReconcileResult { Terminated = terminated, DeletedNodes = deleted, Uncordoned = uncordoned, Skipped = skipped };
    }
}
