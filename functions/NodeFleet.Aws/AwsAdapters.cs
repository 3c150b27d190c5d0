using Amazon.DynamoDBv2;
using NodeFleet.Aws.DynamoDb;
using NodeFleet.Aws.Ec2;
using NodeFleet.Aws.Notifications;

namespace NodeFleet.Aws;

/// <summary>The real adapters, built from the environment the stack gives each function.</summary>
public static class AwsAdapters
{
    public static DynamoDbFleetStateStore StateStore(AwsEndpoint endpoint, FleetSettings settings)
    {
        var config = new AmazonDynamoDBConfig { RegionEndpoint = endpoint.Region, Timeout = endpoint.Timeout, MaxErrorRetry = 2 };
        if (endpoint.EndpointOverride is { } url)
        {
            config.ServiceURL = url.ToString();
            config.AuthenticationRegion = endpoint.Region.SystemName;
        }

        return new DynamoDbFleetStateStore(new AmazonDynamoDBClient(endpoint.Credentials, config), settings.StateTable, settings.ClusterName, settings.HistorySize);
    }

    public static Ec2ComputeFleet ComputeFleet(AwsEndpoint endpoint, FleetSettings settings) =>
        new(Ec2Api.Create(endpoint), settings);

    public static SnsNotifier Notifier(AwsEndpoint endpoint, FleetSettings settings) =>
        new(SnsApi.Create(endpoint), settings.TopicArn, SecretsApi.Create(endpoint), settings.SlackWebhookSecret,
            new SlackWebhook(new HttpClient { Timeout = endpoint.Timeout }));
}
