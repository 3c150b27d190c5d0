using NodeFleet.Simulator.Simulation;
using NodeFleet.Simulator.Traces;

namespace NodeFleet.Simulator.Tests.Traces;

public class RunConditionsTests
{
    [Theory]
    [InlineData("batch-bursts", "batch-bursts", "normal")]
    [InlineData("batch-bursts@slow-boots", "batch-bursts", "slow-boots")]
    [InlineData("my.csv@spot-storm", "my.csv", "spot-storm")]
    [InlineData("traces/a@b/my.csv@slow-boots", "traces/a@b/my.csv", "slow-boots")]
    public void Split_NameWithOrWithoutCondition_ReturnsTraceAndCondition(string text, string trace, string condition)
    {
        var split = RunConditions.Split(text, _ => false);

        Assert.Equal((trace, condition), (split.Trace, split.Condition.Name));
    }

    [Fact]
    public void Split_AnExistingFileWithAnAt_IsTheFileUnderNormal()
    {
        var split = RunConditions.Split("exports/me@host.json", path => path == "exports/me@host.json");

        Assert.Equal(("exports/me@host.json", RunConditions.Normal), split);
    }

    [Fact]
    public void Split_UnknownCondition_ThrowsListingTheKnownOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => RunConditions.Split("ramp@rainy", _ => false));

        Assert.Contains("\"rainy\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("normal, slow-boots, spot-storm", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_EachCondition_SetsOnlyItsOwnOptions()
    {
        var given = new SimulationOptions { BootDelayMean = TimeSpan.FromSeconds(120), SpotInterruptionsPerNodeDay = 1, RandomSeed = 7 };

        var normal = RunConditions.Normal.Apply(given);
        var slow = RunConditions.SlowBoots.Apply(given);
        var storm = RunConditions.SpotStorm.Apply(given);

        Assert.Equal(given, normal);
        Assert.Equal(given with { BootDelayMean = TimeSpan.FromSeconds(240), BootDelaySpread = TimeSpan.FromSeconds(50) }, slow);
        Assert.Equal(given with { SpotInterruptionsPerNodeDay = 6 }, storm);
    }

    [Theory]
    [InlineData("normal", "batch-bursts")]
    [InlineData("slow-boots", "batch-bursts@slow-boots")]
    [InlineData("spot-storm", "batch-bursts@spot-storm")]
    public void Name_OfASuiteEntry_IsTheTraceAndItsCondition(string condition, string name)
    {
        var entry = new SuiteEntry(BuiltInTraces.Get("batch-bursts"), RunConditions.Get(condition));

        Assert.Equal(name, entry.Name);
    }

    [Fact]
    public void Apply_SlowBootsOnBatchBursts_PodsWaitLonger()
    {
        var trace = BuiltInTraces.Get("batch-bursts");
        RunResult Run(RunCondition condition)
        {
            var options = condition.Apply(new SimulationOptions());
            return SimulationRunner.Run(trace, new NodeFleetStrategy(options, new Random(options.RandomSeed)), options);
        }

        var normal = Run(RunConditions.Normal);
        var slow = Run(RunConditions.SlowBoots);

        Assert.True(slow.WaitP50Seconds > normal.WaitP50Seconds + 100, $"p50 {normal.WaitP50Seconds:0} s normally, {slow.WaitP50Seconds:0} s with slow boots");
    }
}
