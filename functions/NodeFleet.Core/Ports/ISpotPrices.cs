namespace NodeFleet.Core.Ports;

/// <summary>What spot capacity costs now: the hourly price of each worker instance type in each worker zone (EC2 in production).</summary>
public interface ISpotPrices
{
    /// <summary>The price in effect now of every pool (instance type, zone) the fleet launches into; a pool without a spot price is absent.</summary>
    Task<IReadOnlyList<SpotPriceQuote>> CurrentAsync(CancellationToken cancellationToken);
}

/// <summary>A pool's spot price in USD per instance-hour, in effect since <see cref="Since"/>.</summary>
public sealed record SpotPriceQuote(string InstanceType, string Zone, decimal PricePerHour, DateTimeOffset Since);
