using NodeFleet.Core.Settings;

namespace NodeFleet.Aws;

/// <summary>
/// What the AWS steps need beyond the scaling policy. The stack sets these environment
/// variables; the README lists them. Every missing or malformed one is reported at once.
/// </summary>
public sealed record FleetSettings
{
    public required string ClusterName { get; init; }
    public string StateTable { get; init; } = "";
    public string LaunchTemplateId { get; init; } = "";
    public string LaunchTemplateVersion { get; init; } = "$Default";

    /// <summary>Worker subnet per zone, in the order zones are preferred on ties.</summary>
    public IReadOnlyList<(string Zone, string SubnetId)> Subnets { get; init; } = [];

    public IReadOnlyList<string> InstanceTypes { get; init; } = [];
    public double SpotShare { get; init; } = 0.7;
    public string TopicArn { get; init; } = "";
    public string? SlackWebhookSecret { get; init; }
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromMinutes(20);
    public int HistorySize { get; init; } = 20;

    /// <summary>Reads the variables named in <paramref name="required"/> as mandatory; the rest keep their defaults when unset.</summary>
    public static FleetSettings FromEnvironment(Func<string, string?> get, params string[] required)
    {
        var errors = new List<string>();
        string Text(string name, string fallback)
        {
            var value = get(name);
            if (string.IsNullOrWhiteSpace(value))
            {
                if (required.Contains(name))
                {
                    errors.Add($"{name}: required");
                }

                return fallback;
            }

            return value.Trim();
        }

        T Parsed<T>(string name, T fallback, Func<string, T> parse)
        {
            var raw = Text(name, "");
            if (raw.Length == 0)
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

        var settings = new FleetSettings
        {
            ClusterName = Text("NODEFLEET_CLUSTER_NAME", "k3s"),
            StateTable = Text("NODEFLEET_STATE_TABLE", ""),
            LaunchTemplateId = Text("NODEFLEET_LAUNCH_TEMPLATE_ID", ""),
            LaunchTemplateVersion = Text("NODEFLEET_LAUNCH_TEMPLATE_VERSION", "$Default"),
            Subnets = Parsed("NODEFLEET_WORKER_SUBNETS", (IReadOnlyList<(string, string)>)[], ParseSubnets),
            InstanceTypes = Parsed("NODEFLEET_INSTANCE_TYPES", (IReadOnlyList<string>)[], v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
            SpotShare = Parsed("NODEFLEET_SPOT_SHARE", 0.7, v => SettingValue.Fraction(v) is var f && f is >= 0 and <= 1 ? f : throw new FormatException($"'{v}' is not between 0% and 100%")),
            TopicArn = Text("NODEFLEET_TOPIC_ARN", ""),
            SlackWebhookSecret = get("NODEFLEET_SLACK_WEBHOOK_SECRET") is { Length: > 0 } s ? s.Trim() : null,
            LeaseDuration = Parsed("NODEFLEET_LEASE_DURATION", TimeSpan.FromMinutes(20), SettingValue.Duration),
            HistorySize = Parsed("NODEFLEET_HISTORY_SIZE", 20, SettingValue.WholeNumber),
        };
        if (required.Contains("NODEFLEET_INSTANCE_TYPES") && settings.InstanceTypes.Count == 0 && get("NODEFLEET_INSTANCE_TYPES") is { Length: > 0 })
        {
            errors.Add("NODEFLEET_INSTANCE_TYPES: lists no instance type");
        }

        if (settings.LeaseDuration <= TimeSpan.Zero)
        {
            errors.Add("NODEFLEET_LEASE_DURATION: must be positive");
        }

        if (settings.HistorySize < 1)
        {
            errors.Add("NODEFLEET_HISTORY_SIZE: must be 1 or more");
        }

        return errors.Count == 0 ? settings : throw new InvalidSettingsException(errors);
    }

    /// <summary><c>us-east-1a=subnet-0abc,us-east-1b=subnet-0def</c>.</summary>
    public static IReadOnlyList<(string Zone, string SubnetId)> ParseSubnets(string text)
    {
        var result = new List<(string, string)>();
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0 || !parts[1].StartsWith("subnet-", StringComparison.Ordinal))
            {
                throw new FormatException($"'{pair}' is not of the form zone=subnet-id");
            }

            if (result.Any(r => r.Item1 == parts[0]))
            {
                throw new FormatException($"zone {parts[0]} is listed twice");
            }

            result.Add((parts[0], parts[1]));
        }

        return result.Count > 0 ? result : throw new FormatException("lists no subnet");
    }
}
