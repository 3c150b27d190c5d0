using System.Globalization;

namespace NodeFleet.Core.Settings;

// The settings besides the scaling ones: deployment choices (cdk.json context), values the stack
// passes to the functions (environment), and those that are both. Each is declared once here.
public static partial class SettingsCatalog
{
    public static readonly Setting<string?> StackName = new("stackName", null, "", "CloudFormation stack name (default `NodeFleet-<clusterName>`).", Text);
    public static readonly Setting<TimeSpan> ScheduleRate = new("scheduleRate", null, "2m", "How often a tick runs (whole minutes, at least 1m: EventBridge's rate unit).",
        v => SettingValue.Duration(v) is var d && d >= TimeSpan.FromMinutes(1) && d.Seconds == 0 ? d : throw new FormatException($"'{v}' is not a whole number of minutes, at least 1m (EventBridge's rate unit)"));
    public static readonly Setting<string?> NotificationEmail = new("notificationEmail", null, "", "Email address subscribed to the topic.",
        v => v.Contains('@', StringComparison.Ordinal) ? v : throw new FormatException($"'{v}' is not an email address"));
    public static readonly Setting<string?> SlackWebhookSecret = new("slackWebhookSecretName", "NODEFLEET_SLACK_WEBHOOK_SECRET", "", "Secrets Manager secret holding a Slack incoming-webhook URL; Notify reads it at run time.", Text);
    public static readonly Setting<IReadOnlyList<string>> InstanceTypes = new("instanceTypes", "NODEFLEET_INSTANCE_TYPES", "t3.large,t3a.large,m5.large",
        "Worker types offered to EC2 Fleet, comma-separated (keep them the shape of workerCpuMillis/workerMemoryMiB).", ParseInstanceTypes);
    public static readonly Setting<double> SpotShare = new("spotShare", "NODEFLEET_SPOT_SHARE", "70%", "Share of each launch asked for as spot (0% to 100%).",
        v => SettingValue.Fraction(v) is var f && f is >= 0 and <= 1 ? f : throw new FormatException($"'{v}' is not between 0% and 100%"));
    public static readonly Setting<string> MasterInstanceType = new("masterInstanceType", null, "t3.medium", "Instance type of the K3s master.", v => v);
    public static readonly Setting<string> K3sVersion = new("k3sVersion", null, "v1.31.4+k3s1", "K3s on master and workers.", v => v);
    public static readonly Setting<string?> SshCidr = new("sshCidr", null, "", "CIDR allowed to SSH to the nodes; none by default.",
        v => System.Net.IPNetwork.TryParse(v, out _) ? v : throw new FormatException($"'{v}' is not a CIDR block"));
    public static readonly Setting<TimeSpan> LeaseDuration = new("leaseDuration", "NODEFLEET_LEASE_DURATION", "20m",
        "How long a lease holds before another execution may take it over; must exceed nodeJoinTimeout.", PositiveDuration);
    public static readonly Setting<int> ReadyPollSeconds = new("readyPollInterval", null, "30s", "Wait between CheckNodesReady calls.", WholeSeconds);
    public static readonly Setting<int> DrainPollSeconds = new("drainPollInterval", null, "20s", "Wait between DrainNode calls.", WholeSeconds);
    public static readonly Setting<TimeSpan> UnavailablePoolTtl = new("unavailablePoolTtl", "NODEFLEET_UNAVAILABLE_POOL_TTL", "3m",
        "A pool (instance type, zone, spot or on-demand) that answered a capacity error is tried last by launches for this long.", PositiveDuration);
    public static readonly Setting<TimeSpan> DrainTimeout = new("drainTimeout", "NODEFLEET_DRAIN_TIMEOUT", "10m", "A drain with pods left after this (refused by a budget, or still terminating) is Overdue: aborted and uncordoned; nothing is killed.", PositiveDuration);
    public static readonly Setting<TimeSpan> DrainGraceMargin = new("drainGraceMargin", "NODEFLEET_DRAIN_GRACE_MARGIN", "15s",
        "After the evictions, a drain waits until the evicted pods are gone, or until each one's deletionTimestamp (eviction plus its terminationGracePeriodSeconds) plus this margin (the kubelet's kill and the API's confirmation), before the instance is terminated; capped by drainTimeout.",
        v => SettingValue.Duration(v) is var d && d >= TimeSpan.Zero ? d : throw new FormatException($"'{v}' must not be negative"));
    // The fast path (Contracts/FastPath): Alertmanager's timing on the master, which also bounds what a pending spell costs.
    public static readonly Setting<TimeSpan> FastPathGroupWait = new("fastPathGroupWait", null, "1s",
        "Alertmanager waits this long after the first pending-pods alert before starting an execution (pods of one rollout arrive in the same rule evaluation anyway).", WholeSecondsDuration);
    public static readonly Setting<TimeSpan> FastPathGroupInterval = new("fastPathGroupInterval", null, "15s",
        "At most one fast-path execution per this interval while new pods keep becoming unschedulable: 3600 s / interval per hour at most (240 at 15s).",
        v => WholeSecondsDuration(v) is var d && d >= TimeSpan.FromSeconds(5) ? d : throw new FormatException($"'{v}' must be at least 5s"));
    public static readonly Setting<TimeSpan> FastPathRepeatInterval = new("fastPathRepeatInterval", null, "5m",
        "While the same pods stay pending, the fast path starts an execution again only after this (12 an hour at 5m); the schedule runs meanwhile.",
        v => WholeSecondsDuration(v) is var d && d >= TimeSpan.FromMinutes(1) ? d : throw new FormatException($"'{v}' must be at least 1m"));

