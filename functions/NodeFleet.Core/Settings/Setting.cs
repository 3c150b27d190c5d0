namespace NodeFleet.Core.Settings;

/// <summary>A setting as the README lists it: where it is set, its default and what it means.</summary>
public interface ISetting
{
    /// <summary>The cdk.json context key (without <c>nodefleet:</c>); null for what only the stack sets on a function.</summary>
    string? ContextKey { get; }

    /// <summary>The environment variable a function reads it from; null for a deployment-only choice.</summary>
    string? EnvironmentVariable { get; }

    /// <summary>The default as written in settings (empty: unset, or required where <see cref="Required"/>).</summary>
    string DefaultText { get; }

    /// <summary>The function cannot run without it (the stack always sets it).</summary>
    bool Required { get; }

    string Description { get; }
}

/// <summary>
/// One deployment or function setting with its one default and its one validator
/// (<see cref="Parse"/> throws <see cref="FormatException"/> saying what is wrong). The CDK app
/// reads it from context, the functions from their environment, and the README has its row.
/// </summary>
public sealed record Setting<T>(string? ContextKey, string? EnvironmentVariable, string DefaultText, string Description, Func<string, T> Parse, bool Required = false) : ISetting
{
    /// <summary>The parsed default; for a setting without one, the type's default (null).</summary>
    public T Default => DefaultText.Length == 0 ? default! : Parse(DefaultText);
}
