using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Simulator.Simulation;

/// <summary>
/// Everything about a simulated run that is not the workload: the policy's settings, how often
/// it runs, how long nodes take to boot, what they cost. Defaults model a t3.large fleet in
/// us-east-1 and NodeFleet as deployed with its defaults.
/// </summary>
public sealed record SimulationOptions
{
    /// <summary>NodeFleet's scaling settings (the same catalog the functions read).</summary>
    public ScalingSettings Settings { get; init; } = ScalingSettings.Defaults;

    /// <summary>EventBridge schedule between NodeFleet executions (deployment setting scheduleRate).</summary>
    public TimeSpan NodeFleetTick { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The seed autoscaler's fixed loop.</summary>
    public TimeSpan SeedTick { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Resolution of the model: scheduling, joins and metric samples happen on this grid (Prometheus' scrape interval).</summary>
    public TimeSpan Step { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Mean time from launch to a Ready node: EC2 boot plus K3s join.</summary>
    public TimeSpan BootDelayMean { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Standard deviation of the boot delay (normal, clamped to half and twice the mean).</summary>
    public TimeSpan BootDelaySpread { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How often a NodeFleet execution waiting for nodes asks again (deployment setting readyPollInterval).</summary>
    public TimeSpan ReadyPoll { get; init; } = TimeSpan.FromSeconds(SettingsCatalog.ReadyPollSeconds.Default);

    /// <summary>How often a draining execution asks whether the evicted pods are gone (deployment setting drainPollInterval).</summary>
    public TimeSpan DrainPoll { get; init; } = TimeSpan.FromSeconds(SettingsCatalog.DrainPollSeconds.Default);

    /// <summary>How long a drain waits for evicted pods before it stops waiting (deployment setting drainTimeout).</summary>
    public TimeSpan DrainTimeout { get; init; } = SettingsCatalog.DrainTimeout.Default;

    /// <summary>
    /// From eviction until an evicted pod is gone. Default 30 s: Kubernetes' default terminationGracePeriodSeconds, the worst
    /// case of a pod that ignores SIGTERM and is killed at the end of its grace period (the drain never waits longer for it).
    /// </summary>
    public TimeSpan PodShutdown { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// From the drain's last poll to the instance terminated and the lease released: TerminateRemoved, DeleteNode and Record,
    /// one Lambda invocation of about a second each.
    /// </summary>
    public TimeSpan DrainEndLatency { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>t3.large on demand, us-east-1, USD per hour.</summary>
    public double OnDemandPricePerHour { get; init; } = 0.0832;

    /// <summary>t3.large spot, us-east-1, a typical recent price, USD per hour.</summary>
    public double SpotPricePerHour { get; init; } = 0.0301;

    /// <summary>
    /// Share of each launch on spot (deployment setting spotShare), split per launch as LaunchNodes does
    /// (<see cref="CapacitySplit.SpotCount"/>); the seed's launches too, 70 % spot as its documents say.
    /// </summary>
    public double SpotShare { get; init; } = SettingsCatalog.SpotShare.Default;

    /// <summary>Spot interruptions per spot node per day (0: none).</summary>
    public double SpotInterruptionsPerNodeDay { get; init; }

    /// <summary>Seed of every random draw (boot delays, interruptions, the phases of the schedule and of the fast path): same seed, same run.</summary>
    public int RandomSeed { get; init; } = 42;

    /// <summary>What starts NodeFleet's executions: the schedule alone, or the fast path for pending pods with the schedule as the backstop.</summary>
    public Detection Detection { get; init; } = Detection.FastPathAndSchedule;

    /// <summary>How long an execution holds the lease: as built now, or as it was before (held while the launched nodes boot).</summary>
    public LeaseModel Lease { get; init; } = LeaseModel.ReleasedAtLaunch;

    /// <summary>
    /// When the first scheduled tick fires after the trace starts (then every <see cref="NodeFleetTick"/>).
    /// Null: drawn uniformly within one tick from the seed, because the workload is not aligned with EventBridge's schedule.
    /// </summary>
    public TimeSpan? ScheduleOffset { get; init; }

    /// <summary>Alertmanager's <c>group_wait</c>: the first notification of a group waits this long after its first alert.</summary>
    public TimeSpan FastPathGroupWait { get; init; } = SettingsCatalog.FastPathGroupWait.Default;

    /// <summary>Alertmanager's <c>group_interval</c>: while a group lives, new alerts wait for its next flush, one per this interval.</summary>
    public TimeSpan FastPathGroupInterval { get; init; } = SettingsCatalog.FastPathGroupInterval.Default;

    /// <summary>Alertmanager's <c>repeat_interval</c>: a group whose firing alerts did not change notifies again only after this.</summary>
    public TimeSpan FastPathRepeatInterval { get; init; } = SettingsCatalog.FastPathRepeatInterval.Default;

    /// <summary>How often Prometheus evaluates the pending-pods rule (the rule file's interval).</summary>
    public TimeSpan RuleEvaluationInterval { get; init; } = FastPath.RuleEvaluationInterval;

    /// <summary>
    /// From Alertmanager's notification to StartExecution: SNS publish, delivery to SQS, the Pipe's poll and
    /// StartExecution. A fixed second: each hop is tens to hundreds of milliseconds when the Pipe is polling.
    /// </summary>
    public TimeSpan FastPathDeliveryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Prometheus' scrape interval of kube-state-metrics (the master's Prometheus scrapes every 15 s): the model's step.</summary>
    public TimeSpan ScrapeInterval => Step;

    /// <summary>The model of NodeFleet before issue 13: the schedule alone, the lease held while launched nodes boot, no drain preempted.</summary>
    public SimulationOptions Before() => this with { Detection = Detection.ScheduleOnly, Lease = LeaseModel.HeldWhileBooting };
}

/// <summary>What starts NodeFleet's executions.</summary>
public enum Detection
{
    /// <summary>Only the EventBridge schedule, every <see cref="SimulationOptions.NodeFleetTick"/>.</summary>
    ScheduleOnly,

    /// <summary>The Prometheus rule and Alertmanager start an execution for pending pods; the schedule stays as the backstop.</summary>
    FastPathAndSchedule,
}

/// <summary>How long an execution holds the lease.</summary>
public enum LeaseModel
{
    /// <summary>Before issue 13: a launch holds the lease until its nodes joined (or the join timeout), a drain until it ends; only interruptions preempt.</summary>
    HeldWhileBooting,

    /// <summary>
    /// As built now: LaunchNodes releases the lease at once (the launch stays in flight, the scale-up stamped at launch);
    /// a drain holds it for its duration, and a scale-up for pending pods preempts it (the drain is aborted, the node uncordoned).
    /// </summary>
    ReleasedAtLaunch,
}
