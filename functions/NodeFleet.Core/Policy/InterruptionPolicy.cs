using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// What to do when EC2 takes a worker away: drain it at once and launch a replacement, with no
/// cooldown and within the maximum. Instances that are not our managed workers, and nodes
/// NodeFleet is already removing (cordoned; its own terminations raise state-change events), are left alone.
/// </summary>
internal static class InterruptionPolicy
{
    public static Decision Decide(Trigger trigger, ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now)
    {
        var view = new FleetView(snapshot, fleet, settings, now);
        var figures = new DecisionFigures
        {
            ReadyWorkers = view.ReadyManaged.Count,
            LaunchingWorkers = view.Launching,
            ManagedWorkers = view.Total,
            MinNodes = view.EffectiveMin,
            MaxNodes = settings.MaxNodes,
        };
        var what = trigger.Kind switch
        {
            TriggerKind.SpotInterruption => "a spot interruption warning",
            TriggerKind.Rebalance => "a rebalance recommendation",
            _ => $"a state change to {trigger.State}",
        };
        Decision Make(ScalingAction action, DecisionReason reason, string text) => new()
        {
            Action = action,
            ReasonCode = reason,
            Reason = text,
            DecidedAt = now,
            DryRun = settings.DryRun,
            Figures = figures,
        };

        var node = snapshot.Nodes.FirstOrDefault(n => n.InstanceId == trigger.InstanceId);
        if (node is null || !node.Managed || node.ControlPlane)
        {
            return Make(ScalingAction.None, DecisionReason.NotManaged,
                $"{trigger.InstanceId} received {what}, but it is not a managed worker of cluster {settings.ClusterName}: nothing to do");
        }

        if (node.Unschedulable)
        {
            return Make(ScalingAction.None, DecisionReason.NotManaged,
                $"{node.Name} ({trigger.InstanceId}) received {what} while cordoned: it is already being removed");
        }

        // The interrupted worker leaves, so its replacement keeps the count where it was.
        var replace = view.Total <= settings.MaxNodes ? 1 : 0;
        var text = $"{node.Name} ({trigger.InstanceId}) received {what}: drain it now" + (replace == 1 ? " and launch a replacement" : $"; no replacement, {view.Total} managed workers exceed the maximum of {settings.MaxNodes}");
        return Make(ScalingAction.Replace, DecisionReason.Interrupted, settings.DryRun ? "Dry run, nothing done: " + text : text) with
        {
            NodesToAdd = replace,
            NodeToRemove = new NodeRef { Name = node.Name, InstanceId = trigger.InstanceId!, Zone = node.Zone },
            Cooldown = CooldownScope.None,
        };
    }
}
