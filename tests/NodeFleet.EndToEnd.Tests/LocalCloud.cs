using System.Text.Json;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>Reading the runner's report of one execution.</summary>
public static class Runs
{
    /// <summary>The states the execution entered, in order.</summary>
    public static List<string> Entered(JsonElement run) => run.GetProperty("entered").EnumerateArray().Select(s => s.GetString()!).ToList();
}

/// <summary>The local environment (tests/NodeFleet.Testbed) as an xunit fixture.</summary>
public class LocalCloud : LocalEnvironment, IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    /// <summary>
    /// Scheduled ticks every two seconds until one decides to act (the ones before are no-ops),
    /// as EventBridge would start them: windows are met when Prometheus has seen them, not after a
    /// fixed sleep. Every tick must succeed.
    /// </summary>
    public async Task<JsonElement> TickUntilActionAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            var run = Run(new Dictionary<string, object>());
            Assert.True(run.GetProperty("status").GetString() == "SUCCEEDED", run.GetRawText());
            var decision = run.GetProperty("output").GetProperty("decision");
            if (decision.GetProperty("action").GetString() != "None")
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no tick acted within {timeout.TotalSeconds} s; the last decided: {decision.GetProperty("reason").GetString()}");
        }
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}

/// <summary>A fresh cloud for the interruption and failure scenarios.</summary>
public sealed class InterruptionCloud : LocalCloud;

/// <summary>A fresh cloud for the scaling scenarios.</summary>
public sealed class ScalingCloud : LocalCloud;

/// <summary>A fresh cloud for the fault scenarios.</summary>
public sealed class FaultCloud : LocalCloud;

/// <summary>A fresh cloud for CPU stress and concurrent executions.</summary>
public sealed class LoadCloud : LocalCloud;

/// <summary>A fresh cloud for a zone out of capacity.</summary>
public sealed class CapacityCloud : LocalCloud;

/// <summary>A fresh cloud for a drain that a budget blocks.</summary>
public sealed class DrainCloud : LocalCloud;

/// <summary>A fresh cloud for each reconcile scenario: orphans, ghosts, broken nodes, fenced executions.</summary>
public sealed class OrphanCloud : LocalCloud;

public sealed class RepairCloud : LocalCloud;

public sealed class ApiFaultCloud : LocalCloud;

public sealed class DrainFaultCloud : LocalCloud;

public sealed class DynamoFaultCloud : LocalCloud;

[CollectionDefinition(Name)]
public sealed class DynamoFaultCloudGroup : ICollectionFixture<DynamoFaultCloud>
{
    public const string Name = "dynamo-fault-cloud";
}

[CollectionDefinition(Name)]
public sealed class DrainFaultCloudGroup : ICollectionFixture<DrainFaultCloud>
{
    public const string Name = "drain-fault-cloud";
}

[CollectionDefinition(Name)]
public sealed class OrphanCloudGroup : ICollectionFixture<OrphanCloud>
{
    public const string Name = "orphan-cloud";
}

[CollectionDefinition(Name)]
public sealed class RepairCloudGroup : ICollectionFixture<RepairCloud>
{
    public const string Name = "repair-cloud";
}

[CollectionDefinition(Name)]
public sealed class ApiFaultCloudGroup : ICollectionFixture<ApiFaultCloud>
{
    public const string Name = "api-fault-cloud";
}

/// <summary>
/// A fresh cloud for graceful drains: time compressed as elsewhere in the testbed, pods' grace
/// periods of a few seconds against a drain timeout several times longer, a short margin.
/// </summary>
public sealed class GracefulCloud : LocalCloud
{
    public GracefulCloud() => SettingsOverrides = new Dictionary<string, string>
    {
        ["NODEFLEET_DRAIN_TIMEOUT"] = "40s",
        ["NODEFLEET_DRAIN_GRACE_MARGIN"] = "2s",
    };
}

[CollectionDefinition(Name)]
public sealed class GracefulCloudGroup : ICollectionFixture<GracefulCloud>
{
    public const string Name = "graceful-cloud";
}

[CollectionDefinition(Name)]
public sealed class FaultCloudGroup : ICollectionFixture<FaultCloud>
{
    public const string Name = "fault-cloud";
}

[CollectionDefinition(Name)]
public sealed class LocalCloudGroup : ICollectionFixture<InterruptionCloud>
{
    public const string Name = "local-cloud";
}

[CollectionDefinition(Name)]
public sealed class ScalingCloudGroup : ICollectionFixture<ScalingCloud>
{
    public const string Name = "scaling-cloud";
}

[CollectionDefinition(Name)]
public sealed class LoadCloudGroup : ICollectionFixture<LoadCloud>
{
    public const string Name = "load-cloud";
}

[CollectionDefinition(Name)]
public sealed class CapacityCloudGroup : ICollectionFixture<CapacityCloud>
{
    public const string Name = "capacity-cloud";
}

[CollectionDefinition(Name)]
public sealed class DrainCloudGroup : ICollectionFixture<DrainCloud>
{
    public const string Name = "drain-cloud";
}

/// <summary>
/// A fresh cloud with the fast path on (Prometheus' rule, Alertmanager, SNS, SQS, the local Pipe).
/// group_wait stays as deployed (1 s); group_interval (2 s) and repeat_interval (4 s) are compressed
/// from 15 s and 5 min so an alert storm re-notifies several times within seconds, which the deployed
/// timings would take many minutes to show. Nodes may take a minute to join (the storm holds them back).
/// </summary>
public sealed class FastPathCloud : LocalCloud
{
    public FastPathCloud()
    {
        FastPath = true;
        AlertGroupInterval = TimeSpan.FromSeconds(2);
        AlertRepeatInterval = TimeSpan.FromSeconds(4);
        SettingsOverrides = new Dictionary<string, string> { ["NODEFLEET_NODE_JOIN_TIMEOUT"] = "60s" };
    }
}

[CollectionDefinition(Name)]
public sealed class FastPathCloudGroup : ICollectionFixture<FastPathCloud>
{
    public const string Name = "fast-path-cloud";
}
