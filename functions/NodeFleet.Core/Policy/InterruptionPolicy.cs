using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// What to do when EC2 takes a worker away: drain it at once and launch a replacement, with no
/// cooldown and within the maximum. Events older than <c>eventMaxAge</c> (delivered late: what they
/// announced is over, and the reconcile pass handles what it left), instances that are not our
/// managed workers, and nodes already cordoned (NodeFleet is removing them; its own terminations
/// raise state-change events) are left alone, and the decision says so.
/// </summary>
internal static class InterruptionPolicy
{
    public static Decision Decide(Trigger trigger, ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now, Inventory? inventory)
    {
        var view = new FleetView(snapshot, fleet, settings, now, inventory);
        return Judge(trigger, snapshot, view, settings, now, inventory).ToDecision(view.CountFigures(settings.MaxNodes), [], settings.DryRun, now);
    }

    private static Verdict Judge(Trigger trigger, ClusterSnapshot snapshot, FleetView view, ScalingSettings settings, DateTimeOffset now, Inventory? inventory)
    {
        if (trigger.Time is { } sent && (now - sent).Duration() > settings.EventMaxAge)
        {
            return new Verdict.StaleEvent(trigger, now - sent, settings.EventMaxAge);
        }

        var node = snapshot.Nodes.FirstOrDefault(n => n.InstanceId == trigger.InstanceId);
        // A warning is about a running instance: it must also be one EC2 lists as this cluster's
        // (by its tags), not only a node that carries the managed label. A state change may
        // announce an instance already gone from that list.
        var unlisted = trigger.Kind != TriggerKind.StateChange && inventory is not null && inventory.Instances.All(i => i.InstanceId != trigger.InstanceId);
        if (node is null || !node.Managed || node.ControlPlane || unlisted)
        {
            return new Verdict.NotManaged(trigger, settings.ClusterName);
        }

        var target = new NodeRef { Name = node.Name, InstanceId = trigger.InstanceId!, Zone = node.Zone };
        var notice = InterruptionNotice.For(trigger, now);
        switch (node.Cordon?.Reason)
        {
            // A rebalance (or stopping) drain launched the replacement and left the node for this warning:
            // drain and terminate it now, without a second replacement.
            case CordonReason.AwaitingInterruption when trigger.Kind == TriggerKind.SpotInterruption:
                return new Verdict.Interrupted(trigger, target, Replacement: false, view.WorkersTowardMaximum, settings.MaxNodes, notice with { ReplacedBy = node.Cordon.ExecutionId });
            // A scale-down drain held by a budget is overtaken by a spot warning: the node is lost whatever the
            // scale-down wanted and the warning decides now (the preempted drain's lease is taken over), so it is
            // handled as any interrupted worker, replacement included, lest the fleet drop below the minimum with it.
            case CordonReason.ScaleDown when trigger.Kind == TriggerKind.SpotInterruption:
                break;
            case not null:
            case null when node.Unschedulable:
                return new Verdict.AlreadyCordoned(trigger, node.Name);
        }

        // The replacement runs beside the interrupted worker until it is Ready: it must fit below the maximum.
        return new Verdict.Interrupted(
            trigger,
            target,
            Replacement: view.WorkersTowardMaximum < settings.MaxNodes,
            view.WorkersTowardMaximum,
            settings.MaxNodes,
            notice);
    }
}
