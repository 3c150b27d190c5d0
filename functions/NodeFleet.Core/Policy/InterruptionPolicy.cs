using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// What to do when EC2 takes a worker away: drain it at once and launch a replacement, with no
/// cooldown and within the maximum. Instances that are not our managed workers, and nodes
/// already cordoned (NodeFleet is removing them; its own terminations raise state-change events), are left alone.
/// </summary>
internal static class InterruptionPolicy
{
    public static Decision Decide(Trigger trigger, ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now, Inventory? inventory)
    {
        var view = new FleetView(snapshot, fleet, settings, now, inventory);
        return Judge(trigger, snapshot, view, settings).ToDecision(view.CountFigures(settings.MaxNodes), [], settings.DryRun, now);
    }

    private static Verdict Judge(Trigger trigger, ClusterSnapshot snapshot, FleetView view, ScalingSettings settings)
    {
        var node = snapshot.Nodes.FirstOrDefault(n => n.InstanceId == trigger.InstanceId);
        if (node is null || !node.Managed || node.ControlPlane)
        {
            return new Verdict.NotManaged(trigger, settings.ClusterName);
        }

        if (node.Unschedulable)
        {
            return new Verdict.AlreadyCordoned(trigger, node.Name);
        }

        // The replacement runs beside the interrupted worker until it is Ready: it must fit below the maximum.
        return new Verdict.Interrupted(
            trigger,
            new NodeRef { Name = node.Name, InstanceId = trigger.InstanceId!, Zone = node.Zone },
            Replacement: view.WorkersTowardMaximum < settings.MaxNodes,
            view.WorkersTowardMaximum,
            settings.MaxNodes);
    }
}
