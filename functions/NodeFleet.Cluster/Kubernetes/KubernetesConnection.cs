using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Authentication;

namespace NodeFleet.Cluster.Kubernetes;

/// <summary>
/// The official client over HTTPS with a bearer token, trusting only the cluster's CA.
/// Certificate validation is never turned off: the chain must end at that CA and the server
/// name must match the certificate.
/// </summary>
public static class KubernetesConnection
{
    /// <summary>Build once per process: the client holds the connection pool and the TLS session.</summary>
    /// <param name="callTimeout">Each API call's limit (the client cancels a call that takes longer).</param>
    public static IKubernetes CreateClient(Uri server, string token, string caPem, TimeSpan callTimeout) =>
        CreateClient(server, caPem, callTimeout, c => c.AccessToken = token);

    /// <param name="token">Asked for the bearer token on every call (it may renew it).</param>
    public static IKubernetes CreateClient(Uri server, ITokenProvider token, string caPem, TimeSpan callTimeout) =>
        CreateClient(server, caPem, callTimeout, c => c.TokenProvider = token);

    private static IKubernetes CreateClient(Uri server, string caPem, TimeSpan callTimeout, Action<KubernetesClientConfiguration> authenticate)
    {
        ArgumentNullException.ThrowIfNull(server);
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPem(caPem);
        if (authorities.Count == 0)
        {
            throw new ArgumentException("The cluster CA holds no PEM certificate", nameof(caPem));
        }

        // Not SslCaCerts: the client's own check of those accepts a certificate that chains to
        // the CA but names another host. This callback checks both, on the client's handler.
        var configuration = new KubernetesClientConfiguration
        {
            Host = server.ToString(),
            HttpClientTimeout = callTimeout,
            FirstMessageHandlerSetup = handler => ((SocketsHttpHandler)handler).SslOptions.RemoteCertificateValidationCallback =
                (_, certificate, _, errors) => Trusted(authorities, certificate, errors),
        };
        authenticate(configuration);
        return new k8s.Kubernetes(configuration);
    }

    private static bool Trusted(X509Certificate2Collection authorities, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // cluster CAs publish no revocation lists
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }
}
