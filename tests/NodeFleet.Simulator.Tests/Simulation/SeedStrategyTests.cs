using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator.Tests.Simulation;

public class SeedStrategyTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Feeds one reading a minute; returns what the last one decided.</summary>
    private static List<int> Readings(SeedStrategy seed, int workers, params (double Cpu, int Pending)[] readings) =>
        readings.Select((r, i) => seed.Decide(r.Cpu, r.Pending, workers, Start.AddMinutes(i))).ToList();

    private static SeedStrategy New() => new(new SimulationOptions(), new Random(1));

    [Theory]
    [InlineData(0.75, 0, 1)]   // CPU above 70 %
    [InlineData(0.90, 0, 2)]   // CPU above 85 %: by 2
    [InlineData(0.50, 3, 1)]   // pods pending
    [InlineData(0.50, 6, 2)]   // more than 5 pending: by 2
    public void Decide_ConditionHeldThreeReadings_ScalesUpOnTheThird(double cpu, int pending, int expected)
    {
        var seed = New();

        var decisions = Readings(seed, 3, (cpu, pending), (cpu, pending), (cpu, pending));

        Assert.Equal([0, 0, expected], decisions);
    }

    [Fact]
    public void Decide_ConditionBroken_CountsAgain()
    {
        var seed = New();

        var decisions = Readings(seed, 3, (0.9, 0), (0.9, 0), (0.5, 0), (0.9, 0), (0.9, 0), (0.9, 0));

        Assert.Equal([0, 0, 0, 0, 0, 2], decisions);
    }

    [Fact]
    public void Decide_WithinFiveMinutesOfAScaleUp_Waits()
    {
        var seed = New();

        var decisions = Readings(seed, 3, Enumerable.Repeat((0.9, 0), 9).ToArray());

        // Up at minute 2; the counter restarts and is ready again at minute 5, but the cooldown runs to minute 7.
        Assert.Equal([0, 0, 2, 0, 0, 0, 0, 2, 0], decisions);
    }

    [Fact]
    public void Decide_TenLowReadings_RemovesOne_ThenWaitsTenMinutes()
    {
        var seed = New();

        var decisions = Readings(seed, 5, Enumerable.Repeat((0.1, 0), 30).ToArray());

        Assert.Equal([9, 19, 29], decisions.Select((d, i) => (d, i)).Where(x => x.d == -1).Select(x => x.i));
        Assert.DoesNotContain(decisions, d => d > 0);
    }

    [Theory]
    [InlineData(10, 0.95, 0, 0)] // at the maximum
    [InlineData(9, 0.95, 0, 1)]  // one below: by 1 only
    [InlineData(2, 0.05, 0, 0)]  // at the minimum
    [InlineData(3, 0.05, 1, 1)]  // low CPU with a pending pod is not low: the pod scales up
    public void Decide_Limits_Hold(int workers, double cpu, int pending, int expectedLast)
    {
        var seed = New();

        var decisions = Readings(seed, workers, Enumerable.Repeat((cpu, pending), 10).ToArray());

        Assert.Equal(expectedLast, decisions.FirstOrDefault(d => d != 0));
    }

    [Fact]
    public void Decide_NoWorkerYet_NeitherHighNorLow()
    {
        var seed = New();

        var decisions = Readings(seed, 2, Enumerable.Repeat((double.NaN, 0), 12).ToArray());

        Assert.All(decisions, d => Assert.Equal(0, d));
    }
}
