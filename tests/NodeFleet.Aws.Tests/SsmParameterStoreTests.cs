using NodeFleet.Aws.Parameters;
using NodeFleet.Testbed;

namespace NodeFleet.Aws.Tests;

/// <summary>The cluster's secrets as SSM SecureString parameters: written by the AWS CLI (as the master does), read by the SDK.</summary>
[Collection(MotoServerGroup.Name)]
public class SsmParameterStoreTests(MotoServer moto)
{
    private static string NewName(string leaf) => $"/nodefleet/c{Guid.NewGuid().ToString("N")[..10]}/{leaf}";

    [Fact]
    public async Task GetAsync_SecureStringWrittenByTheCli_ReturnsItDecrypted()
    {
        var name = NewName("kube-ca");
        const string ca = "-----BEGIN CERTIFICATE-----\nMIIBdjCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mtc2Vy\n-----END CERTIFICATE-----\n";
        moto.Cli("ssm", "put-parameter", "--name", name, "--type", "SecureString", "--value", ca);
        var stored = moto.Cli("ssm", "get-parameter", "--name", name).GetProperty("Parameter");

        var value = await AwsAdapters.Parameters(moto.Endpoint).GetAsync(name, default);

        Assert.Equal(ca, value);
        Assert.Equal("SecureString", stored.GetProperty("Type").GetString());
        Assert.NotEqual(ca, stored.GetProperty("Value").GetString()); // without decryption the value stays encrypted
    }

    [Fact]
    public async Task GetAsync_OverwrittenParameter_ReturnsTheLatestValue()
    {
        var name = NewName("kube-token");
        moto.Cli("ssm", "put-parameter", "--name", name, "--type", "SecureString", "--value", "first");
        moto.Cli("ssm", "put-parameter", "--name", name, "--type", "SecureString", "--value", "second", "--overwrite");

        Assert.Equal("second", await AwsAdapters.Parameters(moto.Endpoint).GetAsync(name, default));
    }

    [Fact]
    public async Task GetAsync_MissingParameter_IsParameterNotFoundNamingIt()
    {
        var name = NewName("join-token");

        var error = await Assert.ThrowsAsync<AwsParameterNotFoundException>(() => AwsAdapters.Parameters(moto.Endpoint).GetAsync(name, default));

        Assert.Equal(name, error.Name);
        Assert.Contains($"parameter {name} does not exist", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<int, string, Type> Errors() => new()
    {
        { 400, FaultProxy.JsonError("ThrottlingException", "Rate exceeded"), typeof(AwsThrottledException) },
        { 500, FaultProxy.JsonError("InternalServerError", "An internal error occurred"), typeof(AwsUnavailableException) },
        { 400, FaultProxy.JsonError("AccessDeniedException", "User is not authorized to perform: ssm:GetParameter"), typeof(AwsAccessDeniedException) },
        { 400, FaultProxy.JsonError("InvalidKeyId", "The key is disabled"), typeof(AwsInvalidRequestException) },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task GetAsync_ErrorResponse_BecomesANamedException(int status, string body, Type expected)
    {
        using var proxy = new FaultProxy(moto.Url, _ => new Fault(status, body));
        var store = new SsmParameterStore(MotoServer.EndpointAt(proxy.Url).SsmClient());

        var error = await Record.ExceptionAsync(() => store.GetAsync("/nodefleet/prod/kube-token", default));

        Assert.IsType(expected, error);
    }
}
