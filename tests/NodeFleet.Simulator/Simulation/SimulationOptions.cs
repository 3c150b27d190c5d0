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
    public TimeSpan ReadyPoll { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Cordon, evict and terminate: how long a scale-down execution holds the lease.</summary>
    public TimeSpan DrainDuration { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>t3.large on demand, us-east-1, USD per hour.</summary>
    public double OnDemandPricePerHour { get; init; } = 0.0832;

    /// <summary>t3.large spot, us-east-1, a typical recent price, USD per hour.</summary>
    public double SpotPricePerHour { get; init; } = 0.0301;

    /// <summary>Share of NodeFleet's launches on spot (deployment setting spotShare). The seed launches on demand only.</summary>
    public double SpotShare { get; init; } = 0.7;

    /// <summary>Spot interruptions per spot node per day (0: none).</summary>
    public double SpotInterruptionsPerNodeDay { get; init; }

    /// <summary>Seed of every random draw (boot delays, interruptions): same seed, same run.</summary>
    public int RandomSeed { get; init; } = 42;
}
