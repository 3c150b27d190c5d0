using NodeFleet.Aws.DynamoDb;
using NodeFleet.Aws.Ec2;
using NodeFleet.Aws.Notifications;
using NodeFleet.Aws.Parameters;

namespace NodeFleet.Aws;

/// <summary>The real adapters, built from the environment the stack gives each function.</summary>
public static class AwsAdapters
{
    public static DynamoDbFleetStateStore StateStore(AwsEndpoint endpoint, FleetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(settings);
        return new DynamoDbFleetStateStore(endpoint.DynamoDbClient(), settings.StateTable, settings.ClusterName, settings.HistorySize);
    }

    public static Ec2ComputeFleet ComputeFleet(AwsEndpoint endpoint, FleetSettings settings) =>
        new(Ec2Api.Create(endpoint), settings);

    public static SsmParameterStore Parameters(AwsEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return new SsmParameterStore(endpoint.SsmClient());
    }

    public static SnsNotifier Notifier(AwsEndpoint endpoint, FleetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(settings);
        return new(SnsApi.Create(endpoint), settings.TopicArn, SecretsApi.Create(endpoint), settings.SlackWebhookSecret,
            new SlackWebhook(new HttpClient { Timeout = endpoint.Timeout }));
    }
}
