using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Amazon;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace NodeFleet.Aws.Tests;

/// <summary>
/// A real moto_server on a free loopback port for the whole test collection, with the AWS CLI
/// pointed at it as an independent client. Stopped by its PID when the collection ends.
/// </summary>
public sealed class MotoServer : IAsyncLifetime
{
    private Process? process;

    public Uri Url { get; private set; } = null!;

    public AwsEndpoint Endpoint => EndpointAt(Url);

    public static AwsEndpoint EndpointAt(Uri url) =>
        new(RegionEndpoint.USEast1, url, new BasicAWSCredentials("test", "test"), TimeSpan.FromSeconds(10));

    /// <summary>Worker subnets the fixture created, by zone.</summary>
    public IReadOnlyList<(string Zone, string SubnetId)> Subnets { get; private set; } = [];

    public string LaunchTemplateId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        process = Process.Start(new ProcessStartInfo("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("moto_server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(Url, "moto-api/"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    break;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"moto_server did not answer on {Url} within 30 s");
            }

            await Task.Delay(200);
        }

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
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }

        process?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Runs the AWS CLI against this server and returns its JSON output.</summary>
    public JsonElement Cli(params string[] args)
    {
        var info = new ProcessStartInfo("aws", [.. args, "--endpoint-url", Url.ToString().TrimEnd('/'), "--region", "us-east-1", "--output", "json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["AWS_ACCESS_KEY_ID"] = "test";
        info.Environment["AWS_SECRET_ACCESS_KEY"] = "test";
        info.Environment["AWS_PAGER"] = "";
        using var cli = Process.Start(info)!;
        var stdout = cli.StandardOutput.ReadToEndAsync();
        var stderr = cli.StandardError.ReadToEnd();
        cli.WaitForExit();
        if (cli.ExitCode != 0)
        {
            throw new InvalidOperationException($"aws {string.Join(' ', args)} failed: {stderr}");
        }

        var text = stdout.Result;
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

    public IAmazonDynamoDB DynamoDb() => new AmazonDynamoDBClient(new BasicAWSCredentials("test", "test"),
        new AmazonDynamoDBConfig { ServiceURL = Url.ToString(), AuthenticationRegion = "us-east-1" });

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

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class MotoServerGroup : ICollectionFixture<MotoServer>
{
    public const string Name = "moto";
}
