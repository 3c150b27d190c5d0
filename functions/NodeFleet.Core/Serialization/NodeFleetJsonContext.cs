using System.Text.Json;
using System.Text.Json.Serialization;
using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Serialization;

/// <summary>
/// Source-generated JSON for every contract (no reflection at run time, fast cold starts).
/// camelCase names, enums as strings, nulls omitted to keep payloads small; required members,
/// constructor parameters and non-nullable references are enforced when reading.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    NumberHandling = JsonNumberHandling.Strict,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(WorkflowState))]
[JsonSerializable(typeof(ClusterSnapshot))]
[JsonSerializable(typeof(FleetState))]
[JsonSerializable(typeof(Decision))]
[JsonSerializable(typeof(LockResult))]
[JsonSerializable(typeof(LaunchOutcome))]
[JsonSerializable(typeof(TerminateRequest))]
[JsonSerializable(typeof(StepResult))]
[JsonSerializable(typeof(Observation))]
[JsonSerializable(typeof(Trigger))]
[JsonSerializable(typeof(ReadinessReport))]
[JsonSerializable(typeof(DrainRequest))]
[JsonSerializable(typeof(DrainProgress))]
[JsonSerializable(typeof(CollectMetricsRequest))]
[JsonSerializable(typeof(DecideRequest))]
[JsonSerializable(typeof(AcquireLockRequest))]
[JsonSerializable(typeof(LaunchNodesRequest))]
[JsonSerializable(typeof(CheckNodesReadyRequest))]
[JsonSerializable(typeof(UpdateStateRequest))]
[JsonSerializable(typeof(NotifyRequest))]
[JsonSerializable(typeof(RecordResult))]
[JsonSerializable(typeof(ReconcileRequest))]
[JsonSerializable(typeof(ReconcileResult))]
public sealed partial class NodeFleetJsonContext : JsonSerializerContext;
