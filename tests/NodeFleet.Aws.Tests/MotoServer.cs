using System.Text.Json;
using Amazon;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using NodeFleet.Testbed;

namespace NodeFleet.Aws.Tests;

/// <summary>
/// A real moto_server on a free loopback port for the whole test collection, with the AWS CLI
/// pointed at it as an independent client. Stopped by its PID when the collection ends.
/// </summary>
public sealed class MotoServer : IAsyncLifetime
{
    private ServerProcess? process;

    public Uri Url { get; private set; } = null!;

    public AwsEndpoint Endpoint => EndpointAt(Url);

    public static AwsEndpoint EndpointAt(Uri url) =>
        new(RegionEndpoint.USEast1, url, new BasicAWSCredentials("test", "test"), AwsEndpoint.AttemptTimeout);

    /// <summary>Worker subnets the fixture created, by zone.</summary>
    public IReadOnlyList<(string Zone, string SubnetId)> Subnets { get; private set; } = [];

    public string LaunchTemplateId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        process = await ServerProcess.StartAsync("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Uri(Url, "moto-api/"), TimeSpan.FromSeconds(30));

        var vpc = Cli("ec2", "create-vpc", "--cidr-block", "10.40.0.0/16").GetProperty("Vpc").GetProperty("VpcId").GetString()!;
        Subnets =
        [
            ("us-east-1a", Cli("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.40.1.0/24", "--availability-zone", "us-east-1a").GetProperty("Subnet").GetProperty("SubnetId").GetString()!),
            ("us-east-1b", Cli("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.40.2.0/24", "--availability-zone", "us-east-1b").GetProperty("Subnet").GetProperty("SubnetId").GetString()!),
        ];
        LaunchTemplateId = Cli("ec2", "create-launch-template", "--launch-template-name", "nodefleet-worker",
            "--launch-template-data", """{"ImageId":"ami-12c6146b","InstanceType":"t3.large"}""")
            .GetProperty("LaunchTemplate").GetProperty(nameof(LaunchTemplateId)).GetString()!;
    }

    public Task DisposeAsync()
    {
        process?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Runs the AWS CLI against this server and returns its JSON output.</summary>
    public JsonElement Cli(params string[] args)
    {
        var text = Tool.Run("aws", [.. args, "--endpoint-url", Url.ToString().TrimEnd('/'), "--region", "us-east-1", "--output", "json"],
            new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "test", ["AWS_SECRET_ACCESS_KEY"] = "test", ["AWS_PAGER"] = "" });
        return string.IsNullOrWhiteSpace(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public FleetSettings Fleet(string cluster, double spotShare = 0.7) => new()
    {
        ClusterName = cluster,
        LaunchTemplateId = LaunchTemplateId,
        LaunchTemplateVersion = "$Latest",
        Subnets = Subnets,
        InstanceTypes = ["t3.large", "t3a.large"],
        SpotShare = spotShare,
    };

    public IAmazonDynamoDB DynamoDb() => Endpoint.DynamoDbClient();

    public async Task<string> CreateTableAsync(string name)
    {
        using var dynamo = DynamoDb();
        await dynamo.CreateTableAsync(new CreateTableRequest
        {
            TableName = name,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            AttributeDefinitions = [new AttributeDefinition("pk", ScalarAttributeType.S)],
            KeySchema = [new KeySchemaElement("pk", KeyType.HASH)],
        });
        return name;
    }

    public static int FreePort() => Loopback.FreePort();
}

[CollectionDefinition(Name)]
public sealed class MotoServerGroup : ICollectionFixture<MotoServer>
{
    public const string Name = "moto";
}
