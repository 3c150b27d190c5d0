using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator.Tests;

public class SweepTests
{
    [Theory]
    [InlineData("headroom=0%,25%,50%", "headroom", new[] { "0%", "25%", "50%" })]
    [InlineData("headroom=0%:50%:10%", "headroom", new[] { "0%", "10%", "20%", "30%", "40%", "50%" })]
    [InlineData("scaleDownCooldown=1m:5m:2m", "scaleDownCooldown", new[] { "1m", "3m", "5m" })]
    [InlineData("scaleDownCooldown=90s:3m:45s", "scaleDownCooldown", new[] { "1m30s", "2m15s", "3m" })]
    [InlineData("maxStep=2:6:2", "maxStep", new[] { "2", "4", "6" })]
    [InlineData("targetUtilization=0.5:0.7:0.1", "targetUtilization", new[] { "0.5", "0.6", "0.7" })]
    [InlineData("scheduleRate=1m,2m", "scheduleRate", new[] { "1m", "2m" })]
    public void Parse_ListOrRange_GivesEachValueInTheFormWritten(string spec, string setting, string[] values)
    {
        var plan = Sweep.Parse(spec);

        Assert.Equal(setting, plan.Setting);
        Assert.Equal(values, plan.Values);
    }

    [Theory]
    [InlineData("headroom", "is not SETTING=")]
    [InlineData("=1,2", "is not SETTING=")]
    [InlineData("headroomm=0%,25%", "unknown setting 'headroomm'")]
    [InlineData("headroom=0%,,25%", "empty value")]
    [InlineData("headroom=0%:50%", "is not FROM:TO:STEP")]
    [InlineData("headroom=0%:50%:5", "mixes percentages")]
    [InlineData("scaleDownCooldown=5m:1m:1m", "FROM ≤ TO and a positive STEP")]
    [InlineData("scaleDownCooldown=1m:5m:0s", "FROM ≤ TO and a positive STEP")]
    [InlineData("scaleDownCooldown=1m:5m:soon", "'soon' is not a duration")]
    [InlineData("maxNodes=1:100:1", "100 values, more than 50")]
    public void Parse_Malformed_ThrowsNamingTheProblem(string spec, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => Sweep.Parse(spec));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Summarize_Runs_SumsThemAndTakesTheWorstP95()
    {
        var nodeFleet = new[] { Row("nodefleet", 10, 5, 100, 3), Row("nodefleet", 30, 1, 150, 7) };
        var oracle = new[] { Row("oracle", 8, 0, 0, 2), Row("oracle", 24, 0, 0, 4) };

        var point = Sweep.Summarize("25%", nodeFleet, oracle);

        Assert.Equal(new SweepPoint("25%", 2, 40, 32, 6, 150, 10), point);
        Assert.Equal(0.25, point.OverOracle, 9);
    }

    [Fact]
    public void Svg_Points_DrawsOneLabelledPointPerValue()
    {
        var points = new[] { new SweepPoint("0%", 3, 100, 90, 80, 200, 40), new SweepPoint("25%", 3, 110, 90, 20, 120, 45), new SweepPoint("50%", 3, 120, 90, 10, 100, 50) };

        var svg = Sweep.Svg("headroom", points);

        Assert.Equal(3, svg.Split("<circle ").Length - 1);
        Assert.All(points, p => Assert.Contains($">{p.Value}</text>", svg, StringComparison.Ordinal));
        Assert.Contains("node-hours over the oracle", svg, StringComparison.Ordinal);
        Assert.Contains("pending pod-minutes", svg, StringComparison.Ordinal);
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.EndsWith("</svg>" + Environment.NewLine, svg, StringComparison.Ordinal);
    }

    [Fact]
    public void Svg_ValuesWithTheSameTradeOff_ShareOnePointAndLabel()
    {
        var points = new[] { new SweepPoint("0%", 3, 100, 90, 80, 200, 40), new SweepPoint("25%", 3, 110, 90, 20, 120, 45), new SweepPoint("50%", 3, 110, 90, 20, 120, 45) };

        var svg = Sweep.Svg("headroom", points);

        Assert.Equal(2, svg.Split("<circle ").Length - 1);
        Assert.Contains(">25%, 50%</text>", svg, StringComparison.Ordinal);
    }

    [Fact]
    public void Table_Points_ListsEachValueWithItsTradeOff()
    {
        var table = Sweep.Table("headroom", [new SweepPoint("0%", 3, 100, 80, 80.5, 200, 40)]);

        var row = table.Split(Environment.NewLine)[1];
        Assert.Equal(["0%", "3", "100.0", "+25.0%", "80.5", "200", "40"], row.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    private static RunResult Row(string policy, double nodeHours, double pending, double p95, int actions) => new()
    {
        Trace = "t", Policy = policy, NodeHours = nodeHours, CostUsd = 0, PendingPodMinutes = pending,
        WaitP50Seconds = 0, WaitP95Seconds = p95, ScaleActions = actions, Timeline = [],
    };
}
