namespace NodeFleet.Core.Contracts;

/// <summary>
/// The path an execution takes, decided once by Decide (<see cref="Decision.Route"/>); the state
/// machine's Choices only match it, they never re-derive it from the action and its figures.
/// </summary>
public enum WorkflowRoute
{
    /// <summary>Nothing to do: the execution ends (a no-op tick is four state transitions).</summary>
    Done,

    /// <summary>Dry run: notify what would be done, take no lease, touch nothing.</summary>
    NotifyOnly,

    /// <summary>Lease, launch, wait until the new nodes are Ready (or clean up those that never join), record, notify.</summary>
    Launch,

    /// <summary>Lease, drain (cordon, evict, wait), terminate, delete the Node; or uncordon if the drain cannot finish.</summary>
    Drain,

    /// <summary>An interrupted or broken worker with room for a replacement: lease (preempting for an interruption), drain at once, launch, retire the node once the replacement is Ready.</summary>
    Replace,

    /// <summary>An interrupted or broken worker without a replacement (at the maximum): lease (preempting for an interruption), drain at once, retire.</summary>
    Retire,

    /// <summary>Nothing to scale, but the reconcile pass has work: lease, reconcile, record, notify.</summary>
    Reconcile,
}

public static class WorkflowRoutes
{
    public static WorkflowRoute Of(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var cleanup = decision.Reconcile?.HasWork == true;
        if (decision.Action == ScalingAction.None && !cleanup && !decision.Alert)
        {
            return WorkflowRoute.Done;
        }

        if (decision.DryRun)
        {
            return WorkflowRoute.NotifyOnly;
        }

        if (decision.Action == ScalingAction.None)
        {
            return WorkflowRoute.Reconcile;
        }

        return decision.Action switch
        {
            ScalingAction.ScaleUp => WorkflowRoute.Launch,
            ScalingAction.ScaleDown => WorkflowRoute.Drain,
            ScalingAction.Replace => decision.NodesToAdd > 0 ? WorkflowRoute.Replace : WorkflowRoute.Retire,
            _ => throw new ArgumentOutOfRangeException(nameof(decision), decision.Action, "unknown action"),
        };
    }
}
