namespace NodeFleet.Core.Ports;

/// <summary>
/// The Kubernetes provider id of an AWS node: <c>aws:///us-east-1a/i-0123456789abcdef0</c>.
/// K3s defaults to <c>k3s://hostname</c>, which maps to no instance; workers must register the AWS form.
/// </summary>
public static class ProviderId
{
    public static string For(string zone, string instanceId) => $"aws:///{zone}/{instanceId}";

    public static bool TryParse(string? providerId, out string zone, out string instanceId)
    {
        zone = instanceId = "";
        const string prefix = "aws:///";
        if (providerId is null || !providerId.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = providerId[prefix.Length..].Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || !parts[1].StartsWith("i-", StringComparison.Ordinal))
        {
            return false;
        }

        (zone, instanceId) = (parts[0], parts[1]);
        return true;
    }
}
