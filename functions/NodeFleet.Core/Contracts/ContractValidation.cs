using NodeFleet.Core.Errors;

namespace NodeFleet.Core.Contracts;

/// <summary>
/// Value checks the JSON shape alone cannot express. Each problem is reported with the JSON
/// path of the field, so an operator reading a failed execution knows what to fix.
/// </summary>
public static class ContractValidation
{
    /// <summary>Checks what Decide needs and returns the snapshot and state; throws <see cref="InvalidInputException"/> otherwise.</summary>
    public static (ClusterSnapshot Snapshot, FleetState Fleet) RequireDecideInput(DecideRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var problems = new List<string>();
        CheckSnapshot(request.Observation.Snapshot, "$.observation.snapshot", problems);
        CheckFleet(request.Observation.Fleet, "$.observation.fleet", problems);
        return problems.Count == 0 ? (PodSets.Unpack(request.Observation.Snapshot), request.Observation.Fleet) : throw InvalidInputException.For(problems);
    }

    /// <summary>The route of a step that changes the fleet: one that takes the lease.</summary>
    public static WorkflowRoute RequireActingRoute(WorkflowRoute route, string path) =>
        route is WorkflowRoute.Done or WorkflowRoute.NotifyOnly
            ? throw InvalidInputException.For([$"{path}: {route} changes nothing and takes no lease"])
            : route;

    /// <summary>
    /// A launch's zone shares: each names a worker zone once, with at least one node, and together
    /// they pin no more than <paramref name="nodesToAdd"/>; every problem is named at once.
    /// </summary>
    public static void RequireZoneShares(IReadOnlyList<ZoneShare> shares, int nodesToAdd, IReadOnlyList<string> zones)
    {
        ArgumentNullException.ThrowIfNull(shares);
        ArgumentNullException.ThrowIfNull(zones);
        var problems = shares.Select((z, i) =>
                !zones.Contains(z.Zone) ? $"$.zones[{i}].zone: '{z.Zone}' is not a worker zone ({string.Join(", ", zones)})"
                : z.Nodes < 1 ? $"$.zones[{i}].nodes: must be 1 or more (got {z.Nodes})"
                : null)
            .OfType<string>()
            .Concat(shares.GroupBy(z => z.Zone).Where(g => g.Count() > 1).Select(g => $"$.zones: zone {g.Key} is listed twice"))
            .ToList();
        if (problems.Count == 0 && shares.Sum(z => z.Nodes) > nodesToAdd)
        {
            problems.Add($"$.zones: {shares.Sum(z => z.Nodes)} node(s) pinned to zones, more than nodesToAdd ({nodesToAdd})");
        }

        if (problems.Count > 0)
        {
            throw InvalidInputException.For(problems);
        }
    }

    /// <summary>The execution id every lease-holding step is called with.</summary>
    public static string RequireExecutionId(string executionId) =>
        string.IsNullOrWhiteSpace(executionId)
            ? throw InvalidInputException.For(["$.executionId: required (the state machine passes $$.Execution.Id)"])
            : executionId;

    /// <summary>The lease this execution holds; a step that writes state needs it.</summary>
    public static Ports.Lease RequireLease(LockResult? held) =>
        held is { Acquired: true, Owner: { Length: > 0 } owner }
            ? new Ports.Lease(owner, held.Fence, held.ExpiresAt ?? DateTimeOffset.MinValue)
            : throw InvalidInputException.For(["$.lock: an acquired lock is required (set by AcquireLock)"]);

    private static void CheckSnapshot(ClusterSnapshot snapshot, string path, List<string> problems)
    {
        var u = snapshot.Utilization;
        CheckFraction(u.CpuNow, $"{path}.utilization.cpuNow", problems);
        CheckFraction(u.CpuMinOverUpWindow, $"{path}.utilization.cpuMinOverUpWindow", problems);
        CheckFraction(u.CpuMaxOverDownWindow, $"{path}.utilization.cpuMaxOverDownWindow", problems);
        CheckFraction(u.MemoryNow, $"{path}.utilization.memoryNow", problems);
        CheckFraction(u.MemoryMaxOverDownWindow, $"{path}.utilization.memoryMaxOverDownWindow", problems);
        if (u.MemoryUseOfRequests is { } useOfRequests && !(double.IsFinite(useOfRequests) && useOfRequests >= 0))
        {
            problems.Add($"{path}.utilization.memoryUseOfRequests: must be a finite number, 0 or more");
        }

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

    private static void CheckFleet(FleetState fleet, string path, List<string> problems)
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
