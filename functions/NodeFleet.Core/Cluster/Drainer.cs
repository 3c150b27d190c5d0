using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Cluster;

/// <summary>
/// Drains a node one short call at a time; the waiting happens in the state machine. A pass
/// evicts every pod that may go (DaemonSet and mirror pods stay with the node) and reports what
/// is left and why: a budget that refuses for now (keep going), evicted pods still shutting down
/// within their grace period (keep waiting: the node is not Drained until they are gone or their
/// deletionTimestamp plus <paramref name="graceMargin"/> passed), a pod that may never be evicted
/// (give up at once rather than loop), or the drain timeout (give up; nothing is killed).
/// <para>
/// An interruption drain differs in two ways. A spot warning (<see cref="InterruptionNotice.Forced"/>)
/// evicts whatever may be evicted, however many others are stuck, and waits for graceful
/// termination only until the instance is taken (<see cref="InterruptionNotice.NotAfter"/>): EC2
/// ends it then whatever NodeFleet does, so waiting longer gives no pod more time, while the
/// replacement's launch and the record must not wait on a machine that is already gone. A rebalance
/// recommendation or <c>stopping</c> is not forced: a pod that cannot be evicted keeps the node
/// (<see cref="DrainStatus.AwaitingInterruption"/>, re-marked so), and the real warning finishes it.
/// </para>
/// </summary>
public sealed class Drainer(IClusterApi api, TimeSpan drainTimeout, TimeSpan graceMargin)
{
    public async Task<DrainProgress> RunAsync(DrainRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var startedAt = request.StartedAt ?? now;
        switch (request.Action)
        {
            case DrainAction.Abort:
                foreach (var empty in request.Also)
                {
                    await AbortAsync(request with { Node = empty.Name }, startedAt, cancellationToken).ConfigureAwait(false);
                }

                return await AbortAsync(request, startedAt, cancellationToken).ConfigureAwait(false);
            case DrainAction.Delete:
                foreach (var node in request.Also.Select(n => n.Name).Prepend(request.Node))
                {
                    await api.DeleteNodeAsync(node, cancellationToken).ConfigureAwait(false);
                }

                return new DrainProgress { Node = request.Node, Status = DrainStatus.Deleted, StartedAt = startedAt, Also = request.Also };
            case DrainAction.Start:
                if (await api.GetNodeAsync(request.Node, cancellationToken).ConfigureAwait(false) is null)
                {
                    return new DrainProgress { Node = request.Node, Status = DrainStatus.Drained, StartedAt = startedAt, Also = await KeepEmptyAsync(request, now, cancellationToken).ConfigureAwait(false) };
                }

                await api.CordonAsync(request.Node, Mark(request, request.Reason, now), cancellationToken).ConfigureAwait(false);
                break;
        }

        var kept = await KeepEmptyAsync(request, now, cancellationToken).ConfigureAwait(false);
        var progress = await EvictPassAsync(request, startedAt, now, cancellationToken).ConfigureAwait(false);
        return progress with { Also = kept };
    }

    /// <summary>
    /// The empty workers that go with the drained node: each is cordoned (on Start), then kept only if no pod
    /// that would have to move is on it, read after the cordon so none can land unseen; one that has such a pod
    /// (scheduled there since the decision) is uncordoned and dropped, and one already gone is dropped.
    /// </summary>
    private async Task<IReadOnlyList<NodeRef>> KeepEmptyAsync(DrainRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var kept = new List<NodeRef>();
        foreach (var also in request.Also)
        {
            if (await api.GetNodeAsync(also.Name, cancellationToken).ConfigureAwait(false) is null)
            {
                continue;
            }

            if (request.Action == DrainAction.Start)
            {
                await api.CordonAsync(also.Name, Mark(request, request.Reason, now), cancellationToken).ConfigureAwait(false);
            }

            var movable = (await api.ListPodsOnNodeAsync(also.Name, cancellationToken).ConfigureAwait(false))
                .Where(p => p.IsActive)
                .Any(p => !EvictionRules.StaysWithNode(PodFactsMapping.ToFacts(p, [])));
            if (movable)
            {
                await AbortAsync(request with { Node = also.Name }, request.StartedAt ?? now, cancellationToken).ConfigureAwait(false);
                continue;
            }

            kept.Add(also);
        }

        return kept;
    }

    /// <summary>
    /// Uncordons, removing the mark, unless another execution's mark is on the node: an interruption
    /// that took the node over from this drain owns the cordon now, and lifting it would put pods back
    /// on a machine that is going away.
    /// </summary>
    private async Task<DrainProgress> AbortAsync(DrainRequest request, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        if (await api.GetNodeAsync(request.Node, cancellationToken).ConfigureAwait(false) is not { } node)
        {
            return new DrainProgress { Node = request.Node, Status = DrainStatus.Aborted, StartedAt = startedAt };
        }

        if (CordonMark.FromAnnotations(node.Annotations) is { } mark && request.ExecutionId is { } self && mark.ExecutionId != self)
        {
            return new DrainProgress
            {
                Node = request.Node, Status = DrainStatus.Aborted, StartedAt = startedAt,
                Note = $"left cordoned: {mark.ExecutionId} cordoned it since ({mark.Reason} at {mark.At:O})",
            };
        }

        await api.UncordonAsync(request.Node, cancellationToken).ConfigureAwait(false);
        return new DrainProgress { Node = request.Node, Status = DrainStatus.Aborted, StartedAt = startedAt };
    }

