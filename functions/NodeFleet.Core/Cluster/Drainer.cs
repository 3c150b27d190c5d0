using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Cluster;

/// <summary>
/// Drains a node one short call at a time; the waiting happens in the state machine. A pass
/// evicts every pod that may go (DaemonSet and mirror pods stay with the node) and reports what
/// is left and why: a budget that refuses for now (keep going), a pod that may never be evicted
/// (give up at once rather than loop), or the drain timeout (give up).
/// </summary>
public sealed class Drainer(IClusterApi api, TimeSpan drainTimeout)
{
    public async Task<DrainProgress> RunAsync(DrainRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var startedAt = request.StartedAt ?? now;
        switch (request.Action)
        {
            case DrainAction.Abort:
                if (await api.GetNodeAsync(request.Node, cancellationToken).ConfigureAwait(false) is not null)
                {
                    await api.SetUnschedulableAsync(request.Node, false, cancellationToken).ConfigureAwait(false);
                }

                return new DrainProgress { Node = request.Node, Status = DrainStatus.Aborted, StartedAt = startedAt };
            case DrainAction.Delete:
                await api.DeleteNodeAsync(request.Node, cancellationToken).ConfigureAwait(false);
                return new DrainProgress { Node = request.Node, Status = DrainStatus.Deleted, StartedAt = startedAt };
            case DrainAction.Start:
                if (await api.GetNodeAsync(request.Node, cancellationToken).ConfigureAwait(false) is null)
                {
                    return new DrainProgress { Node = request.Node, Status = DrainStatus.Drained, StartedAt = startedAt };
                }

                await api.SetUnschedulableAsync(request.Node, true, cancellationToken).ConfigureAwait(false);
                break;
        }

        return await EvictPassAsync(request.Node, startedAt, now, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DrainProgress> EvictPassAsync(string node, DateTimeOffset startedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var leaving = (await api.ListPodsOnNodeAsync(node, cancellationToken).ConfigureAwait(false))
            .Where(p => p.IsActive)
            .Select(p => (Pod: p, Name: $"{p.Namespace}/{p.Name}", Facts: PodFactsMapping.ToFacts(p, [])))
            .Where(p => !EvictionRules.StaysWithNode(p.Facts))
            .ToList();

        // A pod that may never be evicted makes the drain hopeless: say so before evicting anything,
        // so that the abort that follows leaves every pod where it was.
        var forbidden = leaving
            .Where(p => EvictionRules.BlockReason(p.Facts) is not null)
            .Select(p => new EvictionBlocker { Pod = p.Name, Reason = EvictionRules.BlockReason(p.Facts)!.Value })
            .ToList();
        if (forbidden.Count > 0)
        {
            return new DrainProgress
            {
                Node = node, Status = DrainStatus.Blocked, StartedAt = startedAt,
                Remaining = leaving.Select(p => p.Name).ToList(), Blockers = forbidden,
            };
        }

        var evicted = 0;
        var remaining = new List<string>();
        var blockers = new List<EvictionBlocker>();
        foreach (var (pod, name, _) in leaving)
        {
            var outcome = await api.EvictAsync(pod.Namespace, pod.Name, cancellationToken).ConfigureAwait(false);
            if (outcome.Result == EvictionResult.Evicted)
            {
                evicted++;
            }
            else if (outcome.Result == EvictionResult.BlockedByDisruptionBudget)
            {
                remaining.Add(name);
                blockers.Add(new EvictionBlocker { Pod = name, Reason = EvictionBlockReason.PodDisruptionBudget, Detail = outcome.Detail });
            }
        }

        var status = remaining.Count == 0 ? DrainStatus.Drained
            : now - startedAt >= drainTimeout ? DrainStatus.Overdue
            : DrainStatus.Draining;
        return new DrainProgress { Node = node, Status = status, StartedAt = startedAt, Evicted = evicted, Remaining = remaining, Blockers = blockers };
    }
}
