using System.Globalization;
using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Settings;

/// <summary>One setting: its cdk.json context key (<c>nodefleet:KEY</c>), its environment variable, default and meaning.</summary>
public sealed record SettingDefinition(
    string Key,
    string EnvironmentVariable,
    string DefaultValue,
    string Description,
    Func<ScalingSettings, string, ScalingSettings> Apply,
    Func<ScalingSettings, string> Format);

/// <summary>
/// Every scaling setting, in one table: the CDK app reads them from context, the functions
/// from environment variables, and the README's settings table lists the same entries.
/// </summary>
public static partial class SettingsCatalog
{
    public const string ContextPrefix = "nodefleet:";

    public static IReadOnlyList<SettingDefinition> Scaling { get; } =
    [
        new("clusterName", "NODEFLEET_CLUSTER_NAME", "k3s",
            "Name of the cluster; tags, lock key and notifications carry it.",
            (s, v) => s with { ClusterName = v.Trim() },
            s => s.ClusterName),
        new("minNodes", "NODEFLEET_MIN_NODES", "2",
            "Fewest managed workers (Ready or launching); below it NodeFleet launches without waiting for a cooldown.",
            (s, v) => s with { MinNodes = SettingValue.WholeNumber(v) },
            s => Invariant(s.MinNodes)),
        new("maxNodes", "NODEFLEET_MAX_NODES", "10",
            $"Most managed workers, launching ones included (at most {ScalingSettings.SupportedMaxNodes}).",
            (s, v) => s with { MaxNodes = SettingValue.WholeNumber(v) },
            s => Invariant(s.MaxNodes)),
        new("maxStep", "NODEFLEET_MAX_STEP", "10",
            "Most nodes launched by one execution.",
            (s, v) => s with { MaxStep = SettingValue.WholeNumber(v) },
            s => Invariant(s.MaxStep)),
        new("scaleUpCpuThreshold", "NODEFLEET_SCALE_UP_CPU_THRESHOLD", "70%",
            "Scale up when worker CPU utilisation stays above this for scaleUpCpuWindow.",
            (s, v) => s with { ScaleUpCpuThreshold = SettingValue.Fraction(v) },
            s => Invariant(s.ScaleUpCpuThreshold)),
        new("scaleUpCpuWindow", "NODEFLEET_SCALE_UP_CPU_WINDOW", "3m",
            "How long CPU must stay above scaleUpCpuThreshold.",
            (s, v) => s with { ScaleUpCpuWindow = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.ScaleUpCpuWindow)),
        new("scaleUpMemoryThreshold", "NODEFLEET_SCALE_UP_MEMORY_THRESHOLD", "75%",
            "Scale up when worker memory utilisation is above this while the pods use more memory than they request (or that is unknown); while they use no more, memory counts by requests and pending pods ask for the workers.",
            (s, v) => s with { ScaleUpMemoryThreshold = SettingValue.Fraction(v) },
            s => Invariant(s.ScaleUpMemoryThreshold)),
        new("scaleDownCpuThreshold", "NODEFLEET_SCALE_DOWN_CPU_THRESHOLD", "30%",
            "Scale down only when worker CPU stayed below this for scaleDownWindow.",
            (s, v) => s with { ScaleDownCpuThreshold = SettingValue.Fraction(v) },
            s => Invariant(s.ScaleDownCpuThreshold)),
        new("scaleDownMemoryThreshold", "NODEFLEET_SCALE_DOWN_MEMORY_THRESHOLD", "50%",
            "Scale down only when worker memory stayed below this for scaleDownWindow; while memory counts by requests, a worker whose pods request less than this share of its memory may go instead, its pods repacked by their requests.",
            (s, v) => s with { ScaleDownMemoryThreshold = SettingValue.Fraction(v) },
            s => Invariant(s.ScaleDownMemoryThreshold)),
        new("scaleDownWindow", "NODEFLEET_SCALE_DOWN_WINDOW", "3m",
            "How long the scale-down conditions must hold.",
            (s, v) => s with { ScaleDownWindow = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.ScaleDownWindow)),
        new("targetUtilization", "NODEFLEET_TARGET_UTILIZATION", "60%",
            "Utilisation a CPU/memory scale-up aims for, and the most a node may be filled with the pods of a removed node (memory up to all of it while memory counts by requests).",
            (s, v) => s with { TargetUtilization = SettingValue.Fraction(v) },
            s => Invariant(s.TargetUtilization)),
        new("headroom", "NODEFLEET_HEADROOM", "25%",
            "Room kept unrequested on the Ready and launching workers while the workload grows, as a share of one worker's CPU and memory: when less is free, one node is launched before pods have to wait for a boot. 0% turns it off.",
            (s, v) => s with { Headroom = SettingValue.Fraction(v) },
            s => Invariant(s.Headroom)),
        new("headroomWindow", "NODEFLEET_HEADROOM_WINDOW", "30m",
            "The workload counts as growing, and headroom is kept, while the CPU requested by pods rose within this window, in at least two of its four quarters (one step, such as a burst arriving, is not growth).",
            (s, v) => s with { HeadroomWindow = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.HeadroomWindow)),
        new("scaleUpCooldown", "NODEFLEET_SCALE_UP_COOLDOWN", "5m",
            "After a scale-up, no utilisation-driven scale-up and no scale-down for this long (pending pods and the minimum do not wait).",
            (s, v) => s with { ScaleUpCooldown = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.ScaleUpCooldown)),
        new("scaleDownCooldown", "NODEFLEET_SCALE_DOWN_COOLDOWN", "2m",
            "After a scale-down, no further scale-down for this long.",
            (s, v) => s with { ScaleDownCooldown = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.ScaleDownCooldown)),
        new("maxEmptyRemovals", "NODEFLEET_MAX_EMPTY_REMOVALS", "10",
            "Most empty workers (no pod that would have to move) one scale-down removes together, each checked as if the others were gone already; a worker with pods to move always goes alone. 1 removes one node per scale-down.",
            (s, v) => s with { MaxEmptyRemovals = SettingValue.WholeNumber(v) },
            s => Invariant(s.MaxEmptyRemovals)),
        new("drainBackoff", "NODEFLEET_DRAIN_BACKOFF", "10m",
            "A node whose scale-down drain was aborted (Blocked, Overdue, failed) is not chosen by scale-down again for this long (recorded per node; 0s turns it off).",
            (s, v) => s with { DrainBackoff = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.DrainBackoff)),
        new("nodeJoinTimeout", "NODEFLEET_NODE_JOIN_TIMEOUT", "10m",
            "A launched instance that is not a Ready node after this long is a failed launch: it stops counting as capacity, and the next tick's reconcile terminates it and deletes its Node object, whatever was recorded.",
            (s, v) => s with { NodeJoinTimeout = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.NodeJoinTimeout)),
        new("repairAfter", "NODEFLEET_REPAIR_AFTER", "10m",
            "A managed worker that was Ready and has been NotReady this long is replaced: drained as far as its budgets allow, terminated, relaunched.",
            (s, v) => s with { RepairAfter = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.RepairAfter)),
        new("eventMaxAge", "NODEFLEET_EVENT_MAX_AGE", "3m",
            "An EC2 event (spot warning, rebalance, state change) acted on only while younger than this (by its time): a spot warning announces the end 2 minutes ahead, so a later one is over; older ones are recorded and ignored, and the reconcile pass cleans up after them.",
            (s, v) => s with { EventMaxAge = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.EventMaxAge)),
        new("maxUnhealthyShare", "NODEFLEET_MAX_UNHEALTHY_SHARE", "45%",
            "When more than this share of the managed workers is NotReady at once, repairs stop and a notification says so: a cluster-wide fault (network, control plane) is not fixed by replacing nodes.",
            (s, v) => s with { MaxUnhealthyShare = SettingValue.Fraction(v) },
            s => Invariant(s.MaxUnhealthyShare)),
        new("maxSnapshotAge", "NODEFLEET_MAX_SNAPSHOT_AGE", "5m",
            "Decide refuses to act on metrics older than this.",
            (s, v) => s with { MaxSnapshotAge = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.MaxSnapshotAge)),
        new("workerCpuMillis", "NODEFLEET_WORKER_CPU_MILLIS", "2000",
            "Allocatable CPU (millicores) of one worker of the launch template's instance type; bin packing uses it.",
            (s, v) => s with { WorkerShape = s.WorkerShape with { CpuMillis = SettingValue.WholeNumber(v) } },
            s => Invariant(s.WorkerShape.CpuMillis)),
        new("workerMemoryMiB", "NODEFLEET_WORKER_MEMORY_MIB", "7680",
            "Allocatable memory (MiB) of one worker.",
            (s, v) => s with { WorkerShape = s.WorkerShape with { MemoryBytes = SettingValue.WholeNumber(v) * 1024L * 1024L } },
            s => Invariant(s.WorkerShape.MemoryBytes / (1024 * 1024))),
        new("workerMaxPods", "NODEFLEET_WORKER_MAX_PODS", "110",
            "Pod slots of one worker (the kubelet's max-pods).",
            (s, v) => s with { WorkerShape = s.WorkerShape with { Pods = SettingValue.WholeNumber(v) } },
            s => Invariant(s.WorkerShape.Pods)),
        new("workerLabels", "NODEFLEET_WORKER_LABELS", "",
            "Labels the launch template gives every worker besides NodeFleet's own, 'key=value,...' (k3s --node-label): pods selecting them are launched for.",
            (s, v) => s with { WorkerLabels = SettingValue.NodeLabels(v) },
            s => SettingValue.FormatLabels(s.WorkerLabels)),
        new("workerTaints", "NODEFLEET_WORKER_TAINTS", "",
            "Taints the launch template gives every worker, 'key[=value]:Effect,...' (k3s --node-taint): only pods tolerating them are launched for.",
            (s, v) => s with { WorkerTaints = SettingValue.NodeTaints(v) },
            s => SettingValue.FormatTaints(s.WorkerTaints)),
        new("workerArchitecture", "NODEFLEET_WORKER_ARCHITECTURE", "amd64",
            "The workers' kubernetes.io/arch: amd64, or arm64 for Graviton instance types.",
            (s, v) => s with { WorkerArchitecture = v.Trim() is "amd64" or "arm64" ? v.Trim() : throw new FormatException($"'{v}' is not amd64 or arm64") },
            s => s.WorkerArchitecture),
        new("dryRun", "NODEFLEET_DRY_RUN", "false",
            "Decide and notify what would be done; launch, drain and terminate nothing.",
            (s, v) => s with { DryRun = SettingValue.Boolean(v) },
            s => s.DryRun ? "true" : "false"),
        new("scheduledMinimums", "NODEFLEET_SCHEDULED_MINIMUMS", "",
            "Raised minimums for weekly UTC windows: 'Mon-Fri 08:00-18:00=4; Sat 10:00-14:00=3'.",
            (s, v) => s with { ScheduledMinimums = ScheduledMinimum.ParseList(v) },
            s => string.Join("; ", s.ScheduledMinimums)),
        new("customMetricQuery", "NODEFLEET_CUSTOM_METRIC_QUERY", "",
            "Optional PromQL returning one number (e.g. queue depth); scales to ceil(value / customMetricTargetPerNode) workers.",
            (s, v) => s with { CustomMetricQuery = string.IsNullOrWhiteSpace(v) ? null : v.Trim() },
            s => s.CustomMetricQuery ?? ""),
        new("customMetricTargetPerNode", "NODEFLEET_CUSTOM_METRIC_TARGET_PER_NODE", "",
            "How much of the custom metric one worker handles; required with customMetricQuery.",
            (s, v) => s with { CustomMetricTargetPerNode = string.IsNullOrWhiteSpace(v) ? null : SettingValue.Number(v) },
            s => s.CustomMetricTargetPerNode is { } t ? Invariant(t) : ""),
        new("predictiveHorizon", "NODEFLEET_PREDICTIVE_HORIZON", "0s",
            "Predictive scale-up: act when predict_linear of CPU this far ahead crosses scaleUpCpuThreshold. 0s turns it off.",
            (s, v) => s with { PredictiveHorizon = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.PredictiveHorizon)),
        new("cpuRateWindow", "NODEFLEET_CPU_RATE_WINDOW", "1m",
            "The range rate() reads node CPU counters over: at least four Prometheus scrape intervals.",
            (s, v) => s with { CpuRateWindow = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.CpuRateWindow)),
        new("predictiveLookback", "NODEFLEET_PREDICTIVE_LOOKBACK", "30m",
            "The history predict_linear fits its line to.",
            (s, v) => s with { PredictiveLookback = SettingValue.Duration(v) },
            s => SettingValue.FormatDuration(s.PredictiveLookback)),
    ];

