using System.Text.Json;
using System.Text.Json.Serialization;

namespace NodeFleet.Core.Contracts;

/// <summary>
/// The execution's state document after Decide: one slot per Task result, each written by
/// exactly one kind of step (its ASL <c>ResultPath</c>). Decide's ResultSelector creates every
/// slot (null until written), so any later Task can name any slot in its Parameters. Kept small:
/// the Step Functions payload limit is 256 KB, and the snapshot is dropped at Decide.
/// </summary>
/// <remarks>
/// No version field: the contract only grows by optional members, and unknown members are
/// ignored, so an execution that spans a deployment keeps working. A change that cannot be made
/// that way must rename the slot it changes.
/// </remarks>
public sealed record WorkflowState
{
    /// <summary>The Step Functions execution (ARN): the lease owner, and the source of the launch id.</summary>
    public required string ExecutionId { get; init; }

    /// <summary>Decide: what to do, why, and the route the workflow takes; null only when the execution failed before deciding.</summary>
    public Decision? Decision { get; init; }

    /// <summary>Wait state durations (deployment settings); null only when the execution failed before deciding.</summary>
    public PollIntervals? Waits { get; init; }

    /// <summary>AcquireLock.</summary>
    public LockResult? Lock { get; init; }

    /// <summary>Reconcile (only when the decision's plan has work).</summary>
    public ReconcileResult? Reconciled { get; init; }

    /// <summary>LaunchNodes.</summary>
    public LaunchOutcome? Launch { get; init; }

    /// <summary>CheckNodesReady.</summary>
    public ReadinessReport? Readiness { get; init; }

    /// <summary>TerminateNode of instances that never joined.</summary>
    public StepResult? Cleanup { get; init; }

    /// <summary>DrainNode Start and Continue.</summary>
    public DrainProgress? Drain { get; init; }

    /// <summary>DrainNode Abort (uncordon).</summary>
    public DrainProgress? Abort { get; init; }

    /// <summary>TerminateNode of the node removed or retired.</summary>
    public StepResult? Terminated { get; init; }

    /// <summary>DrainNode Delete (the Node object).</summary>
    public DrainProgress? Deleted { get; init; }

    /// <summary>UpdateState: the outcome recorded.</summary>
    public RecordResult? Recorded { get; init; }

    /// <summary>Notify.</summary>
    public StepResult? Notified { get; init; }

    /// <summary>Set by a Catch: the error that ended the path.</summary>
    public StepError? Error { get; init; }
}

/// <summary>Seconds the Wait states wait between polls.</summary>
public sealed record PollIntervals
{
    public required int ReadySeconds { get; init; }
    public required int DrainSeconds { get; init; }
}

/// <summary>AcquireLock's answer: the lease, or why it was refused (the workflow then stops early).</summary>
public sealed record LockResult
{
    public required bool Acquired { get; init; }
    public string? Owner { get; init; }
    public long Fence { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? RefusedBecause { get; init; }
}

public sealed record LaunchedInstance
{
    public required string InstanceId { get; init; }
    public required string Zone { get; init; }
    public required string InstanceType { get; init; }
    public required CapacityType CapacityType { get; init; }
}

/// <summary>What LaunchNodes asked for and got; errors name the pools EC2 could not fill.</summary>
public sealed record LaunchOutcome
{
    public required string LaunchId { get; init; }
    public required int Requested { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required IReadOnlyList<LaunchedInstance> Instances { get; init; }

    // A setter, not init: the JSON source generator would overwrite an init-only default with null
    // when the member is absent (dotnet/runtime#84484).
    public IReadOnlyList<string> Errors { get; set; } = [];

    /// <summary>The pools EC2 refused (instance type, zone, capacity type, code), in the order they were asked.</summary>
    public IReadOnlyList<FailedPool> FailedPools { get; set; } = [];

    /// <summary>
    /// The lease was released with the launch record (a scale-up: nothing else this execution does
    /// needs it): the boot loop's cleanup and recording are fenced by the launch record instead.
    /// </summary>
    public bool LeaseReleased { get; init; }
}

/// <summary>A pool a launch asked and EC2 refused; <see cref="Capacity"/>: out of capacity, so recorded as unavailable for a while.</summary>
public sealed record FailedPool
{
    public required string InstanceType { get; init; }
    public required string Zone { get; init; }
    public required CapacityType CapacityType { get; init; }
    public required string Code { get; init; }
    public required bool Capacity { get; init; }
}

/// <summary>UpdateState's answer: the outcome the path's results make, as recorded in the history.</summary>
public sealed record RecordResult
{
    public required Ports.OutcomeKind Outcome { get; init; }

    /// <summary>Why the path ended this way, when the outcome alone does not say (e.g. which drain stopped).</summary>
    public string? Detail { get; init; }

    public required string Summary { get; init; }
}

/// <summary>
/// A Catch's error output, as Step Functions shapes it. For a Lambda error the Cause is a JSON
/// document (errorType, errorMessage, stackTrace): <see cref="Message"/> is what people read.
/// </summary>
public sealed record StepError
{
    [JsonPropertyName("Error")]
    public required string Error { get; init; }

    [JsonPropertyName("Cause")]
    public string? Cause { get; init; }

    /// <summary>The error's message: Lambda's errorMessage from the Cause, never its stack trace.</summary>
    public string Message => MessageOf(Cause) ?? Error;

    private static string? MessageOf(string? cause)
    {
        if (string.IsNullOrWhiteSpace(cause))
        {
            return null;
        }

        if (cause.TrimStart().StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(cause);
                if (document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("errorMessage", out var message)
                    && message.ValueKind == JsonValueKind.String)
                {
                    return message.GetString();
                }
            }
            catch (JsonException)
            {
                // Not Lambda's shape: the Cause is the message as it is.
            }
        }

        // A Cause that is not Lambda's document may still carry a stack trace after the first line.
        return cause.Split('\n', 2)[0].Trim();
    }
}

/// <summary>TerminateNode's input: the instances to terminate (the node removed, or instances that never joined), under whose lease.</summary>
public sealed record TerminateRequest
{
    public required IReadOnlyList<string> InstanceIds { get; init; }

    /// <summary>The lease the termination is made under (TerminateNode refuses a request without it).</summary>
    public LockResult? Lock { get; init; }

    /// <summary>
    /// Cleaning up a launch whose lease was released (<see cref="LaunchOutcome.LeaseReleased"/>): the fence is
    /// its launch record, and only that launch's instances may be terminated.
    /// </summary>
    public LaunchOutcome? Launch { get; init; }

    /// <summary>A scale-down's empty workers that go with the drained node (<see cref="DrainProgress.Also"/>): their instances are terminated too.</summary>
    // A setter, not init, for the same reason as DrainRequest.Also.
    public IReadOnlyList<NodeRef> Also { get; set; } = [];
}