    public static readonly Setting<string?> StateTable = new(null, "NODEFLEET_STATE_TABLE", "", "DynamoDB table of the lease, cooldowns, in-flight launches and history (partition key `pk`, string).", Text, Required: true);
    public static readonly Setting<int> HistorySize = new(null, "NODEFLEET_HISTORY_SIZE", "20", "Decisions kept in the state item.",
        v => SettingValue.WholeNumber(v) is var n && n >= 1 ? n : throw new FormatException($"'{v}' must be 1 or more"));
    public static readonly Setting<string?> LaunchTemplateId = new(null, "NODEFLEET_LAUNCH_TEMPLATE_ID", "", "The worker launch template.", Text, Required: true);
    public static readonly Setting<string> LaunchTemplateVersion = new(null, "NODEFLEET_LAUNCH_TEMPLATE_VERSION", "$Default", "Its version.", v => v);
    public static readonly Setting<IReadOnlyList<(string Zone, string SubnetId)>> WorkerSubnets = new(null, "NODEFLEET_WORKER_SUBNETS", "",
        "`zone=subnet-id` pairs, comma-separated; ties go to the zone listed first.", SettingValue.ZoneSubnets, Required: true);
    public static readonly Setting<string?> TopicArn = new(null, "NODEFLEET_TOPIC_ARN", "", "SNS topic Notify publishes to.", Text, Required: true);
    public static readonly Setting<Uri?> PrometheusUrl = new(null, "NODEFLEET_PROMETHEUS_URL", "", "Prometheus base URL (on the master, reachable only from the cluster steps).", v => SettingValue.HttpUrl(v), Required: true);
    public static readonly Setting<TimeSpan> PrometheusTimeout = new(null, "NODEFLEET_PROMETHEUS_TIMEOUT", "5s", "Per Prometheus query.", PositiveDuration);
    public static readonly Setting<Uri?> KubeApiUrl = new(null, "NODEFLEET_KUBE_API_URL", "", "Kubernetes API server URL.", v => SettingValue.HttpUrl(v), Required: true);
    public static readonly Setting<string?> KubeTokenParameter = new(null, "NODEFLEET_KUBE_TOKEN_PARAMETER", "", "SSM SecureString parameter holding NodeFleet's ServiceAccount token (or NODEFLEET_KUBE_TOKEN_FILE).", Text);
    public static readonly Setting<string?> KubeTokenFile = new(null, "NODEFLEET_KUBE_TOKEN_FILE", "", "A file holding the token, for local runs (instead of the parameter).", Text);
    public static readonly Setting<string?> KubeCaParameter = new(null, "NODEFLEET_KUBE_CA_PARAMETER", "", "SSM SecureString parameter holding the cluster CA, PEM (or NODEFLEET_KUBE_CA_FILE).", Text);
    public static readonly Setting<string?> KubeCaFile = new(null, "NODEFLEET_KUBE_CA_FILE", "", "A file holding the CA, for local runs (instead of the parameter).", Text);
    public static readonly Setting<TimeSpan> KubeTimeout = new(null, "NODEFLEET_KUBE_TIMEOUT", "5s", "Per Kubernetes API call.", PositiveDuration);
    public static readonly Setting<string?> AwsRegion = new(null, "AWS_REGION", "", "Region of every AWS call (Lambda sets it; set it for local runs).", Text, Required: true);
    public static readonly Setting<string?> AwsAccount = new(null, "NODEFLEET_ACCOUNT", "", "The account the stack is deployed in: CollectMetrics acts on EC2 events only from it (and from AWS_REGION).",
        v => v.Length == 12 && v.All(char.IsAsciiDigit) ? v : throw new FormatException($"'{v}' is not a 12-digit AWS account id"));
    public static readonly Setting<Uri?> AwsEndpointUrl = new(null, "AWS_ENDPOINT_URL", "", "Send every AWS call to one endpoint: how the tests and the demo reach moto_server.",
        v => Uri.TryCreate(v, UriKind.Absolute, out var uri) ? uri : throw new FormatException($"'{v}' is not an absolute URL"));