    /// <summary>
    /// Builds settings from a lookup (environment variables, or cdk.json context), collecting
    /// every malformed value and every violated rule before failing.
    /// </summary>
    /// <param name="lookup">Returns the raw value for a definition, or null when unset.</param>
    /// <param name="describe">How a definition is named in errors, e.g. its context key.</param>
    public static ScalingSettings Load(Func<SettingDefinition, string?> lookup, Func<SettingDefinition, string> describe)
    {
        var settings = ScalingSettings.Defaults;
        var errors = new List<string>();
        foreach (var definition in Scaling)
        {
            var raw = lookup(definition);
            if (raw is null)
            {
                continue;
            }

            try
            {
                settings = definition.Apply(settings, raw);
            }
            catch (FormatException e)
            {
                errors.Add($"{describe(definition)}: {e.Message}");
            }
        }

        if (errors.Count == 0)
        {
            errors.AddRange(settings.Validate());
        }

        return errors.Count == 0 ? settings : throw new InvalidSettingsException(errors);
    }

    /// <summary>The scaling settings alone from environment variables (the worker platform left at its defaults).</summary>
    public static ScalingSettings ScalingFromEnvironment(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        return Load(d => getVariable(d.EnvironmentVariable), d => $"{d.Key} ({d.EnvironmentVariable})");
    }

