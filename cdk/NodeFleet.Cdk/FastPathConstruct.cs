using System.Text.RegularExpressions;
using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Pipes;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Amazon.CDK.AWS.SQS;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Cdk;

/// <summary>What the master installs for the fast path: the rule Prometheus evaluates and Alertmanager's rendered config.</summary>
public sealed record MasterAlerting(string Rules, string AlertmanagerConfig);

/// <summary>
/// The node that runs Alertmanager: its instance role is the only publisher to the alerts topic,
/// and its user data installs what <see cref="FastPathConstruct"/> renders.
/// </summary>
public interface IAlertingHost
{
    IRole MasterRole { get; }

    void InstallAlerting(MasterAlerting alerting);
}

public sealed record FastPathProps
{
    public required DeploymentSettings Settings { get; init; }

    /// <summary>The repository root, where scripts/alerting/ holds the rule and Alertmanager's config.</summary>
    public required string RepositoryRoot { get; init; }

    /// <summary>What the Pipe starts.</summary>
    public required IStateMachine StateMachine { get; init; }

    /// <summary>The master; null for an existing cluster, whose operator grants its own master publish on the topic.</summary>
    public required IAlertingHost? Host { get; init; }
}

/// <summary>
/// The fast path for pending pods (<see cref="FastPath"/>): Alertmanager on the master publishes to
/// an SNS topic of its own (not the notifications topic, so nothing else can start executions
/// through it), which delivers raw to an SQS queue, which an EventBridge Pipe drains into
/// StartExecution. No Lambda and no credentials in the cluster besides the master's instance role,
/// which may publish to this topic and nothing else new.
/// </summary>
public sealed class FastPathConstruct : Construct
{
    /// <summary>
    /// A pending-pods message older than this is worthless: the schedule has ticked since, and
    /// Alertmanager repeats while the pods stay pending.
    /// </summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A message the Pipe could not start an execution for is received again after this; a
    /// fire-and-forget StartExecution takes well under a second, so a short timeout retries soon.
    /// </summary>
    public static readonly TimeSpan VisibilityTimeout = TimeSpan.FromSeconds(30);

    public FastPathConstruct(Construct scope, string id, FastPathProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;
        var stack = Stack.Of(this);

        Topic = new Topic(this, "Topic", new TopicProps
        {
            DisplayName = $"NodeFleet {settings.Scaling.ClusterName} pending pods",
        });
        // TLS only. Written out: TopicProps.EnforceSSL adds no topic policy in Amazon.CDK.Lib 2.160.
        Topic.AddToResourcePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Effect = Effect.DENY,
            Principals = [new AnyPrincipal()],
            Actions = ["sns:Publish"],
            Resources = [Topic.TopicArn],
            Conditions = new Dictionary<string, object>
            {
                ["Bool"] = new Dictionary<string, object> { ["aws:SecureTransport"] = "false" },
            },
        }));
        // SQS-managed encryption: SNS can deliver to it without a key policy of our own.
        Queue = new Queue(this, "Queue", new QueueProps
        {
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
            RetentionPeriod = Duration.Seconds(Retention.TotalSeconds),
            VisibilityTimeout = Duration.Seconds(VisibilityTimeout.TotalSeconds),
        });
        // The subscription also writes the queue policy: sqs:SendMessage for SNS, only from this topic (aws:SourceArn).
        Topic.AddSubscription(new SqsSubscription(Queue, new SqsSubscriptionProps { RawMessageDelivery = true }));

        PipeRole = new Role(this, "PipeRole", new RoleProps
        {
            Description = "NodeFleet fast path: read the pending-pods queue, start the state machine",
            AssumedBy = new ServicePrincipal("pipes.amazonaws.com", new ServicePrincipalOpts
            {
                Conditions = new Dictionary<string, object>
                {
                    ["StringEquals"] = new Dictionary<string, object> { ["aws:SourceAccount"] = stack.Account },
                },
            }),
        });
        PipeRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            Resources = [Queue.QueueArn],
        }));
        PipeRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["states:StartExecution"],
            Resources = [props.StateMachine.StateMachineArn],
        }));

        Pipe = new CfnPipe(this, "Pipe", new CfnPipeProps
        {
            Description = "NodeFleet fast path: pending pods start an execution",
            RoleArn = PipeRole.RoleArn,
            Source = Queue.QueueArn,
            SourceParameters = new CfnPipe.PipeSourceParametersProperty
            {
                // One message, one execution: a batch would only delay the first.
                SqsQueueParameters = new CfnPipe.PipeSourceSqsQueueParametersProperty { BatchSize = 1 },
                FilterCriteria = new CfnPipe.FilterCriteriaProperty
                {
                    Filters = new object[] { new CfnPipe.FilterProperty { Pattern = FastPath.PipeFilterPattern } },
                },
            },
            Target = props.StateMachine.StateMachineArn,
            TargetParameters = new CfnPipe.PipeTargetParametersProperty
            {
                StepFunctionStateMachineParameters = new CfnPipe.PipeTargetStateMachineParametersProperty { InvocationType = "FIRE_AND_FORGET" },
                InputTemplate = FastPath.PipeInputTemplate,
            },
        });
        // Pipes checks its role's access when the pipe is created: the policy must exist first.
        Pipe.Node.AddDependency(PipeRole);

        if (props.Host is { } host)
        {
            Topic.GrantPublish(host.MasterRole);
            host.InstallAlerting(new MasterAlerting(
                ReadAlertingFile(props.RepositoryRoot, "pending-pods.rules.yml"),
                RenderAlertmanagerConfig(ReadAlertingFile(props.RepositoryRoot, "alertmanager.yml"), settings, Topic.TopicArn, stack.Region, stack.UrlSuffix)));
        }
    }

    public Topic Topic { get; }
    public Queue Queue { get; }
    public Role PipeRole { get; }
    public CfnPipe Pipe { get; }

    public static string ReadAlertingFile(string root, string name) => File.ReadAllText(Path.Combine(root, "scripts", "alerting", name));

    /// <summary>
    /// scripts/alerting/alertmanager.yml with its placeholders filled: the timings from the settings,
    /// <see cref="FastPath.AlertmanagerMessage"/> (in the file's single quotes), the topic, and SNS'
    /// regional endpoint, where the master's role signs.
    /// </summary>
    public static string RenderAlertmanagerConfig(string template, DeploymentSettings settings, string topicArn, string region, string urlSuffix)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(settings);
        var values = new Dictionary<string, string>
        {
            ["__GROUP_WAIT__"] = SettingValue.FormatDuration(settings.FastPathGroupWait),
            ["__GROUP_INTERVAL__"] = SettingValue.FormatDuration(settings.FastPathGroupInterval),
            ["__REPEAT_INTERVAL__"] = SettingValue.FormatDuration(settings.FastPathRepeatInterval),
            ["__SNS_API_URL__"] = $"https://sns.{region}.{urlSuffix}",
            ["__TOPIC_ARN__"] = topicArn,
            ["__MESSAGE__"] = FastPath.AlertmanagerMessage.Replace("'", "''", StringComparison.Ordinal), // YAML single-quoted
            ["__REGION__"] = region,
        };
        var text = template;
        foreach (var (key, value) in values)
        {
            text = text.Replace(key, value, StringComparison.Ordinal);
        }

        var left = Regex.Match(text, "__[A-Z_]+__");
        return left.Success ? throw new InvalidOperationException($"scripts/alerting/alertmanager.yml: {left.Value} has no value") : text;
    }
}
