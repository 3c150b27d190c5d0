using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;

namespace NodeFleet.Aws;

/// <summary>
/// Where and as whom the typed clients call AWS. <c>AWS_ENDPOINT_URL</c> (the SDKs' and CLI's
/// standard variable) sends every service to one endpoint, which is how the tests and the demo
/// reach moto_server; unset, each service's regional endpoint is used.
/// </summary>
public sealed record AwsEndpoint(RegionEndpoint Region, Uri? EndpointOverride, AWSCredentials Credentials, TimeSpan Timeout)
{
    public static AwsEndpoint FromEnvironment(Func<string, string?> getVariable)
    {
        var region = getVariable("AWS_REGION") ?? getVariable("AWS_DEFAULT_REGION")
            ?? throw new InvalidOperationException("AWS_REGION is not set (the Lambda runtime sets it; set it for local runs)");
        var endpoint = getVariable("AWS_ENDPOINT_URL");
        Uri? endpointUri = null;
        if (!string.IsNullOrWhiteSpace(endpoint) && !Uri.TryCreate(endpoint, UriKind.Absolute, out endpointUri))
        {
            throw new InvalidOperationException($"AWS_ENDPOINT_URL: '{endpoint}' is not an absolute URL");
        }

        return new AwsEndpoint(RegionEndpoint.GetBySystemName(region), endpointUri,
            DefaultAWSCredentialsIdentityResolver.GetCredentials(null), TimeSpan.FromSeconds(10));
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