    /// <summary>
    /// Settings from environment variables (the Lambda functions' source), with the worker platform
    /// (zones from the worker subnets, instance types, spot share) where the function is given it.
    /// </summary>
    public static ScalingSettings FromEnvironment(Func<string, string?> getVariable)
    {
        var settings = ScalingFromEnvironment(getVariable);
        var errors = new List<string>();
        T Read<T>(Setting<T> setting, T fallback)
        {
            var raw = getVariable(setting.EnvironmentVariable!);
            if (string.IsNullOrWhiteSpace(raw))
            {
                return fallback;
            }

            try
            {
                return setting.Parse(raw);
            }
            catch (FormatException e)
            {
                errors.Add($"{setting.EnvironmentVariable}: {e.Message}");
                return fallback;
            }
        }

        var defaults = WorkerPlatform.Defaults;
        var subnets = Read(WorkerSubnets, []);
        var platform = new WorkerPlatform
        {
            Zones = subnets.Count > 0 ? subnets.Select(s => s.Zone).ToList() : defaults.Zones,
            InstanceTypes = Read(InstanceTypes, defaults.InstanceTypes),
            SpotShare = Read(SpotShare, defaults.SpotShare),
        };
        return errors.Count == 0 ? settings with { Platform = platform } : throw new InvalidSettingsException(errors);
    }

    /// <summary>The environment variables that carry <paramref name="settings"/> to a function.</summary>
    public static IReadOnlyDictionary<string, string> ToEnvironment(ScalingSettings settings) =>
        Scaling.ToDictionary(d => d.EnvironmentVariable, d => d.Format(settings));

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);
}
