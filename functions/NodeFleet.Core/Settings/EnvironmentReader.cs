namespace NodeFleet.Core.Settings;

/// <summary>
/// Reads a function's environment variables, collecting every missing or malformed one so that
/// one error lists them all, by variable name.
/// </summary>
public sealed class EnvironmentReader(Func<string, string?> get, Func<ISetting, string>? nameOf = null)
{
    private readonly List<string> errors = [];
    private readonly Func<ISetting, string> nameOf = nameOf ?? (s => s.EnvironmentVariable ?? throw new ArgumentException($"{s.ContextKey} is not passed to functions", nameof(nameOf)));

    /// <summary>
    /// The setting's value under the name this reader reads (its environment variable, or its
    /// context key), parsed by its one validator; its one default when unset; a missing
    /// <paramref name="required"/> one or a value the validator refuses is recorded.
    /// </summary>
    public T Get<T>(Setting<T> setting, bool required = false)
    {
        ArgumentNullException.ThrowIfNull(setting);
        return Parse(nameOf(setting), setting.Default, setting.Parse, required);
    }

    /// <summary>The trimmed value, or null when unset or blank; a required one that is missing is recorded.</summary>
    private string? Text(string name, bool required)
    {
        var value = get(name);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value.Trim();
        }

        if (required)
        {
            errors.Add($"{name}: required");
        }

        return null;
    }

    /// <summary>The parsed value, <paramref name="fallback"/> when unset; a value the parser refuses is recorded.</summary>
    private T Parse<T>(string name, T fallback, Func<string, T> parse, bool required)
    {
        var raw = Text(name, required);
        if (raw is null)
        {
            return fallback;
        }

        try
        {
            return parse(raw);
        }
        catch (FormatException e)
        {
            errors.Add($"{name}: {e.Message}");
            return fallback;
        }
    }

    /// <summary>Records a rule the values together break.</summary>
    public void Require(bool ok, string error)
    {
        if (!ok)
        {
            errors.Add(error);
        }
    }

    /// <summary>Returns <paramref name="settings"/>, or throws <see cref="InvalidSettingsException"/> listing every problem.</summary>
    public T Valid<T>(T settings) => errors.Count == 0 ? settings : throw new InvalidSettingsException(errors);
}
