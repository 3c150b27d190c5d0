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
        var env = new EnvironmentReader(get);
        bool Required(string name) => required.Contains(name);
        var settings = new FleetSettings
        {
            ClusterName = env.Text("NODEFLEET_CLUSTER_NAME") ?? "k3s",
            StateTable = env.Text("NODEFLEET_STATE_TABLE", Required("NODEFLEET_STATE_TABLE")) ?? "",
            LaunchTemplateId = env.Text("NODEFLEET_LAUNCH_TEMPLATE_ID", Required("NODEFLEET_LAUNCH_TEMPLATE_ID")) ?? "",
            LaunchTemplateVersion = env.Text("NODEFLEET_LAUNCH_TEMPLATE_VERSION") ?? "$Default",
            Subnets = env.Parse("NODEFLEET_WORKER_SUBNETS", (IReadOnlyList<(string, string)>)[], ParseSubnets, Required("NODEFLEET_WORKER_SUBNETS")),
            InstanceTypes = env.Parse("NODEFLEET_INSTANCE_TYPES", (IReadOnlyList<string>)[], ParseInstanceTypes, Required("NODEFLEET_INSTANCE_TYPES")),
            SpotShare = env.Parse("NODEFLEET_SPOT_SHARE", 0.7, v => SettingValue.Fraction(v) is var f && f is >= 0 and <= 1 ? f : throw new FormatException($"'{v}' is not between 0% and 100%")),
            TopicArn = env.Text("NODEFLEET_TOPIC_ARN", Required("NODEFLEET_TOPIC_ARN")) ?? "",
            SlackWebhookSecret = env.Text("NODEFLEET_SLACK_WEBHOOK_SECRET"),
            LeaseDuration = env.Parse("NODEFLEET_LEASE_DURATION", TimeSpan.FromMinutes(20), SettingValue.Duration),
            HistorySize = env.Parse("NODEFLEET_HISTORY_SIZE", 20, SettingValue.WholeNumber),
        };
        env.Require(settings.LeaseDuration > TimeSpan.Zero, "NODEFLEET_LEASE_DURATION: must be positive");
        env.Require(settings.HistorySize >= 1, "NODEFLEET_HISTORY_SIZE: must be 1 or more");
        return env.Valid(settings);
    }

    private static IReadOnlyList<string> ParseInstanceTypes(string text)
    {
        var types = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return types.Length > 0 ? types : throw new FormatException("lists no instance type");
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
