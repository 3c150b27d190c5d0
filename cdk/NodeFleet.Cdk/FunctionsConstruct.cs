using System.Diagnostics;
using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.JSII.Runtime.Deputy;
using Constructs;
using NodeFleet.Core.Workflow;
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
/// One Lambda per step of <c>functions/steps.json</c> (<see cref="StepCatalog"/>) on the dotnet10
/// managed runtime: its handler, its environment and its role's statements come from there, with
/// <c>${...}</c> filled from this stack's resources. The cluster steps run in the VPC; the others outside it.
/// </summary>
public sealed partial class FunctionsConstruct : Construct
{
    public FunctionsConstruct(Construct scope, string id, FunctionsProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;
        var cluster = props.Cluster;
        var common = SettingsCatalog.ToEnvironment(settings.Scaling);
        var values = Values(props);
        var lists = Lists(props);

        foreach (var step in StepCatalog.All)
        {
            var role = new Role(this, $"{step.Name}Role", new RoleProps
            {
                AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
                Description = $"NodeFleet {step.Name}: only the calls this step makes",
                ManagedPolicies = [ManagedPolicy.FromAwsManagedPolicyName(step.Vpc ? "service-role/AWSLambdaVPCAccessExecutionRole" : "service-role/AWSLambdaBasicExecutionRole")],
            });
            foreach (var statement in step.Iam)
            {
                if (Fill(statement.Resources, values, lists) is { } resources)
                {
                    role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
                    {
                        Actions = [.. statement.Actions],
                        Resources = [.. resources],
                        Conditions = statement.Conditions?.ToDictionary(c => c.Key, c => (object)c.Value.ToDictionary(v => Fill(v.Key, values)!, v => ConditionValue(v.Value, values, lists))),
                    }));
                }
                else if (!statement.Optional)
                {
                    throw new InvalidOperationException($"steps.json: {step.Name} needs {string.Join(", ", statement.Resources)}, which this stack does not have");
                }
            }

            var environment = new Dictionary<string, string>(common);
            foreach (var (name, template) in step.Environment)
            {
                if (Fill(template, values) is { } value)
                {
                    environment[name] = value;
                }
                else if (!step.OptionalEnvironment.Contains(name))
                {
                    throw new InvalidOperationException($"steps.json: {step.Name}'s {name} needs {template}, which this stack does not have");
                }
            }

