namespace NodeFleet.Core.Contracts;

/// <summary>A short acknowledgement from steps whose effect lives elsewhere (UpdateState, TerminateNode, Notify).</summary>
public sealed record StepResult
{
    public required string Summary { get; init; }

    /// <summary>Ids the step acted on: instances terminated, the SNS message id.</summary>
    public IReadOnlyList<string> Ids { get; set; } = [];
}
