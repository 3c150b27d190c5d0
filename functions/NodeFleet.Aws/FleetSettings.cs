using NodeFleet.Core.Settings;

namespace NodeFleet.Aws;

/// <summary>
/// What the AWS steps need beyond the scaling policy, from the environment variables the stack
/// sets (defaults and validators: <see cref="SettingsCatalog"/>). Every missing or malformed one
/// is reported at once.
/// </summary>
public sealed record FleetSettings
{
    public required string ClusterName { get; init; }
    public string StateTable { get; init; } = "";
    public string LaunchTemplateId { get; init; } = "";
    public string LaunchTemplateVersion { get; init; } = SettingsCatalog.LaunchTemplateVersion.Default;

    /// <summary>Worker subnet per zone, in the order zones are preferred on ties.</summary>
    public IReadOnlyList<(string Zone, string SubnetId)> Subnets { get; init; } = [];

    public IReadOnlyList<string> InstanceTypes { get; init; } = [];
    public double SpotShare { get; init; } = SettingsCatalog.SpotShare.Default;
    public string TopicArn { get; init; } = "";
    public string? SlackWebhookSecret { get; init; }
    public TimeSpan LeaseDuration { get; init; } = SettingsCatalog.LeaseDuration.Default;
    public int HistorySize { get; init; } = SettingsCatalog.HistorySize.Default;
    public TimeSpan UnavailablePoolTtl { get; init; } = SettingsCatalog.UnavailablePoolTtl.Default;

    /// <summary>Reads the settings in <paramref name="required"/> as mandatory (what the step cannot run without); the rest keep their defaults when unset.</summary>
    public static FleetSettings FromEnvironment(Func<string, string?> get, params ISetting[] required)
    {
        var env = new EnvironmentReader(get);
        bool Needed(ISetting setting) => required.Contains(setting);
        var settings = new FleetSettings
        {
            // The scaling settings alone: the platform values are this reader's own, reported below by name.
            ClusterName = SettingsCatalog.ScalingFromEnvironment(get).ClusterName,
            StateTable = env.Get(SettingsCatalog.StateTable, Needed(SettingsCatalog.StateTable)) ?? "",
            LaunchTemplateId = env.Get(SettingsCatalog.LaunchTemplateId, Needed(SettingsCatalog.LaunchTemplateId)) ?? "",
            LaunchTemplateVersion = env.Get(SettingsCatalog.LaunchTemplateVersion),
            Subnets = env.Get(SettingsCatalog.WorkerSubnets, Needed(SettingsCatalog.WorkerSubnets)) ?? [],
            InstanceTypes = env.Get(SettingsCatalog.InstanceTypes, Needed(SettingsCatalog.InstanceTypes)),
            SpotShare = env.Get(SettingsCatalog.SpotShare),
            TopicArn = env.Get(SettingsCatalog.TopicArn, Needed(SettingsCatalog.TopicArn)) ?? "",
            SlackWebhookSecret = env.Get(SettingsCatalog.SlackWebhookSecret),
            LeaseDuration = env.Get(SettingsCatalog.LeaseDuration),
            HistorySize = env.Get(SettingsCatalog.HistorySize),
            UnavailablePoolTtl = env.Get(SettingsCatalog.UnavailablePoolTtl),
        };
        return env.Valid(settings);
    }
}
