using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace NodeFleet.Cluster.Kubernetes;

/// <summary>
/// HTTPS to the API server, trusting only the cluster's CA. Certificate validation is never
/// turned off: the chain must end at that CA and the server name must match the certificate.
/// </summary>
public static class KubernetesConnection
{
    public static HttpClient CreateHttpClient(string caPem, TimeSpan timeout)
    {
        var ca = X509Certificate2.CreateFromPem(caPem);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(ca, certificate, errors),
            },
        };
        return new HttpClient(handler) { Timeout = timeout };
    }

    private static bool Trusted(X509Certificate2 ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // cluster CAs publish no revocation lists
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }
}
