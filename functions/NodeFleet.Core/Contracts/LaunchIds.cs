namespace NodeFleet.Core.Contracts;

/// <summary>
/// The launch id tagged on instances: the execution's name (the last part of its ARN), unique
/// per state machine, so every retry of the same execution's launch carries the same id.
/// </summary>
public static class LaunchIds
{
    public static string For(string executionId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executionId);
        var name = executionId[(executionId.LastIndexOf(':') + 1)..];
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());
        return "launch-" + (safe.Length > 80 ? safe[^80..] : safe);
    }
}
