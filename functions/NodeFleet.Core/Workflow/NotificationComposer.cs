using System.Globalization;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;

namespace NodeFleet.Core.Workflow;

/// <summary>What people are told: the kind of message from the error, the recorded outcome or the dry-run decision.</summary>
public static class NotificationComposer
{
    private const int BlockersShown = 5;

    public static Notification Compose(NotifyRequest request, string clusterName)
    {
        ArgumentNullException.ThrowIfNull(request);
        var decision = request.Decision;
        var before = decision?.Figures.ManagedWorkers ?? 0;
        var launched = request.Launch?.Instances.Count ?? 0;
        var reason = decision?.Reason ?? "no decision was made";
        var figures = Figures(request);
        var removed = decision?.NodeToRemove?.Name;

        if (request.Error is { } error)
        {
            return new(NotificationKind.Failure, clusterName, $"Execution failed: {error.Error}", $"{error.Message} (while acting on: {reason})", before, before + launched, figures);
        }

        if (request.Recorded is { } recorded)
        {
            var detail = $"{recorded.Detail ?? ""} {reason}".Trim();
            return recorded.Outcome switch
            {
                OutcomeKind.ScaledUp => new(NotificationKind.ScaleUp, clusterName, $"Added {launched} worker(s)", reason, before, before + launched, figures),
                OutcomeKind.ScaledDown => new(NotificationKind.ScaleDown, clusterName, $"Removed {removed ?? "a worker"}{AlsoRemoved(request.Drain)}", reason, before, Math.Max(0, before - 1 - (request.Drain?.Also.Count ?? 0)), figures),
                OutcomeKind.LaunchFailed => new(NotificationKind.Failure, clusterName,
                    $"Launch failed: {launched} of {request.Launch?.Requested ?? decision?.NodesToAdd} worker(s) launched, those that did not join were removed", detail, before, before, figures),
                OutcomeKind.Replaced => new(NotificationKind.Interruption, clusterName,
                    $"Replaced {removed ?? "an interrupted worker"}" + (launched > 0 ? $" with {launched} new worker(s)"
                        : decision?.Interruption?.ReplacedBy is not null ? " (its replacement was launched before)" : " (no replacement: at the maximum)"),
                    reason, before, Math.Max(0, before - 1) + launched, figures),
                OutcomeKind.AwaitingInterruption => new(NotificationKind.Interruption, clusterName,
                    $"Kept {removed ?? "an interrupted worker"} cordoned until the spot warning" + (launched > 0 ? $", {launched} replacement(s) launched" : ""),
                    detail, before, before + launched, figures),
                OutcomeKind.ScaleDownAborted => new(NotificationKind.Failure, clusterName, $"Scale-down of {removed} aborted, node uncordoned", detail, before, before, figures),
                OutcomeKind.DrainPreempted => new(NotificationKind.ScaleDown, clusterName, $"Scale-down of {removed} preempted: another execution took the lease", detail, before, before, figures),
                OutcomeKind.Failed => new(NotificationKind.Failure, clusterName, "Execution failed", detail, before, before, figures),
                OutcomeKind.Reconciled => new(NotificationKind.Reconcile, clusterName, "Reconciled with EC2 and Kubernetes", detail, before, before - (request.Reconciled?.Terminated.Count ?? 0), figures),
                OutcomeKind.RepairsHeld => new(NotificationKind.Failure, clusterName, "Repairs and scaling held: too many workers NotReady", detail, before, before, figures),
                OutcomeKind.NoScaleUpReported => new(NotificationKind.NoScaleUp, clusterName, "Pending pods no new node can host", detail, before, before, figures),
                _ => throw new InvalidInputException($"Invalid input: $.recorded.outcome {recorded.Outcome} is not one NodeFleet records"),
            };
        }

        return decision is { DryRun: true }
            ? new(NotificationKind.DryRun, clusterName, $"Dry run: would {decision.Action}", reason, before, before, figures)
            : throw new InvalidInputException("Invalid input: nothing to notify: $.recorded, $.error or a dry-run $.decision is required");
    }

    /// <summary>The empty workers that went with the drained node, as the drain kept them.</summary>
    private static string AlsoRemoved(DrainProgress? drain) =>
        drain is { Also.Count: > 0 } d ? $" and {Policy.DecisionText.Workers(d.Also, "empty")}" : "";

    private static Dictionary<string, string> Figures(NotifyRequest request)
    {
        var result = new Dictionary<string, string>();
        if (request.Decision is { } decision)
        {
            var f = decision.Figures;
            result["decision"] = $"{decision.Action} ({decision.ReasonCode})";
            result["readyManagedWorkers"] = f.ReadyManagedWorkers.ToString(CultureInfo.InvariantCulture);
            result["unschedulablePods"] = f.UnschedulablePods.ToString(CultureInfo.InvariantCulture);
            if (f.CpuNow is { } cpu)
            {
                result["cpu"] = cpu.ToString("P0", CultureInfo.InvariantCulture);
            }

            if (f.MemoryNow is { } memory)
            {
                result["memory"] = memory.ToString("P0", CultureInfo.InvariantCulture);
            }

            // Only those not told before: the same pods are reported once, not on every tick.
            if (decision.NoScaleUp.Where(p => p.New).ToList() is { Count: > 0 } fresh)
            {
                result["noScaleUp"] = string.Join("; ", fresh.Select(p => $"{p.Count} pod(s) of {p.Owner}: {p.Reason}" + (p.Detail is { } d ? $" ({d})" : "")));
            }
        }

        foreach (var (key, _, items) in request.Reconciled?.Parts().Where(p => p.Items.Count > 0) ?? [])
        {
            result[key] = string.Join("; ", items);
        }

        if (request.Launch is { } launch)
        {
            result["landed"] = LaunchText.Landed(launch);
            if (launch.FailedPools.Count > 0)
            {
                result["poolsRefused"] = LaunchText.Refused(launch);
            }

            if (launch.Errors.Count > 0)
            {
                result["launchErrors"] = string.Join("; ", launch.Errors);
            }
        }

        if (request.Drain is { Blockers.Count: > 0 } blocked)
        {
            result["drainBlockers"] = string.Join("; ", blocked.Blockers.Take(BlockersShown).Select(b => $"{b.Pod}: {b.Detail ?? b.Reason.ToString()}"))
                + (blocked.Blockers.Count > BlockersShown ? $"; and {blocked.Blockers.Count - BlockersShown} more" : "");
        }

        return result;
    }
}
