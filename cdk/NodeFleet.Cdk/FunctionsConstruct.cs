using System.Diagnostics;
using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.JSII.Runtime.Deputy;
using Constructs;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;
using LambdaFunction = Amazon.CDK.AWS.Lambda.Function;

namespace NodeFleet.Cdk;

public sealed record FunctionsProps
{
    public required DeploymentSettings Settings { get; init; }
    public required string RepositoryRoot { get; init; }
    public required IClusterResources Cluster { get; init; }
    public required StateConstruct State { get; init; }
    public required NotificationsConstruct Notifications { get; init; }
}

/// <summary>
/// One Lambda per step on the dotnet10 managed runtime, each with its own role granting only the
/// calls that step makes. The cluster steps run in the VPC; the others outside it.
/// </summary>
public sealed class FunctionsConstruct : Construct
{
    /// <summary>Every step, as named in the state machine's substitutions (<c>${StepFunctionArn}</c>).</summary>
    public static readonly string[] Steps =
        ["CollectMetrics", "Decide", "AcquireLock", "LaunchNodes", "CheckNodesReady", "DrainNode", "TerminateNode", "UpdateState", "Notify"];

    private static readonly string[] ClusterSteps = ["CollectMetrics", "CheckNodesReady", "DrainNode"];

    public FunctionsConstruct(Construct scope, string id, FunctionsProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;
        var cluster = props.Cluster;
        var table = props.State.Table;
        var common = new Dictionary<string, string>(SettingsCatalog.ToEnvironment(settings.Scaling));
        var clusterAccess = new Dictionary<string, string>
        {
            ["NODEFLEET_KUBE_API_URL"] = cluster.KubeApiUrl,
            ["NODEFLEET_KUBE_TOKEN_PARAMETER"] = cluster.KubeToken.Name,
            ["NODEFLEET_KUBE_CA_PARAMETER"] = cluster.KubeCa.Name,
        };
        var stateTable = new Dictionary<string, string> { ["NODEFLEET_STATE_TABLE"] = table.TableName };

        var environment = new Dictionary<string, Dictionary<string, string>>
        {
            ["CollectMetrics"] = Merge(clusterAccess, stateTable, new() { ["NODEFLEET_PROMETHEUS_URL"] = cluster.PrometheusUrl }),
            ["Decide"] = [],
            ["AcquireLock"] = Merge(stateTable, new() { ["NODEFLEET_LEASE_DURATION"] = SettingValue.FormatDuration(settings.LeaseDuration) }),
            ["LaunchNodes"] = Merge(stateTable, new()
            {
                ["NODEFLEET_LAUNCH_TEMPLATE_ID"] = cluster.LaunchTemplateId,
                ["NODEFLEET_LAUNCH_TEMPLATE_VERSION"] = cluster.LaunchTemplateVersion,
                ["NODEFLEET_WORKER_SUBNETS"] = cluster.WorkerSubnets,
                ["NODEFLEET_INSTANCE_TYPES"] = string.Join(",", settings.InstanceTypes),
                ["NODEFLEET_SPOT_SHARE"] = settings.SpotShare.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }),
            ["CheckNodesReady"] = clusterAccess,
            ["DrainNode"] = Merge(clusterAccess, new() { ["NODEFLEET_DRAIN_TIMEOUT"] = SettingValue.FormatDuration(settings.DrainTimeout) }),
            ["TerminateNode"] = [],
            ["UpdateState"] = stateTable,
            ["Notify"] = props.Notifications.SlackWebhook is { } slack
                ? new() { ["NODEFLEET_TOPIC_ARN"] = props.Notifications.Topic.TopicArn, ["NODEFLEET_SLACK_WEBHOOK_SECRET"] = slack.SecretName }
                : new() { ["NODEFLEET_TOPIC_ARN"] = props.Notifications.Topic.TopicArn },
        };

        foreach (var step in Steps)
        {
            var inVpc = ClusterSteps.Contains(step);
            var role = new Role(this, $"{step}Role", new RoleProps
            {
                AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
                Description = $"NodeFleet {step}: only the calls this step makes",
                ManagedPolicies = [ManagedPolicy.FromAwsManagedPolicyName(inVpc ? "service-role/AWSLambdaVPCAccessExecutionRole" : "service-role/AWSLambdaBasicExecutionRole")],
            });
            Roles[step] = role;
            var function = new LambdaFunction(this, step, new FunctionProps
            {
                FunctionName = $"nodefleet-{settings.Scaling.ClusterName}-{step}",
                Description = $"NodeFleet step {step}",
                Runtime = new Runtime("dotnet10", RuntimeFamily.DOTNET_CORE),
                Handler = HandlerOf(step),
                Code = Code.FromAsset(Path.Combine(props.RepositoryRoot, "functions", step), new Amazon.CDK.AWS.S3.Assets.AssetOptions
                {
                    AssetHashType = AssetHashType.OUTPUT,
                    Bundling = new BundlingOptions
                    {
                        Image = DockerImage.FromRegistry("unused-local-bundling"),
                        Local = new DotnetPublish(Path.Combine(props.RepositoryRoot, "functions", step, $"NodeFleet.{step}.csproj")),
                    },
                }),
                Architecture = Architecture.X86_64,
                MemorySize = 512,
                Timeout = Duration.Seconds(30),
                Role = role,
                Environment = Merge(common, environment[step]),
                LogGroup = new LogGroup(this, $"{step}Logs", new LogGroupProps { Retention = RetentionDays.ONE_MONTH, RemovalPolicy = RemovalPolicy.DESTROY }),
                Vpc = inVpc ? cluster.Vpc : null,
                VpcSubnets = inVpc ? new SubnetSelection { SubnetType = SubnetType.PUBLIC } : null,
                AllowPublicSubnet = inVpc ? true : null,
                SecurityGroups = inVpc ? [cluster.Functions] : null,
            });
            Functions[step] = function;
        }

        Grant("CollectMetrics", ["dynamodb:GetItem"], table.TableArn);
        Grant("AcquireLock", ["dynamodb:GetItem", "dynamodb:UpdateItem"], table.TableArn);
        Grant("LaunchNodes", ["dynamodb:GetItem", "dynamodb:UpdateItem"], table.TableArn);
        Grant("UpdateState", ["dynamodb:GetItem", "dynamodb:UpdateItem"], table.TableArn);
        var stack = Stack.Of(this);
        foreach (var step in ClusterSteps)
        {
            Grant(step, ["ssm:GetParameter"], cluster.KubeToken.Arn, cluster.KubeCa.Arn);
            Roles[step].AddToPolicy(SecureParameter.ViaSsm(stack, "kms:Decrypt"));
        }

        var instances = $"arn:{stack.Partition}:ec2:{stack.Region}:{stack.Account}:instance/*";
        Grant("LaunchNodes", ["ec2:CreateFleet", "ec2:RunInstances"], "*");
        Grant("LaunchNodes", ["ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions"], "*");
        Roles["LaunchNodes"].AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ec2:CreateTags"],
            Resources = ["*"],
            Conditions = new Dictionary<string, object> { ["StringEquals"] = new Dictionary<string, object> { ["ec2:CreateAction"] = new[] { "CreateFleet", "RunInstances" } } },
        }));
        Roles["LaunchNodes"].AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["iam:PassRole"],
            Resources = [cluster.WorkerRoleArn],
            Conditions = new Dictionary<string, object> { ["StringEquals"] = new Dictionary<string, object> { ["iam:PassedToService"] = "ec2.amazonaws.com" } },
        }));
        Grant("TerminateNode", ["ec2:DescribeInstances"], "*");
        Roles["TerminateNode"].AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ec2:TerminateInstances"],
            Resources = [instances],
            Conditions = new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object>
                {
                    [$"aws:ResourceTag/{FleetTags.Cluster}"] = settings.Scaling.ClusterName,
                    [$"aws:ResourceTag/{FleetTags.Managed}"] = "true",
                },
            },
        }));
        Grant("Notify", ["sns:Publish"], props.Notifications.Topic.TopicArn);
        if (props.Notifications.SlackWebhook is { } webhook)
        {
            Grant("Notify", ["secretsmanager:GetSecretValue"], ArnOf(webhook));
        }
    }

    public Dictionary<string, LambdaFunction> Functions { get; } = [];

    public Dictionary<string, Role> Roles { get; } = [];

    /// <summary>The Lambda handler string of a step: assembly::type::method.</summary>
    public static string HandlerOf(string step) => $"NodeFleet.{step}::NodeFleet.{step}.Function::FunctionHandler";

    /// <summary>A secret's ARN for IAM: the full one when known; a secret imported by name ends in six random characters.</summary>
    private static string ArnOf(Amazon.CDK.AWS.SecretsManager.ISecret secret) => secret.SecretFullArn ?? $"{secret.SecretArn}-??????";

    private void Grant(string step, string[] actions, params string[] resources) =>
        Roles[step].AddToPolicy(new PolicyStatement(new PolicyStatementProps { Actions = actions, Resources = resources }));

    private static Dictionary<string, string> Merge(params Dictionary<string, string>[] parts)
    {
        var merged = new Dictionary<string, string>();
        foreach (var part in parts)
        {
            foreach (var (key, value) in part)
            {
                merged[key] = value;
            }
        }

        return merged;
    }
}

/// <summary>Packages a step during synth with `dotnet publish` (framework-dependent, for the dotnet10 managed runtime); no Docker.</summary>
internal sealed class DotnetPublish(string project) : DeputyBase, ILocalBundling
{
    public bool TryBundle(string outputDir, IBundlingOptions options)
    {
        using var publish = Process.Start(new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", "-o", outputDir, "--nologo", "-v", "q"])
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var output = publish.StandardOutput.ReadToEndAsync();
        var error = publish.StandardError.ReadToEnd();
        publish.WaitForExit();
        return publish.ExitCode == 0
            ? true
            : throw new InvalidOperationException($"dotnet publish {project} failed: {output.Result} {error}");
    }
}