    // Joining a cluster that already exists: all of these (the version may be left out) or none.
    public static readonly Setting<string?> ExistingVpcId = new("existing.vpcId", null, "", "The cluster's VPC.", Text);
    public static readonly Setting<IReadOnlyList<(string Zone, string SubnetId)>> ExistingSubnets = new("existing.subnets", null, "",
        "`zone=subnet-id,...`: where workers launch and the cluster steps run; they must already reach DynamoDB and SSM.", SettingValue.ZoneSubnets);
    public static readonly Setting<string?> ExistingNodesSecurityGroupId = new("existing.nodesSecurityGroupId", null, "", "The nodes' security group (gains ingress from the cluster steps on the API and Prometheus ports).", Text);
    public static readonly Setting<string?> ExistingLaunchTemplateId = new("existing.launchTemplateId", null, "", "The worker launch template; it must start workers the way scripts/worker-user-data.sh does.", Text);
    public static readonly Setting<string> ExistingLaunchTemplateVersion = new("existing.launchTemplateVersion", null, "$Default", "Its version.", v => v);
    public static readonly Setting<string?> ExistingWorkerRoleArn = new("existing.workerRoleArn", null, "", "The workers' IAM role (LaunchNodes passes it).", Text);
    public static readonly Setting<Uri?> ExistingKubeApiUrl = new("existing.kubeApiUrl", null, "", "The Kubernetes API server URL.", v => SettingValue.HttpUrl(v));
    public static readonly Setting<Uri?> ExistingPrometheusUrl = new("existing.prometheusUrl", null, "", "Prometheus' base URL.", v => SettingValue.HttpUrl(v));
    public static readonly Setting<string?> ExistingKubeTokenParameterName = new("existing.kubeTokenParameterName", null, "", "SSM SecureString parameter holding NodeFleet's ServiceAccount token.", Text);
    public static readonly Setting<string?> ExistingKubeCaParameterName = new("existing.kubeCaParameterName", null, "", "SSM SecureString parameter holding the cluster CA (PEM).", Text);

    public static IReadOnlyList<ISetting> Existing { get; } =
    [
        ExistingVpcId, ExistingSubnets, ExistingNodesSecurityGroupId, ExistingLaunchTemplateId, ExistingLaunchTemplateVersion,
        ExistingWorkerRoleArn, ExistingKubeApiUrl, ExistingPrometheusUrl, ExistingKubeTokenParameterName, ExistingKubeCaParameterName,
    ];

    /// <summary>Deployment choices and what the stack passes to the functions besides the scaling settings.</summary>
    public static IReadOnlyList<ISetting> Platform { get; } =
    [
        StackName, ScheduleRate, NotificationEmail, SlackWebhookSecret, InstanceTypes, SpotShare, MasterInstanceType, K3sVersion, SshCidr,
        FastPathGroupWait, FastPathGroupInterval, FastPathRepeatInterval,
        LeaseDuration, ReadyPollSeconds, DrainPollSeconds, DrainTimeout, DrainGraceMargin, UnavailablePoolTtl,
        StateTable, HistorySize, LaunchTemplateId, LaunchTemplateVersion, WorkerSubnets, TopicArn,
        PrometheusUrl, PrometheusTimeout, KubeApiUrl, KubeTokenParameter, KubeTokenFile, KubeCaParameter, KubeCaFile, KubeTimeout,
        AwsRegion, AwsAccount, AwsEndpointUrl,
        .. Existing,
    ];

    private static string? Text(string value) => value;

    private static TimeSpan PositiveDuration(string value) =>
        SettingValue.Duration(value) is var d && d > TimeSpan.Zero ? d : throw new FormatException($"'{value}' must be positive");

    private static TimeSpan WholeSecondsDuration(string value) =>
        SettingValue.Duration(value) is var d && d >= TimeSpan.FromSeconds(1) ? d : throw new FormatException($"'{value}' must be at least 1s");

    private static int WholeSeconds(string value) =>
        SettingValue.Duration(value) is var d && d >= TimeSpan.FromSeconds(1) ? (int)d.TotalSeconds : throw new FormatException($"'{value}' must be at least 1s");

    private static IReadOnlyList<string> ParseInstanceTypes(string text)
    {
        var types = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return types.Length > 0 ? types : throw new FormatException("lists no instance type");
    }

    /// <summary>The value a setting carries to a function's environment.</summary>
    public static string Format(TimeSpan value) => SettingValue.FormatDuration(value);

    public static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
