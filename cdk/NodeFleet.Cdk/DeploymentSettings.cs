using System.Globalization;
using Constructs;
using NodeFleet.Core.Settings;

namespace NodeFleet.Cdk;

/// <summary>Everything the deployment is configured with, read once from cdk.json context and validated at synth.</summary>
public sealed record DeploymentSettings
{
    public required string StackName { get; init; }
    public required ScalingSettings Scaling { get; init; }
    public TimeSpan ScheduleRate { get; init; } = TimeSpan.FromMinutes(2);
    public string? NotificationEmail { get; init; }
    public string? SlackWebhookSecretName { get; init; }
    public IReadOnlyList<string> InstanceTypes { get; init; } = ["t3.large", "t3a.large", "m5.large"];
    public double SpotShare { get; init; } = 0.7;
    public string MasterInstanceType { get; init; } = "t3.medium";
    public string K3sVersion { get; init; } = "v1.31.4+k3s1";
    public string? SshCidr { get; init; }
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromMinutes(20);
    public int ReadyPollSeconds { get; init; } = 30;
    public int DrainPollSeconds { get; init; } = 20;
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Set when NodeFleet joins a cluster that already exists instead of creating one.</summary>
    public ExistingCluster? Existing { get; init; }

    public const string Prefix = SettingsCatalog.ContextPrefix;

    /// <summary>
    /// Reads <c>nodefleet:*</c> context keys. Every malformed or impossible value is reported at
    /// once, named by its context key, before anything is synthesized.
    /// </summary>
    public static DeploymentSettings FromContext(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var errors = new List<string>();
        ScalingSettings scaling = ScalingSettings.Defaults;
        try
        {
            scaling = SettingsCatalog.Load(d => ContextString(node, Prefix + d.Key), d => Prefix + d.Key);
        }
        catch (InvalidSettingsException e)
        {
            errors.AddRange(e.Errors);
        }

        var context = new EnvironmentReader(key => ContextString(node, key));
        int Seconds(string key, int fallback) => context.Parse(Prefix + key, fallback, v => SettingValue.Duration(v) is var d && d >= TimeSpan.FromSeconds(1) ? (int)d.TotalSeconds : throw new FormatException($"'{v}' must be at least 1s"));
        DeploymentSettings settings = new()
        {
            StackName = context.Text(Prefix + "stackName") ?? $"NodeFleet-{scaling.ClusterName}",
            Scaling = scaling,
            ScheduleRate = context.Parse(Prefix + "scheduleRate", TimeSpan.FromMinutes(2), v => SettingValue.Duration(v) is var d && d >= TimeSpan.FromMinutes(1) && d.Seconds == 0 ? d : throw new FormatException($"'{v}' is not a whole number of minutes, at least 1m (EventBridge's rate unit)")),
            NotificationEmail = context.Parse<string?>(Prefix + "notificationEmail", null, v => v.Contains('@', StringComparison.Ordinal) ? v : throw new FormatException($"'{v}' is not an email address")),
            SlackWebhookSecretName = context.Text(Prefix + "slackWebhookSecretName"),
            InstanceTypes = context.Parse<IReadOnlyList<string>>(Prefix + "instanceTypes", ["t3.large", "t3a.large", "m5.large"], v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } t ? t : throw new FormatException("lists no instance type")),
            SpotShare = context.Parse(Prefix + "spotShare", 0.7, v => SettingValue.Fraction(v) is var f && f >= 0 ? f : throw new FormatException($"'{v}' is negative")),
            MasterInstanceType = context.Text(Prefix + "masterInstanceType") ?? "t3.medium",
            K3sVersion = context.Text(Prefix + "k3sVersion") ?? "v1.31.4+k3s1",
            SshCidr = context.Parse<string?>(Prefix + "sshCidr", null, v => System.Net.IPNetwork.TryParse(v, out _) ? v : throw new FormatException($"'{v}' is not a CIDR block")),
            LeaseDuration = context.Parse(Prefix + "leaseDuration", TimeSpan.FromMinutes(20), SettingValue.Duration),
            ReadyPollSeconds = Seconds("readyPollInterval", 30),
            DrainPollSeconds = Seconds("drainPollInterval", 20),
            DrainTimeout = context.Parse(Prefix + "drainTimeout", TimeSpan.FromMinutes(10), SettingValue.Duration),
        };
        settings = settings with { Existing = ExistingCluster.FromContext(context, key => ContextString(node, Prefix + key) is not null) };
        context.Require(settings.LeaseDuration > settings.Scaling.NodeJoinTimeout,
            $"{Prefix}leaseDuration ({SettingValue.FormatDuration(settings.LeaseDuration)}) must exceed nodeJoinTimeout ({SettingValue.FormatDuration(settings.Scaling.NodeJoinTimeout)}), or a scale-up loses its lease while waiting");
        try
        {
            context.Valid(settings);
        }
        catch (InvalidSettingsException e)
        {
            errors.AddRange(e.Errors);
        }

