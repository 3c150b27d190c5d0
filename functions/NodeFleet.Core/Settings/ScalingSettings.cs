using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Settings;

/// <summary>
/// The policy's settings. Defaults are the seed project's rules; every field is documented in
/// <see cref="SettingsCatalog"/> (the README's settings table lists the same entries).
/// </summary>
public sealed record ScalingSettings
{
    /// <summary>
    /// The most workers NodeFleet manages: a snapshot of a larger busy cluster risks the 256 KB
    /// Step Functions payload limit (measured by the contract tests).
    /// </summary>
    public const int SupportedMaxNodes = 100;

    public string ClusterName { get; init; } = "k3s";
    public int MinNodes { get; init; } = 2;
    public int MaxNodes { get; init; } = 10;
    public int MaxStep { get; init; } = 10;
    public double ScaleUpCpuThreshold { get; init; } = 0.70;
    public TimeSpan ScaleUpCpuWindow { get; init; } = TimeSpan.FromMinutes(3);
    public double ScaleUpMemoryThreshold { get; init; } = 0.75;
    public double ScaleDownCpuThreshold { get; init; } = 0.30;
    public double ScaleDownMemoryThreshold { get; init; } = 0.50;
    public TimeSpan ScaleDownWindow { get; init; } = TimeSpan.FromMinutes(3);
    public double TargetUtilization { get; init; } = 0.60;

    /// <summary>Unrequested room kept on the workers, as a share of one worker's CPU and memory (0: none).</summary>
    public double Headroom { get; init; } = 0.25;

