using System.Text.Json;
using NodeFleet.Core.Settings;
using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator;

/// <summary>
/// Reads NodeFleet settings for a simulation in the format the deployment uses: either cdk.json
/// itself (its <c>nodefleet:*</c> context entries; deployment-only keys the simulator does not
/// model are skipped) or a flat JSON object of the same keys, with or without the prefix, where an
/// unknown key is an error. Besides the scaling settings, <c>scheduleRate</c>, <c>spotShare</c>,
/// Alertmanager's timings (<c>fastPathGroupWait</c>, <c>fastPathGroupInterval</c>, <c>fastPathRepeatInterval</c>)
/// and the workflow's waits (<c>readyPollInterval</c>, <c>drainPollInterval</c>, <c>drainTimeout</c>), each
/// parsed by the catalog's own validator, shape the run.
/// </summary>
public static class SettingsFile
{
    private const string Prefix = "nodefleet:";

    /// <summary>Every key a settings file (and <c>--sweep</c>) may set.</summary>
    public static IReadOnlySet<string> Known { get; } = SettingsCatalog.Scaling.Select(d => d.Key)
        .Concat(["scheduleRate", "spotShare"])
        .Concat(new ISetting[]
        {
            SettingsCatalog.FastPathGroupWait, SettingsCatalog.FastPathGroupInterval, SettingsCatalog.FastPathRepeatInterval,
            SettingsCatalog.ReadyPollSeconds, SettingsCatalog.DrainPollSeconds, SettingsCatalog.DrainTimeout,
        }.Select(s => s.ContextKey!))
        .ToHashSet(StringComparer.Ordinal);

    public static SimulationOptions Apply(string path, SimulationOptions options) => Apply(Read(path), options, path);

    /// <summary>The settings the file gives, by key without the prefix (cdk.json: only the known <c>nodefleet:*</c> ones).</summary>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        var fromCdk = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("context", out _);
        var source = fromCdk ? root.GetProperty("context") : root;
        if (source.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{path}: expected a JSON object of settings");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in source.EnumerateObject())
        {
            if (fromCdk && !property.Name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var key = property.Name.StartsWith(Prefix, StringComparison.Ordinal) ? property.Name[Prefix.Length..] : property.Name;
            if (!fromCdk || Known.Contains(key))
            {
                values[key] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            }
        }

        return values;
    }

    /// <summary>
    /// Applies <paramref name="values"/> (keys of <see cref="Known"/>) over the catalog's defaults; errors name
    /// <paramref name="source"/> and the key. An unknown key is an error.
    /// </summary>
    public static SimulationOptions Apply(IReadOnlyDictionary<string, string> values, SimulationOptions options, string source)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(options);
        var unknown = values.Keys.Where(k => !Known.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new FormatException($"{source}: unknown setting(s) {string.Join(", ", unknown)}; known: {string.Join(", ", Known.Order(StringComparer.Ordinal))}");
        }

        var settings = SettingsCatalog.Load(d => values.GetValueOrDefault(d.Key), d => $"{source}: {d.Key}");
        options = options with { Settings = settings };
        if (values.TryGetValue("scheduleRate", out var rate))
        {
            var tick = SettingValue.Duration(rate);
            options = tick >= TimeSpan.FromMinutes(1) && tick.Seconds == 0
                ? options with { NodeFleetTick = tick }
                : throw new FormatException($"{source}: scheduleRate '{rate}' is not a whole number of minutes, at least 1m");
        }

        if (values.TryGetValue("spotShare", out var share))
        {
            var fraction = SettingValue.Fraction(share);
            options = fraction is >= 0 and <= 1 ? options with { SpotShare = fraction } : throw new FormatException($"{source}: spotShare '{share}' is not between 0% and 100%");
        }

        T Value<T>(Setting<T> setting, T current)
        {
            if (!values.TryGetValue(setting.ContextKey!, out var text))
            {
                return current;
            }

            try
            {
                return setting.Parse(text);
            }
            catch (FormatException e)
            {
                throw new FormatException($"{source}: {setting.ContextKey}: {e.Message}", e);
            }
        }

        return options with
        {
            FastPathGroupWait = Value(SettingsCatalog.FastPathGroupWait, options.FastPathGroupWait),
            FastPathGroupInterval = Value(SettingsCatalog.FastPathGroupInterval, options.FastPathGroupInterval),
            FastPathRepeatInterval = Value(SettingsCatalog.FastPathRepeatInterval, options.FastPathRepeatInterval),
            ReadyPoll = TimeSpan.FromSeconds(Value(SettingsCatalog.ReadyPollSeconds, (int)options.ReadyPoll.TotalSeconds)),
            DrainPoll = TimeSpan.FromSeconds(Value(SettingsCatalog.DrainPollSeconds, (int)options.DrainPoll.TotalSeconds)),
            DrainTimeout = Value(SettingsCatalog.DrainTimeout, options.DrainTimeout),
        };
    }
}
