using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>The local environment (tests/NodeFleet.Testbed) as an xunit fixture.</summary>
public class LocalCloud : LocalEnvironment, IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}

/// <summary>A fresh cloud for the interruption and failure scenarios.</summary>
public sealed class InterruptionCloud : LocalCloud;

/// <summary>A fresh cloud for the scaling scenarios.</summary>
public sealed class ScalingCloud : LocalCloud;

/// <summary>A fresh cloud for the fault scenarios.</summary>
public sealed class FaultCloud : LocalCloud;

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
