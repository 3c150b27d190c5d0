using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy.Rules;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Policy;

/// <summary>
/// Broken workers: one Ready once and NotReady for <c>repairAfter</c> is replaced; when more than
/// <c>maxUnhealthyShare</c> of the workers are NotReady at once the fault is the cluster's (network,
/// control plane), and replacing nodes would only churn: repairs and scaling stop, and operators are told.
/// </summary>
public static class Repairs
{
    /// <summary>While repairs stay held, operators are reminded this often, not on every tick.</summary>
    public static readonly TimeSpan HeldReminder = TimeSpan.FromHours(1);

    /// <summary>A repair or a hold, which come before scaling; null when every worker is healthy enough.</summary>
    internal static Decision? Decide(Inventory inventory, ClusterSnapshot snapshot, FleetState fleet, ScalingSettings settings, DateTimeOffset now, ReconcilePlan plan)
    {
        var notReady = Reconciler.NotReadyWorkers(inventory);
        if (notReady.Count == 0)
        {
            return null;
        }

        var view = new FleetView(snapshot, fleet, settings, now, inventory, plan);
        var figures = view.CountFigures(settings.MaxNodes) with { NotReadyWorkers = notReady.Count };
        var workers = Reconciler.LiveWorkers(inventory).Count;
        if (notReady.Count > settings.MaxUnhealthyShare * workers)
        {
            var remind = fleet.RepairsHeldNotifiedAt is not { } told || now - told >= HeldReminder;
            return new Verdict.RepairsHeld(notReady.Count, workers, settings.MaxUnhealthyShare).ToDecision(figures, [], settings.DryRun, now) with { Alert = remind };
        }

        if (Reconciler.RepairCandidate(inventory, settings, now) is not { } broken)
        {
            return null;
        }

        var node = new NodeRef { Name = broken.Name, InstanceId = broken.InstanceId!, Zone = broken.Zone };
        // Drained as an interruption is, with the spot warning's two minutes as its deadline: the node's
        // pods are not serving, so budgets may hold the drain that long but never keep a broken node.
        var notice = new InterruptionNotice { Kind = TriggerKind.Schedule, NotAfter = now + InterruptionNotice.SpotWarning };
        return new Verdict.Repair(node, now - broken.ReadyChangedAt!.Value, view.WorkersTowardMaximum < settings.MaxNodes, view.WorkersTowardMaximum, settings.MaxNodes, notice)
            .ToDecision(figures, [], settings.DryRun, now);
    }
}