        return errors.Count == 0 ? settings : throw new InvalidSettingsException(errors);
    }

    // Context values arrive as JSON (numbers, booleans) from cdk.json and as strings from -c.
    private static string? ContextString(Node node, string key) => node.TryGetContext(key) switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };
}

/// <summary>
/// A cluster NodeFleet is pointed at rather than one it creates: its VPC, worker subnets, the
/// nodes' security group, the worker launch template and role, the API and Prometheus addresses,
/// and the SecureString parameters holding NodeFleet's ServiceAccount token and the cluster CA.
/// </summary>
public sealed record ExistingCluster
{
    public required string VpcId { get; init; }
    public required IReadOnlyList<(string Zone, string SubnetId)> Subnets { get; init; }
    public required string NodesSecurityGroupId { get; init; }
    public required string LaunchTemplateId { get; init; }
    public string LaunchTemplateVersion { get; init; } = "$Default";
    public required string WorkerRoleArn { get; init; }
    public required Uri KubeApiUrl { get; init; }
    public required Uri PrometheusUrl { get; init; }
    public required string KubeTokenParameterName { get; init; }
    public required string KubeCaParameterName { get; init; }

    private static readonly string[] Keys =
    [
        "existing.vpcId", "existing.subnets", "existing.nodesSecurityGroupId", "existing.launchTemplateId", "existing.launchTemplateVersion",
        "existing.workerRoleArn", "existing.kubeApiUrl", "existing.prometheusUrl", "existing.kubeTokenParameterName", "existing.kubeCaParameterName",
    ];

    /// <summary>Null when no <c>existing.*</c> key is set; otherwise every required one must be.</summary>
    internal static ExistingCluster? FromContext(EnvironmentReader context, Func<string, bool> isSet)
    {
        if (!Keys.Any(isSet))
        {
            return null;
        }

        string Required(string key) => context.Text(DeploymentSettings.Prefix + key, required: true) ?? "";
        Uri Url(string key) => context.Parse(DeploymentSettings.Prefix + key, new Uri("https://unset.invalid/"),
            v => Uri.TryCreate(v, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u : throw new FormatException($"'{v}' is not an http(s) URL"), required: true);
        return new ExistingCluster
        {
            VpcId = Required("existing.vpcId"),
            Subnets = context.Parse<IReadOnlyList<(string, string)>>(DeploymentSettings.Prefix + "existing.subnets", [], Aws.FleetSettings.ParseSubnets, required: true),
            NodesSecurityGroupId = Required("existing.nodesSecurityGroupId"),
            LaunchTemplateId = Required("existing.launchTemplateId"),
            LaunchTemplateVersion = context.Text(DeploymentSettings.Prefix + "existing.launchTemplateVersion") ?? "$Default",
            WorkerRoleArn = Required("existing.workerRoleArn"),
            KubeApiUrl = Url("existing.kubeApiUrl"),
            PrometheusUrl = Url("existing.prometheusUrl"),
            KubeTokenParameterName = Required("existing.kubeTokenParameterName"),
            KubeCaParameterName = Required("existing.kubeCaParameterName"),
        };
    }
}
