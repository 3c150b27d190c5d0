using System.Globalization;
using Constructs;
using NodeFleet.Core.Settings;

namespace NodeFleet.Cdk;

/// <summary>Everything the deployment is configured with, read once from cdk.json context and validated at synth.</summary>
public sealed record DeploymentSettings
{
    public required string StackName { get; init; }
    public required ScalingSettings Scaling { get; init; }
    // Defaults and validators: SettingsCatalog (one of each per setting).
    public TimeSpan ScheduleRate { get; init; } = SettingsCatalog.ScheduleRate.Default;
    public string? NotificationEmail { get; init; }
    public string? SlackWebhookSecretName { get; init; }
    public IReadOnlyList<string> InstanceTypes { get; init; } = SettingsCatalog.InstanceTypes.Default;
    public double SpotShare { get; init; } = SettingsCatalog.SpotShare.Default;
    public string MasterInstanceType { get; init; } = SettingsCatalog.MasterInstanceType.Default;
    public string K3sVersion { get; init; } = SettingsCatalog.K3sVersion.Default;
    public string? SshCidr { get; init; }
    public TimeSpan LeaseDuration { get; init; } = SettingsCatalog.LeaseDuration.Default;
    public int ReadyPollSeconds { get; init; } = SettingsCatalog.ReadyPollSeconds.Default;
    public int DrainPollSeconds { get; init; } = SettingsCatalog.DrainPollSeconds.Default;
    public TimeSpan DrainTimeout { get; init; } = SettingsCatalog.DrainTimeout.Default;
    public TimeSpan DrainGraceMargin { get; init; } = SettingsCatalog.DrainGraceMargin.Default;
    public TimeSpan UnavailablePoolTtl { get; init; } = SettingsCatalog.UnavailablePoolTtl.Default;
    public TimeSpan FastPathGroupWait { get; init; } = SettingsCatalog.FastPathGroupWait.Default;
    public TimeSpan FastPathGroupInterval { get; init; } = SettingsCatalog.FastPathGroupInterval.Default;
    public TimeSpan FastPathRepeatInterval { get; init; } = SettingsCatalog.FastPathRepeatInterval.Default;

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

        var context = new EnvironmentReader(key => ContextString(node, key), s => Prefix + s.ContextKey);
        DeploymentSettings settings = new()
        {
            StackName = context.Get(SettingsCatalog.StackName) ?? $"NodeFleet-{scaling.ClusterName}",
            Scaling = scaling,
            ScheduleRate = context.Get(SettingsCatalog.ScheduleRate),
            NotificationEmail = context.Get(SettingsCatalog.NotificationEmail),
            SlackWebhookSecretName = context.Get(SettingsCatalog.SlackWebhookSecret),
            InstanceTypes = context.Get(SettingsCatalog.InstanceTypes),
            SpotShare = context.Get(SettingsCatalog.SpotShare),
            MasterInstanceType = context.Get(SettingsCatalog.MasterInstanceType),
            K3sVersion = context.Get(SettingsCatalog.K3sVersion),
            SshCidr = context.Get(SettingsCatalog.SshCidr),
            LeaseDuration = context.Get(SettingsCatalog.LeaseDuration),
            ReadyPollSeconds = context.Get(SettingsCatalog.ReadyPollSeconds),
            DrainPollSeconds = context.Get(SettingsCatalog.DrainPollSeconds),
            DrainTimeout = context.Get(SettingsCatalog.DrainTimeout),
            DrainGraceMargin = context.Get(SettingsCatalog.DrainGraceMargin),
            UnavailablePoolTtl = context.Get(SettingsCatalog.UnavailablePoolTtl),
            FastPathGroupWait = context.Get(SettingsCatalog.FastPathGroupWait),
            FastPathGroupInterval = context.Get(SettingsCatalog.FastPathGroupInterval),
            FastPathRepeatInterval = context.Get(SettingsCatalog.FastPathRepeatInterval),
        };
        settings = settings with { Existing = ExistingCluster.FromContext(context, key => ContextString(node, Prefix + key) is not null) };
        context.Require(settings.LeaseDuration > settings.Scaling.NodeJoinTimeout,
            $"{Prefix}leaseDuration ({SettingValue.FormatDuration(settings.LeaseDuration)}) must exceed nodeJoinTimeout ({SettingValue.FormatDuration(settings.Scaling.NodeJoinTimeout)}), or a scale-up loses its lease while waiting");
        // Alertmanager only repeats at a group flush: a shorter repeat interval would not mean what it says.
        context.Require(settings.FastPathRepeatInterval >= settings.FastPathGroupInterval,
            $"{Prefix}fastPathRepeatInterval ({SettingValue.FormatDuration(settings.FastPathRepeatInterval)}) must not be shorter than fastPathGroupInterval ({SettingValue.FormatDuration(settings.FastPathGroupInterval)}): Alertmanager repeats a notification only at a group interval");
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
    public string LaunchTemplateVersion { get; init; } = SettingsCatalog.ExistingLaunchTemplateVersion.Default;
    public required string WorkerRoleArn { get; init; }
    public required Uri KubeApiUrl { get; init; }
    public required Uri PrometheusUrl { get; init; }
    public required string KubeTokenParameterName { get; init; }
    public required string KubeCaParameterName { get; init; }

    /// <summary>Null when no <c>existing.*</c> key is set; otherwise every required one must be.</summary>
    internal static ExistingCluster? FromContext(EnvironmentReader context, Func<string, bool> isSet)
    {
        if (!SettingsCatalog.Existing.Any(k => isSet(k.ContextKey!)))
        {
            return null;
        }

        return new ExistingCluster
        {
            VpcId = context.Get(SettingsCatalog.ExistingVpcId, required: true) ?? "",
            Subnets = context.Get(SettingsCatalog.ExistingSubnets, required: true) ?? [],
            NodesSecurityGroupId = context.Get(SettingsCatalog.ExistingNodesSecurityGroupId, required: true) ?? "",
            LaunchTemplateId = context.Get(SettingsCatalog.ExistingLaunchTemplateId, required: true) ?? "",
            LaunchTemplateVersion = context.Get(SettingsCatalog.ExistingLaunchTemplateVersion),
            WorkerRoleArn = context.Get(SettingsCatalog.ExistingWorkerRoleArn, required: true) ?? "",
            KubeApiUrl = context.Get(SettingsCatalog.ExistingKubeApiUrl, required: true) ?? new Uri("https://unset.invalid/"),
            PrometheusUrl = context.Get(SettingsCatalog.ExistingPrometheusUrl, required: true) ?? new Uri("https://unset.invalid/"),
            KubeTokenParameterName = context.Get(SettingsCatalog.ExistingKubeTokenParameterName, required: true) ?? "",
            KubeCaParameterName = context.Get(SettingsCatalog.ExistingKubeCaParameterName, required: true) ?? "",
        };
    }
}
