using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Ports;

/// <summary>
/// Measures the cluster (Prometheus in production). Implementations throw
/// <see cref="Errors.MetricsUnavailableException"/> rather than return zeros for missing data.
/// </summary>
public interface IMetricsSource
{
    Task<ClusterSnapshot> CollectAsync(DateTimeOffset at, CancellationToken cancellationToken);
}
