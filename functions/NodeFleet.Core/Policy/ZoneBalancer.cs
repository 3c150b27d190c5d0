namespace NodeFleet.Core.Policy;

/// <summary>Spreads new workers over zones so that, afterwards, every zone has as close to the same count as possible.</summary>
public static class ZoneBalancer
{
    /// <summary>
    /// Adds <paramref name="count"/> nodes one at a time to the zone with the fewest (existing
    /// plus planned), ties going to the zone listed first. Zones absent from <paramref name="current"/> hold none.
    /// </summary>
    public static IReadOnlyDictionary<string, int> Plan(int count, IReadOnlyList<string> zones, IReadOnlyDictionary<string, int> current)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (zones.Count == 0)
        {
            throw new ArgumentException("at least one zone is needed", nameof(zones));
        }

        var totals = zones.ToDictionary(z => z, z => current.GetValueOrDefault(z));
        var plan = zones.ToDictionary(z => z, _ => 0);
        for (var i = 0; i < count; i++)
        {
            var zone = zones.MinBy(z => totals[z])!;
            totals[zone]++;
            plan[zone]++;
        }

        return plan;
    }
}
