namespace NodeFleet.Core.Settings;

/// <summary>Impossible or malformed settings; the message lists every violation by setting name.</summary>
public sealed class InvalidSettingsException(IReadOnlyList<string> errors)
    : Exception("Invalid NodeFleet settings: " + string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