            Roles[step.Name] = role;
            Functions[step.Name] = new LambdaFunction(this, step.Name, new FunctionProps
            {
                FunctionName = $"nodefleet-{settings.Scaling.ClusterName}-{step.Name}",
                Description = $"NodeFleet step {step.Name}: {step.Does}",
                Runtime = new Runtime("dotnet10", RuntimeFamily.DOTNET_CORE),
                Handler = step.Handler,
                Code = Code.FromAsset(Path.Combine(props.RepositoryRoot, "functions", step.Name), new Amazon.CDK.AWS.S3.Assets.AssetOptions
                {
                    AssetHashType = AssetHashType.OUTPUT,
                    Bundling = new BundlingOptions
                    {
                        Image = DockerImage.FromRegistry("unused-local-bundling"),
                        Local = new DotnetPublish(Path.Combine(props.RepositoryRoot, "functions", step.Name, $"NodeFleet.{step.Name}.csproj")),
                    },
                }),
                Architecture = Architecture.X86_64,
                MemorySize = 512,
                Timeout = Duration.Seconds(step.TimeoutSeconds),
                Role = role,
                Environment = environment,
                LogGroup = new LogGroup(this, $"{step.Name}Logs", new LogGroupProps { Retention = RetentionDays.ONE_MONTH, RemovalPolicy = RemovalPolicy.DESTROY }),
                Vpc = step.Vpc ? cluster.Vpc : null,
                VpcSubnets = step.Vpc ? new SubnetSelection { SubnetType = SubnetType.PUBLIC } : null,
                AllowPublicSubnet = step.Vpc ? true : null,
                SecurityGroups = step.Vpc ? [cluster.Functions] : null,
            });
        }
    }

    public Dictionary<string, LambdaFunction> Functions { get; } = [];

    public Dictionary<string, Role> Roles { get; } = [];

    /// <summary>What <c>${...}</c> stands for in steps.json, in this stack; an optional part left undeployed has no value.</summary>
    private Dictionary<string, string> Values(FunctionsProps props)
    {
        var settings = props.Settings;
        var cluster = props.Cluster;
        var stack = Stack.Of(this);
        var values = new Dictionary<string, string>
        {
            ["Partition"] = stack.Partition,
            ["Region"] = stack.Region,
            ["Account"] = stack.Account,
            ["ClusterName"] = settings.Scaling.ClusterName,
            ["StateTableName"] = props.State.Table.TableName,
            ["StateTableArn"] = props.State.Table.TableArn,
            ["KubeApiUrl"] = cluster.KubeApiUrl,
            ["PrometheusUrl"] = cluster.PrometheusUrl,
            ["KubeTokenParameterName"] = cluster.KubeToken.Name,
            ["KubeCaParameterName"] = cluster.KubeCa.Name,
            ["KubeTokenParameterArn"] = cluster.KubeToken.Arn,
            ["KubeCaParameterArn"] = cluster.KubeCa.Arn,
            ["KmsKeyArns"] = stack.FormatArn(new ArnComponents { Service = "kms", Resource = "key", ResourceName = "*" }),
            ["SsmService"] = $"ssm.{stack.Region}.amazonaws.com",
            ["LeaseDuration"] = SettingValue.FormatDuration(settings.LeaseDuration),
            ["LaunchTemplateId"] = cluster.LaunchTemplateId,
            ["LaunchTemplateVersion"] = cluster.LaunchTemplateVersion,
            ["WorkerSubnets"] = cluster.WorkerSubnets,
            ["InstanceTypes"] = string.Join(",", settings.InstanceTypes),
            ["SpotShare"] = settings.SpotShare.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["WorkerRoleArn"] = cluster.WorkerRoleArn,
            ["DrainTimeout"] = SettingValue.FormatDuration(settings.DrainTimeout),
            ["DrainGraceMargin"] = SettingValue.FormatDuration(settings.DrainGraceMargin),
            ["UnavailablePoolTtl"] = SettingValue.FormatDuration(settings.UnavailablePoolTtl),
            ["TopicArn"] = props.Notifications.Topic.TopicArn,
        };
        if (props.Notifications.SlackWebhook is { } slack)
        {
            values["SlackWebhookSecretName"] = slack.SecretName;
            values["SlackWebhookSecretArn"] = ArnOf(slack);
        }

        return values;
    }

    /// <summary>What a list element <c>${Name}</c> in steps.json stands for: one element per value.</summary>
    private Dictionary<string, string[]> Lists(FunctionsProps props)
    {
        var stack = Stack.Of(this);
        return new Dictionary<string, string[]>
        {
            ["InstanceTypeList"] = [.. props.Settings.InstanceTypes],
            ["WorkerSubnetArns"] = [.. props.Cluster.WorkerSubnetIds.Select(id => stack.FormatArn(new ArnComponents { Service = "ec2", Resource = "subnet", ResourceName = id }))],
        };
    }

    /// <summary>The template with every <c>${Name}</c> replaced, or null when one has no value here.</summary>
    private static string? Fill(string template, Dictionary<string, string> values)
    {
        var missing = false;
        var filled = Placeholder().Replace(template, m =>
        {
            if (values.TryGetValue(m.Groups[1].Value, out var value))
            {
                return value;
            }

            missing = true;
            return "";
        });
        return missing ? null : filled;
    }

    private static List<string>? Fill(IEnumerable<string> templates, Dictionary<string, string> values, Dictionary<string, string[]> lists)
    {
        var filled = new List<string>();
        foreach (var template in templates)
        {
            if (Placeholder().Match(template) is { Success: true } whole && whole.Length == template.Length && lists.TryGetValue(whole.Groups[1].Value, out var list))
            {
                filled.AddRange(list);
                continue;
            }

            if (Fill(template, values) is not { } value)
            {
                return null;
            }

            filled.Add(value);
        }

        return filled;
    }

    private static object ConditionValue(System.Text.Json.JsonElement value, Dictionary<string, string> values, Dictionary<string, string[]> lists) =>
        value.ValueKind == System.Text.Json.JsonValueKind.Array
            ? Fill(value.EnumerateArray().Select(v => v.GetString()!), values, lists)!.ToArray()
            : Fill(value.GetString()!, values)!;

    [System.Text.RegularExpressions.GeneratedRegex(@"\$\{(\w+)\}")]
    private static partial System.Text.RegularExpressions.Regex Placeholder();

    /// <summary>A secret's ARN for IAM: the full one when known; a secret imported by name ends in six random characters.</summary>
    private static string ArnOf(Amazon.CDK.AWS.SecretsManager.ISecret secret) => secret.SecretFullArn ?? $"{secret.SecretArn}-??????";
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
