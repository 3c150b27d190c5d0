namespace NodeFleet.Core.Policy.Rules;

/// <summary>Below the minimum, launch the difference at once: counted, not measured, so no cooldown.</summary>
internal static class MinimumRule
{
    /// <param name="workersTowardMinimum">Ready managed workers plus instances still launching.</param>
    /// <param name="minimum">The minimum in force now: <paramref name="minNodes"/>, raised by a scheduled minimum, at most maxNodes.</param>
    public static ScaleUpAsk.Minimum? Ask(int workersTowardMinimum, int minimum, int minNodes) =>
        workersTowardMinimum < minimum
            ? new ScaleUpAsk.Minimum(minimum - workersTowardMinimum, workersTowardMinimum, minimum, Scheduled: minimum > minNodes)
            : null;
}