    private async Task<DrainProgress> EvictPassAsync(DrainRequest request, DateTimeOffset startedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var node = request.Node;
        var pods = (await api.ListPodsOnNodeAsync(node, cancellationToken).ConfigureAwait(false))
            .Where(p => p.IsActive)
            .Select(p => (Pod: p, Name: $"{p.Namespace}/{p.Name}", Facts: PodFactsMapping.ToFacts(p, [])))
            .Where(p => !EvictionRules.StaysWithNode(p.Facts))
            .ToList();

        // Pods already being deleted are leaving; they are waited for, never evicted again.
        var terminating = pods.Where(p => p.Pod.DeletionTimestamp is not null).Select(p => Terminating(p.Name, p.Pod.DeletionTimestamp!.Value)).ToList();
        var leaving = pods.Where(p => p.Pod.DeletionTimestamp is null).ToList();
        var forced = request.Interruption?.Forced == true;

        // A pod that may never be evicted makes a scale-down hopeless: say so before evicting anything,
        // so that the abort that follows leaves every pod where it was. An interruption evicts the rest.
        var forbidden = leaving
            .Where(p => EvictionRules.BlockReason(p.Facts) is not null)
            .Select(p => new EvictionBlocker { Pod = p.Name, Reason = EvictionRules.BlockReason(p.Facts)!.Value })
            .ToList();
        if (forbidden.Count > 0 && request.Interruption is null)
        {
            return new DrainProgress
            {
                Node = node, Status = DrainStatus.Blocked, StartedAt = startedAt,
                Remaining = leaving.Select(p => p.Name).ToList(), Blockers = forbidden, Terminating = terminating,
            };
        }

        var evicted = 0;
        var remaining = forbidden.Select(b => b.Pod).ToList();
        var blockers = new List<EvictionBlocker>(forbidden);
        foreach (var (pod, name, facts) in leaving.Where(p => EvictionRules.BlockReason(p.Facts) is null))
        {
            var outcome = await api.EvictAsync(pod.Namespace, pod.Name, cancellationToken).ConfigureAwait(false);
            if (outcome.Result == EvictionResult.Evicted)
            {
                evicted++;
                // The API sets the deletionTimestamp to now plus the pod's grace period.
                terminating.Add(Terminating(name, now.AddSeconds(pod.TerminationGracePeriodSeconds)));
            }
            else if (outcome.Result == EvictionResult.BlockedByDisruptionBudget)
            {
                remaining.Add(name);
                blockers.Add(new EvictionBlocker { Pod = name, Reason = EvictionBlockReason.PodDisruptionBudget, Detail = outcome.Detail });
            }
        }

        // Until when each evicted pod is waited for: its deletionTimestamp plus the margin, and never past the
        // drain timeout or, for a spot warning, the moment EC2 takes the instance.
        // A pod past its deletionTimestamp plus the margin is not waited for (a kubelet that cannot confirm,
        // a NotReady node): its grace period is over.
        var cap = forced ? request.Interruption!.NotAfter!.Value : startedAt + drainTimeout;
        var waiting = terminating
            .Where(t => t.Until > now)
            .Select(t => t with { Until = t.Until < cap ? t.Until : cap })
            .OrderBy(t => t.Until)
            .ThenBy(t => t.Pod, StringComparer.Ordinal)
            .ToList();
        var status = Status(request, remaining.Count > 0, waiting.Count > 0, timedOut: now >= startedAt + drainTimeout, now);
        if (status == DrainStatus.AwaitingInterruption)
        {
            await api.CordonAsync(node, Mark(request, CordonReason.AwaitingInterruption, now), cancellationToken).ConfigureAwait(false);
        }

        return new DrainProgress
        {
            Node = node, Status = status, StartedAt = startedAt, Evicted = evicted,
            Remaining = remaining, Blockers = blockers, Terminating = waiting,
        };
    }

    private static DrainStatus Status(DrainRequest request, bool podsLeft, bool podsTerminating, bool timedOut, DateTimeOffset now)
    {
        if (request.Interruption is { Forced: true } notice)
        {
            // The instance is taken at NotAfter: from then on nothing is gained by keeping it.
            return now >= notice.NotAfter ? DrainStatus.Drained
                : podsLeft ? DrainStatus.Draining
                : podsTerminating ? DrainStatus.Terminating
                : DrainStatus.Drained;
        }

        if (request.Interruption is not null)
        {
            // Not forced: a pod that could not be evicted keeps the node, and so does one still
            // terminating at the drain timeout; the node is never terminated under a running pod.
            return podsLeft || (podsTerminating && timedOut) ? DrainStatus.AwaitingInterruption
                : podsTerminating ? DrainStatus.Terminating
                : DrainStatus.Drained;
        }

        return podsLeft || podsTerminating
            ? timedOut ? DrainStatus.Overdue : podsLeft ? DrainStatus.Draining : DrainStatus.Terminating
            : DrainStatus.Drained;
    }

    private TerminatingPod Terminating(string pod, DateTimeOffset deletionTimestamp) => new() { Pod = pod, Until = deletionTimestamp + graceMargin };

    private static CordonMark Mark(DrainRequest request, CordonReason reason, DateTimeOffset now) => new()
    {
        ExecutionId = request.ExecutionId ?? throw new ArgumentException("a drain that cordons must name its execution", nameof(request)),
        Reason = reason,
        At = now,
    };
}
