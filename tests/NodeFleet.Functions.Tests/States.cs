using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Serialization;

namespace NodeFleet.Functions.Tests;

/// <summary>Workflow states as the state machine would hand them to a step.</summary>
internal static class States
{
    public static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 0, 0, TimeSpan.Zero);
    /// <summary>The account and region the steps run in: EC2 events are trusted only from them.</summary>
    public static readonly EventOrigin Origin = new("123456789012", "us-east-1");
    public const string ExecutionId = "arn:aws:states:us-east-1:123456789012:execution:nodefleet:tick-42";

    public static Decision ScaleUp(int nodes = 2) => new()
    {
        Action = ScalingAction.ScaleUp,
        ReasonCode = DecisionReason.PendingPods,
        Reason = $"Scale up by {nodes}: pods pending",
        NodesToAdd = nodes,
        DecidedAt = Now,
        Figures = new DecisionFigures { ManagedWorkers = 3, ReadyManagedWorkers = 3, CpuNow = 0.5, MemoryNow = 0.4 },
    };

    public static Decision ScaleDown() => new()
    {
        Action = ScalingAction.ScaleDown,
        ReasonCode = DecisionReason.Underutilized,
        Reason = "Remove w3: idle",
        Cooldown = CooldownScope.ScaleDown,
        NodeToRemove = new NodeRef { Name = "w3", InstanceId = "i-0w3" },
        DecidedAt = Now,
        Figures = new DecisionFigures { ManagedWorkers = 4, ReadyManagedWorkers = 4 },
    };

    public static LockResult Held => new() { Acquired = true, Owner = ExecutionId, Fence = 7, ExpiresAt = Now.AddMinutes(20) };

    /// <summary><see cref="Held"/> as a request's <c>lock</c> member, for hand-written JSON requests.</summary>
    public const string HeldJson = """{"acquired":true,"owner":"arn:aws:states:us-east-1:123456789012:execution:nodefleet:tick-42","fence":7,"expiresAt":"2026-11-18T12:20:00Z"}""";

    public static AcquireLockRequest LockFor(Decision decision) => new() { ExecutionId = ExecutionId, Route = decision.Route, Cooldown = decision.Cooldown, Preempt = decision.Preempts };

    public static LaunchNodesRequest Launch(int nodes, LockResult held) => new() { ExecutionId = ExecutionId, NodesToAdd = nodes, Lock = held };

    /// <summary>A request as the state machine's Parameters shape it, serialized with the steps' own contract.</summary>
    public static Stream Json<T>(T request) =>
        new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(request, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)NodeFleetJsonContext.Default.GetTypeInfo(typeof(T))!));
}
