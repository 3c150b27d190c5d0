using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace NodeFleet.Aws;

/// <summary>
/// Signs every request with SigV4 (AWSSDK.Core's public signer). The signer sets Authorization,
/// X-Amz-Date and X-Amz-Content-SHA256; the session token header is added here when the
/// credentials carry one. Content-Type (and X-Amz-Target) are the caller's.
/// </summary>
public sealed class SigV4Handler(AWSCredentials credentials, RegionEndpoint region, string service, HttpMessageHandler inner)
    : DelegatingHandler(inner)
{

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var identity = await credentials.GetCredentialsAsync().ConfigureAwait(false);
        var signing = new AWSSigningRequest
        {
            HttpMethod = request.Method,
            RequestUri = request.RequestUri!,
            Content = body,
        };
        if (request.Content?.Headers.ContentType is { } contentType)
        {
            signing.Headers["Content-Type"] = contentType.ToString();
        }

        foreach (var header in request.Headers.Where(h => h.Key.StartsWith("X-Amz-", StringComparison.OrdinalIgnoreCase)))
        {
            signing.Headers[header.Key] = string.Join(",", header.Value);
        }

        if (identity.UseToken)
        {
            signing.Headers["X-Amz-Security-Token"] = identity.Token;
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", identity.Token);
        }

        var signed = AWSSigV4Signer.Sign(signing, new AWSSigV4Parameters
        {
            Credentials = credentials,
            Region = region,
            Service = service,
            SignPayload = true,
        });
        foreach (var (name, value) in signed.Headers)
        {
            // SigV4's Authorization value ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...")
            // is not in the form AuthenticationHeaderValue parses, so it is added as is.
            if (!name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && !name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.Remove(name);
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
