using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using NodeFleet.Core.Ports;

namespace NodeFleet.Aws.Parameters;

/// <summary>
/// SSM Parameter Store through the official SDK: GetParameter with decryption, so a SecureString
/// arrives as plain text (SSM decrypts with its KMS key). A missing parameter is
/// <see cref="AwsParameterNotFoundException"/>; every other failure a named exception (<see cref="AwsCalls"/>).
/// </summary>
public sealed class SsmParameterStore(IAmazonSimpleSystemsManagement ssm) : ISecureParameters
{
    public const string Service = "ssm";

    public Task<string> GetAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return AwsCalls.RunAsync(Service, "GetParameter", async () =>
        {
            GetParameterResponse response;
            try
            {
                response = await ssm.GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true }, cancellationToken).ConfigureAwait(false);
            }
            catch (ParameterNotFoundException e)
            {
                throw new AwsParameterNotFoundException(name, e.RequestId, e);
            }

            return response.Parameter?.Value
                ?? throw new AwsMalformedResponseException(Service, $"GetParameter of {name} returned no value", 200);
        }, cancellationToken);
    }
}
