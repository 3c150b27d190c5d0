using NodeFleet.Aws;
using NodeFleet.Cluster.Kubernetes;
using NodeFleet.Cluster.Prometheus;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;

namespace NodeFleet.Cluster;

/// <summary>
/// How the cluster steps reach Prometheus and the Kubernetes API. The ServiceAccount token and
/// the cluster CA are read at run time, by name, from SSM Parameter Store SecureStrings (or from
/// files for local runs), so no secret sits in an environment variable or a state machine payload.
/// </summary>
public sealed record ClusterSettings
{
    public Uri? PrometheusUrl { get; init; }
    public TimeSpan PrometheusTimeout { get; init; } = SettingsCatalog.PrometheusTimeout.Default;
    public required Uri KubeApiUrl { get; init; }
    public string? TokenParameter { get; init; }
    public string? TokenFile { get; init; }
    public string? CaParameter { get; init; }
    public string? CaFile { get; init; }
    public TimeSpan KubeTimeout { get; init; } = SettingsCatalog.KubeTimeout.Default;
    public TimeSpan DrainTimeout { get; init; } = SettingsCatalog.DrainTimeout.Default;
    public TimeSpan DrainGraceMargin { get; init; } = SettingsCatalog.DrainGraceMargin.Default;

    /// <summary>From the environment variables the stack sets (defaults and validators: <see cref="SettingsCatalog"/>).</summary>
    public static ClusterSettings FromEnvironment(Func<string, string?> get, bool needsPrometheus)
    {
        var env = new EnvironmentReader(get);
        var settings = new ClusterSettings
        {
            PrometheusUrl = env.Get(SettingsCatalog.PrometheusUrl, needsPrometheus),
            PrometheusTimeout = env.Get(SettingsCatalog.PrometheusTimeout),
            KubeApiUrl = env.Get(SettingsCatalog.KubeApiUrl, required: true) ?? new Uri("https://unset.invalid/"),
            TokenParameter = env.Get(SettingsCatalog.KubeTokenParameter),
            TokenFile = env.Get(SettingsCatalog.KubeTokenFile),
            CaParameter = env.Get(SettingsCatalog.KubeCaParameter),
            CaFile = env.Get(SettingsCatalog.KubeCaFile),
            KubeTimeout = env.Get(SettingsCatalog.KubeTimeout),
            DrainTimeout = env.Get(SettingsCatalog.DrainTimeout),
            DrainGraceMargin = env.Get(SettingsCatalog.DrainGraceMargin),
        };
        env.Require(settings.TokenParameter is not null || settings.TokenFile is not null, $"{SettingsCatalog.KubeTokenParameter.EnvironmentVariable} or {SettingsCatalog.KubeTokenFile.EnvironmentVariable}: one is required");
        env.Require(settings.CaParameter is not null || settings.CaFile is not null, $"{SettingsCatalog.KubeCaParameter.EnvironmentVariable} or {SettingsCatalog.KubeCaFile.EnvironmentVariable}: one is required");
        return env.Valid(settings);
    }
}

/// <summary>The real cluster adapters, built from <see cref="ClusterSettings"/>.</summary>
public static class ClusterAdapters
{
    /// <param name="parameters">Needed only when the token or CA come from Parameter Store.</param>
    /// <param name="clock">When the token is read again (<see cref="KubernetesToken.ReadEvery"/>); the system clock by default.</param>
    public static async Task<KubernetesApi> KubernetesAsync(ClusterSettings settings, ISecureParameters? parameters, CancellationToken cancellationToken, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if ((settings.TokenFile is null || settings.CaFile is null) && parameters is null)
        {
            throw new InvalidOperationException("The Kubernetes token or CA comes from Parameter Store, but no Parameter Store client was given");
        }

        var token = await KubernetesToken.ReadAsync(
            settings.TokenFile is { } tokenFile
                ? c => File.ReadAllTextAsync(tokenFile, c)
                : c => parameters!.GetAsync(settings.TokenParameter!, c),
            clock ?? TimeProvider.System,
            cancellationToken).ConfigureAwait(false);
        var ca = settings.CaFile is { } caFile
            ? await File.ReadAllTextAsync(caFile, cancellationToken).ConfigureAwait(false)
            : await parameters!.GetAsync(settings.CaParameter!, cancellationToken).ConfigureAwait(false);
        return new KubernetesApi(KubernetesConnection.CreateClient(settings.KubeApiUrl, token, ca, settings.KubeTimeout), settings.KubeTimeout);
    }

    /// <summary>For the parameterless constructors: Lambda's init phase may block once.</summary>
    public static KubernetesApi KubernetesFromEnvironment(ClusterSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var parameters = settings.TokenFile is not null && settings.CaFile is not null
            ? null
            : AwsAdapters.Parameters(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable));
        return KubernetesAsync(settings, parameters, CancellationToken.None).GetAwaiter().GetResult();
    }

    public static PrometheusMetricsSource Metrics(ClusterSettings settings, ScalingSettings scaling)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new PrometheusMetricsSource(new PrometheusClient(new HttpClient { Timeout = settings.PrometheusTimeout }, settings.PrometheusUrl!), scaling);
    }
}
