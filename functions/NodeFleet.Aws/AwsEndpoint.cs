using Amazon;
using Amazon.DynamoDBv2;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.SimpleSystemsManagement;
using NodeFleet.Core.Settings;

namespace NodeFleet.Aws;

/// <summary>
/// Where and as whom NodeFleet calls AWS, through the official SDKs (EC2, DynamoDB, SSM) and the
/// hand-written signed clients (SNS, Secrets Manager). <c>AWS_ENDPOINT_URL</c> (the SDKs' and
/// CLI's standard variable) sends every service to one endpoint, which is how the tests and the
/// demo reach moto_server; unset, each service's regional endpoint is used. <see cref="Timeout"/>
/// bounds each attempt.
/// </summary>
public sealed record AwsEndpoint(RegionEndpoint Region, Uri? EndpointOverride, AWSCredentials Credentials, TimeSpan Timeout)
{
    /// <summary>
    /// How long one attempt may take: the SDKs make up to <see cref="AwsCalls.SdkRetries"/> + 1
    /// (timeouts included); each step's time budget in functions/steps.json counts them all
    /// against its Lambda timeout.
    /// </summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(8);

    public static AwsEndpoint FromEnvironment(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        var env = new EnvironmentReader(name => getVariable(name) ?? (name == SettingsCatalog.AwsRegion.EnvironmentVariable ? getVariable("AWS_DEFAULT_REGION") : null));
        var region = env.Get(SettingsCatalog.AwsRegion, required: true);
        var endpoint = env.Get(SettingsCatalog.AwsEndpointUrl);
        env.Valid(region);
        return new AwsEndpoint(RegionEndpoint.GetBySystemName(region), endpoint,
            DefaultAWSCredentialsIdentityResolver.GetCredentials(null), AttemptTimeout);
    }

    public IAmazonEC2 Ec2Client() => new AmazonEC2Client(Credentials, Configure(new AmazonEC2Config()));

    public IAmazonDynamoDB DynamoDbClient() => new AmazonDynamoDBClient(Credentials, Configure(new AmazonDynamoDBConfig()));

    public IAmazonSimpleSystemsManagement SsmClient() => new AmazonSimpleSystemsManagementClient(Credentials, Configure(new AmazonSimpleSystemsManagementConfig()));

    /// <summary>
    /// The same settings for every SDK client: the region (or the override endpoint, signed for the
    /// region), the per-attempt timeout, and few retries of the SDK's own (standard mode: throttles,
    /// 5xx and dropped connections, jittered exponential backoff), so that the state machine's
    /// Retry stays the main one.
    /// </summary>
    private T Configure<T>(T config)
        where T : ClientConfig
    {
        config.RegionEndpoint = Region;
        config.Timeout = Timeout;
        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = AwsCalls.SdkRetries;
        if (EndpointOverride is { } url)
        {
            config.ServiceURL = url.ToString();
            config.AuthenticationRegion = Region.SystemName;
        }

        return config;
    }

    public Uri UriFor(string service) =>
        EndpointOverride ?? new Uri($"https://{service}.{Region.SystemName}.amazonaws.com/");

    /// <summary>An HttpClient that signs for <paramref name="service"/> and gives up after <see cref="Timeout"/>.</summary>
    public HttpClient HttpClientFor(string service, HttpMessageHandler? inner = null) =>
        new(new SigV4Handler(Credentials, Region, service, inner ?? new SocketsHttpHandler()))
        {
            Timeout = Timeout,
        };
}
