namespace NodeFleet.Core.Settings;

/// <summary>How a launch splits between spot and on demand (the spotShare setting): LaunchNodes and the simulator both ask this.</summary>
public static class CapacitySplit
{
    /// <summary>
    /// The spot instances of a launch of <paramref name="count"/>: the share rounded half away from zero, so at 70 %
    /// a one-node launch is spot, two are one of each and three are two spot and one on demand.
    /// </summary>
    public static int SpotCount(int count, double spotShare)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(spotShare, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(spotShare, 1);
        return (int)Math.Round(count * spotShare, MidpointRounding.AwayFromZero);
    }
}
