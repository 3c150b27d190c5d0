namespace NodeFleet.Core.Settings;

/// <summary>Impossible or malformed settings; the message lists every violation by setting name.</summary>
public sealed class InvalidSettingsException : Exception
{
    public InvalidSettingsException(IReadOnlyList<string> errors)
        : base("Invalid NodeFleet settings: " + string.Join("; ", errors))
    {
        Errors = errors;
    }

    public InvalidSettingsException()
        : this([])
    {
    }

    public InvalidSettingsException(string message)
        : this([message])
    {
    }

    public InvalidSettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    public IReadOnlyList<string> Errors { get; } = [];
}
