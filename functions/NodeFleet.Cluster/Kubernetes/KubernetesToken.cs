using System.Net.Http.Headers;
using k8s.Authentication;

namespace NodeFleet.Cluster.Kubernetes;

/// <summary>
/// NodeFleet's ServiceAccount token, read again from where it is kept (Parameter Store, or a file
/// for local runs) once the copy in hand is older than <see cref="ReadEvery"/>: the master renews
/// a bound, expiring token every hour, and a Lambda environment may outlive one. A read that fails
/// keeps the token in hand (renewed hourly, it is valid for hours yet) and is tried again on the next call.
/// </summary>
public sealed class KubernetesToken : ITokenProvider, IDisposable
{
    /// <summary>Far shorter than the token's life after its renewal (23 hours at least): a token in hand never expires.</summary>
    public static readonly TimeSpan ReadEvery = TimeSpan.FromMinutes(10);

    private readonly Func<CancellationToken, Task<string>> read;
    private readonly TimeProvider clock;
    private readonly SemaphoreSlim reading = new(1, 1);
    private string token;
    private DateTimeOffset readAt;

    private KubernetesToken(Func<CancellationToken, Task<string>> read, TimeProvider clock, string token)
    {
        this.read = read;
        this.clock = clock;
        this.token = token;
        readAt = clock.GetUtcNow();
    }

    /// <summary>Reads the token once now (a missing one fails the step's start) and again every <see cref="ReadEvery"/>.</summary>
    public static async Task<KubernetesToken> ReadAsync(Func<CancellationToken, Task<string>> read, TimeProvider clock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(clock);
        return new KubernetesToken(read, clock, Clean(await read(cancellationToken).ConfigureAwait(false)));
    }

    public async Task<AuthenticationHeaderValue> GetAuthenticationHeaderAsync(CancellationToken cancellationToken)
    {
        if (clock.GetUtcNow() - readAt >= ReadEvery)
        {
            await reading.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (clock.GetUtcNow() - readAt >= ReadEvery)
                {
                    token = Clean(await read(cancellationToken).ConfigureAwait(false));
                    readAt = clock.GetUtcNow();
                }
            }
#pragma warning disable CA1031 // any failure to re-read: the token in hand is still valid, and the next call tries again
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
            }
            finally
            {
                reading.Release();
            }
        }

        return new AuthenticationHeaderValue("Bearer", token);
    }

    public void Dispose() => reading.Dispose();

    private static string Clean(string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new InvalidDataException("The Kubernetes token is empty") : value.Trim();
}
