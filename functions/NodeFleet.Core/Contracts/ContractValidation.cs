using NodeFleet.Core.Errors;

namespace NodeFleet.Core.Contracts;

/// <summary>
/// Value checks the JSON shape alone cannot express. Each problem is reported with the JSON
/// path of the field, so an operator reading a failed execution knows what to fix.
/// </summary>
public static class ContractValidation
{
    /// <summary>Checks what Decide needs and returns the snapshot and state; throws <see cref="InvalidInputException"/> otherwise.</summary>
    public static (ClusterSnapshot Snapshot, FleetState Fleet) RequireDecideInput(WorkflowState state)
    {
        var problems = new List<string>();
        CheckVersion(state, problems);
        if (state.Snapshot is null)
        {
            problems.Add("$.snapshot: required (set by CollectMetrics)");
        }
        else
        {
            CheckSnapshot(state.Snapshot, "$.snapshot", problems);
        }

        if (state.Fleet is null)
        {
            problems.Add("$.fleet: required (set by CollectMetrics from the state table)");
        }
        else
        {
            CheckFleet(state.Fleet, "$.fleet", problems);
        }

        return problems.Count == 0 ? (state.Snapshot!, state.Fleet!) : throw InvalidInputException.For(problems);
    }

    /// <summary>The execution id, the decision of <paramref name="action"/>, for a step that acts on it.</summary>
    public static (string ExecutionId, Decision Decision) RequireDecision(WorkflowState state, params ScalingAction[] action)
    {
        var problems = new List<string>();
        CheckVersion(state, problems);
        if (string.IsNullOrWhiteSpace(state.ExecutionId))
        {
            problems.Add("$.executionId: required (the state machine passes $$.Execution.Id)");
        }

        if (state.Decision is null)
        {
            problems.Add("$.decision: required (set by Decide)");
        }
        else if (!action.Contains(state.Decision.Action))
        {
            problems.Add($"$.decision.action: {state.Decision.Action} is not one this step acts on ({string.Join(", ", action)})");
        }
        else if (state.Decision.DryRun)
        {
            problems.Add("$.decision.dryRun: a dry-run decision must not reach a step that changes anything");
        }

        return problems.Count == 0 ? (state.ExecutionId!, state.Decision!) : throw InvalidInputException.For(problems);
    }

    /// <summary>The lease this execution holds; a step that writes state needs it.</summary>
    public static Ports.Lease RequireLease(WorkflowState state)
    {
        var problems = new List<string>();
        CheckVersion(state, problems);
        if (state.Lock is not { Acquired: true, Owner: { Length: > 0 } owner } held)
        {
            problems.Add("$.lock: an acquired lock is required (set by AcquireLock)");
            throw InvalidInputException.For(problems);
        }

        return problems.Count == 0
            ? new Ports.Lease(owner, held.Fence, held.ExpiresAt ?? DateTimeOffset.MinValue)
            : throw InvalidInputException.For(problems);
    }

    private static void CheckVersion(WorkflowState state, List<string> problems)
    {
        if (state.Version != WorkflowState.CurrentVersion)
        {
            problems.Add($"$.version: {state.Version} is not supported (expected {WorkflowState.CurrentVersion})");
        }
    }

    public static void CheckSnapshot(ClusterSnapshot snapshot, string path, List<string> problems)
    {
        var u = snapshot.Utilization;
        CheckFraction(u.CpuNow, $"{path}.utilization.cpuNow", problems);
        CheckFraction(u.CpuMinOverUpWindow, $"{path}.utilization.cpuMinOverUpWindow", problems);
        CheckFraction(u.CpuMaxOverDownWindow, $"{path}.utilization.cpuMaxOverDownWindow", problems);
        CheckFraction(u.MemoryNow, $"{path}.utilization.memoryNow", problems);
        CheckFraction(u.MemoryMaxOverDownWindow, $"{path}.utilization.memoryMaxOverDownWindow", problems);
        CheckFraction(snapshot.PredictedCpuUtilization, $"{path}.predictedCpuUtilization", problems);
        if (snapshot.CustomMetricValue is { } custom && !double.IsFinite(custom))
        {
            problems.Add($"{path}.customMetricValue: must be a finite number");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < snapshot.Nodes.Count; i++)
        {
            var node = snapshot.Nodes[i];
            var at = $"{path}.nodes[{i}]";
            if (string.IsNullOrWhiteSpace(node.Name))
            {
                problems.Add($"{at}.name: must not be empty");
            }
            else if (!names.Add(node.Name))
            {
                problems.Add($"{at}.name: '{node.Name}' appears more than once");
            }

            CheckNonNegative(node.Allocatable, $"{at}.allocatable", problems);
            CheckNonNegative(node.Requested, $"{at}.requested", problems);
            if (node.Ready && (node.Allocatable.CpuMillis == 0 || node.Allocatable.MemoryBytes == 0))
            {
                problems.Add($"{at}.allocatable: a Ready node must have CPU and memory");
            }

            CheckGroups(node.MovablePods, $"{at}.movablePods", problems);
        }

        CheckGroups(snapshot.UnschedulablePods, $"{path}.unschedulablePods", problems);
    }

    public static void CheckFleet(FleetState fleet, string path, List<string> problems)
    {
        for (var i = 0; i < fleet.InFlight.Count; i++)
        {
            var launch = fleet.InFlight[i];
            if (string.IsNullOrWhiteSpace(launch.LaunchId))
            {
                problems.Add($"{path}.inFlight[{i}].launchId: must not be empty");
            }

            if (launch.InstanceIds.Any(string.IsNullOrWhiteSpace))
            {
                problems.Add($"{path}.inFlight[{i}].instanceIds: must not contain empty ids");
            }
        }
    }

    private static void CheckGroups(IReadOnlyList<PodGroup> groups, string path, List<string> problems)
    {
        for (var i = 0; i < groups.Count; i++)
        {
            var g = groups[i];
            if (g.Count < 1)
            {
                problems.Add($"{path}[{i}].count: must be 1 or more (got {g.Count})");
            }

            if (g.CpuMillis < 0 || g.MemoryBytes < 0)
            {
                problems.Add($"{path}[{i}]: requests must not be negative");
            }
        }
    }

    private static void CheckNonNegative(Resources r, string path, List<string> problems)
    {
        if (r.CpuMillis < 0 || r.MemoryBytes < 0 || r.Pods < 0)
        {
            problems.Add($"{path}: must not be negative ({r})");
        }
    }

    private static void CheckFraction(double? value, string path, List<string> problems)
    {
        if (value is { } v && (!double.IsFinite(v) || v < 0))
        {
            problems.Add($"{path}: must be a non-negative fraction (got {v})");
        }
    }
}
