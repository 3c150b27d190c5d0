namespace NodeFleet.Core.Errors;

/// <summary>
/// A step's input is malformed, incomplete or of the wrong type. The message names every bad
/// field by its JSON path. The class name is the Step Functions error name (no Retry: it would fail again).
/// </summary>
public sealed class InvalidInputException(string message, Exception? innerException = null) : Exception(message, innerException)
{
    public static InvalidInputException For(IReadOnlyList<string> problems) =>
        new("Invalid input: " + string.Join("; ", problems));
}