    /// <summary>Headroom is kept only while requested CPU rose within this window (a growing workload).</summary>
    public TimeSpan HeadroomWindow { get; init; } = TimeSpan.FromMinutes(30);
    public TimeSpan ScaleUpCooldown { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan ScaleDownCooldown { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Most empty workers one scale-down removes together (1: one node per scale-down).</summary>
    public int MaxEmptyRemovals { get; init; } = 10;

    /// <summary>How long a node whose scale-down drain was aborted is not chosen again.</summary>
    public TimeSpan DrainBackoff { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan NodeJoinTimeout { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan MaxSnapshotAge { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A worker NotReady this long (after it had been Ready) is replaced.</summary>
    public TimeSpan RepairAfter { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>An EC2 event delivered later than this after it happened is recorded and not acted on.</summary>
    public TimeSpan EventMaxAge { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Above this share of NotReady managed workers, repairs stop (a cluster-wide fault).</summary>
    public double MaxUnhealthyShare { get; init; } = 0.45;
    public Resources WorkerShape { get; init; } = new(2000, 7680L * 1024 * 1024, 110);

    /// <summary>Labels the launch template gives every worker besides NodeFleet's own (k3s <c>--node-label</c>).</summary>
    public IReadOnlyDictionary<string, string> WorkerLabels { get; init; } = new Dictionary<string, string>();

    /// <summary>Taints the launch template gives every worker (k3s <c>--node-taint</c>).</summary>
    public IReadOnlyList<NodeTaint> WorkerTaints { get; init; } = [];

    /// <summary>The workers' <c>kubernetes.io/arch</c> (the instance types' architecture).</summary>
    public string WorkerArchitecture { get; init; } = "amd64";

    /// <summary>
    /// Where, and as what, workers launch: the platform's zones (from the worker subnets), instance
    /// types and spot share, which the functions that decide read besides the scaling settings.
    /// </summary>
    public WorkerPlatform Platform { get; init; } = WorkerPlatform.Defaults;

    /// <summary>What a new worker looks like, per pool (one pool today); built from the settings above.</summary>
    public IReadOnlyList<WorkerTemplate> Templates => WorkerTemplates.For(this);
    public bool DryRun { get; init; }
    public IReadOnlyList<ScheduledMinimum> ScheduledMinimums { get; init; } = [];
    public string? CustomMetricQuery { get; init; }
    public double? CustomMetricTargetPerNode { get; init; }
    public TimeSpan PredictiveHorizon { get; init; } = TimeSpan.Zero;
    public TimeSpan PredictiveLookback { get; init; } = TimeSpan.FromMinutes(30);
    public TimeSpan CpuRateWindow { get; init; } = TimeSpan.FromMinutes(1);

    public static ScalingSettings Defaults { get; } = new();

    /// <summary>Cross-field rules. Each violation names the setting(s) involved.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string message)
        {
            if (!ok)
            {
                errors.Add(message);
            }
        }

        Check(!string.IsNullOrWhiteSpace(ClusterName), "clusterName: must not be empty");
        Check(MinNodes >= 0, $"minNodes: must be 0 or more (got {MinNodes})");
        Check(MaxNodes >= 1 && MaxNodes <= SupportedMaxNodes, $"maxNodes: must be between 1 and {SupportedMaxNodes} (got {MaxNodes})");
        Check(MinNodes <= MaxNodes, $"minNodes ({MinNodes}) must not exceed maxNodes ({MaxNodes})");
        Check(MaxStep >= 1, $"maxStep: must be 1 or more (got {MaxStep})");
        Check(MaxEmptyRemovals >= 1, $"maxEmptyRemovals: must be 1 or more (got {MaxEmptyRemovals})");
        CheckFraction(errors, "scaleUpCpuThreshold", ScaleUpCpuThreshold);
        CheckFraction(errors, "scaleUpMemoryThreshold", ScaleUpMemoryThreshold);
        CheckFraction(errors, "scaleDownCpuThreshold", ScaleDownCpuThreshold);
        CheckFraction(errors, "scaleDownMemoryThreshold", ScaleDownMemoryThreshold);
        CheckFraction(errors, "targetUtilization", TargetUtilization);
        Check(Headroom is >= 0 and <= 1, $"headroom ({Headroom:0.##}) must be between 0% and 100% of a worker");
        CheckPositive(errors, "headroomWindow", HeadroomWindow);
        Check(ScaleDownCpuThreshold < ScaleUpCpuThreshold,
            $"scaleDownCpuThreshold ({ScaleDownCpuThreshold:0.##}) must be below scaleUpCpuThreshold ({ScaleUpCpuThreshold:0.##}), else the cluster flaps");
        Check(ScaleDownMemoryThreshold < ScaleUpMemoryThreshold,
            $"scaleDownMemoryThreshold ({ScaleDownMemoryThreshold:0.##}) must be below scaleUpMemoryThreshold ({ScaleUpMemoryThreshold:0.##}), else the cluster flaps");
        Check(TargetUtilization <= Math.Min(ScaleUpCpuThreshold, ScaleUpMemoryThreshold),
            $"targetUtilization ({TargetUtilization:0.##}) must not exceed the scale-up thresholds, else a scale-up cannot bring utilisation under them");
        CheckPositive(errors, "scaleUpCpuWindow", ScaleUpCpuWindow);
        CheckPositive(errors, "scaleDownWindow", ScaleDownWindow);
        CheckPositive(errors, "nodeJoinTimeout", NodeJoinTimeout);
        CheckPositive(errors, "maxSnapshotAge", MaxSnapshotAge);
        CheckPositive(errors, "repairAfter", RepairAfter);
        CheckPositive(errors, "eventMaxAge", EventMaxAge);
        CheckFraction(errors, "maxUnhealthyShare", MaxUnhealthyShare);
        CheckPositive(errors, "cpuRateWindow", CpuRateWindow);
        Check(ScaleUpCooldown >= TimeSpan.Zero, "scaleUpCooldown: must not be negative");
        Check(ScaleDownCooldown >= TimeSpan.Zero, "scaleDownCooldown: must not be negative");
        Check(DrainBackoff >= TimeSpan.Zero, "drainBackoff: must not be negative");
        Check(WorkerShape.CpuMillis > 0, $"workerCpuMillis: must be positive (got {WorkerShape.CpuMillis})");
        Check(WorkerShape.MemoryBytes > 0, $"workerMemoryMiB: must be positive (got {WorkerShape.MemoryBytes / (1024 * 1024)})");
        Check(WorkerShape.Pods > 0, $"workerMaxPods: must be positive (got {WorkerShape.Pods})");
        Check(PredictiveHorizon >= TimeSpan.Zero, "predictiveHorizon: must not be negative");
        Check(PredictiveHorizon == TimeSpan.Zero || PredictiveLookback > TimeSpan.Zero,
            "predictiveLookback: must be positive when predictiveHorizon is set");
        Check(string.IsNullOrWhiteSpace(CustomMetricQuery) || CustomMetricTargetPerNode is > 0,
            "customMetricTargetPerNode: must be set to a positive number when customMetricQuery is set");
        Check(CustomMetricTargetPerNode is null || CustomMetricTargetPerNode > 0,
            $"customMetricTargetPerNode: must be positive (got {CustomMetricTargetPerNode})");
        foreach (var window in ScheduledMinimums)
        {
            Check(window.MinNodes <= MaxNodes,
                $"scheduledMinimums: '{window}' asks for {window.MinNodes} nodes, above maxNodes ({MaxNodes})");
        }

        return errors;
    }

    /// <summary>Throws <see cref="InvalidSettingsException"/> listing every violation.</summary>
    public ScalingSettings EnsureValid()
    {
        var errors = Validate();
        return errors.Count == 0 ? this : throw new InvalidSettingsException(errors);
    }

    private static void CheckFraction(List<string> errors, string key, double value)
    {
        if (!(value > 0 && value <= 1))
        {
            errors.Add($"{key}: must be a fraction above 0 and at most 1 (got {value})");
        }
    }

    private static void CheckPositive(List<string> errors, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{key}: must be a positive duration (got {value})");
        }
    }
}
