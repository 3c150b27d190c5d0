using Amazon.CDK;
using Amazon.CDK.AWS.DynamoDB;
using Amazon.CDK.AWS.SecretsManager;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Constructs;

namespace NodeFleet.Cdk;

/// <summary>The state table: one item per cluster (lease, cooldowns, in-flight launches, history).</summary>
public sealed class StateConstruct : Construct
{
    public StateConstruct(Construct scope, string id)
        : base(scope, id)
    {
        Table = new Table(this, "Table", new TableProps
        {
            PartitionKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = "pk", Type = AttributeType.STRING },
            BillingMode = BillingMode.PAY_PER_REQUEST,
            PointInTimeRecovery = true,
            RemovalPolicy = RemovalPolicy.RETAIN,
        });
    }

    public Table Table { get; }
}

public sealed record NotificationsProps
{
    public required DeploymentSettings Settings { get; init; }
}

/// <summary>The SNS topic (email, and Slack or Teams through AWS Chatbot) and the optional Slack webhook secret.</summary>
public sealed class NotificationsConstruct : Construct
{
    public NotificationsConstruct(Construct scope, string id, NotificationsProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        Topic = new Topic(this, "Topic", new TopicProps { DisplayName = $"NodeFleet {props.Settings.Scaling.ClusterName}" });
        if (props.Settings.NotificationEmail is { } email)
        {
            Topic.AddSubscription(new EmailSubscription(email));
        }

        // The webhook URL is a secret the operator creates; NodeFleet reads it by name at run time.
        SlackWebhook = props.Settings.SlackWebhookSecretName is { } name ? Secret.FromSecretNameV2(this, "SlackWebhook", name) : null;
    }

    public Topic Topic { get; }

    public ISecret? SlackWebhook { get; }
}
