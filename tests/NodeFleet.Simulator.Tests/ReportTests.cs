using System.Text.Json;
using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator.Tests;

public class ReportTests
{
    private static RunResult Run(string policy, double nodeHours, double pending, double p95, int actions) => new()
    {
        Trace = "t", Policy = policy, NodeHours = nodeHours, CostUsd = 0, PendingPodMinutes = pending,
        WaitP50Seconds = p95, WaitP95Seconds = p95, ScaleActions = actions, Timeline = [], BootDelaySeconds = 90,
    };

    [Theory]
    [InlineData(120, 12.0, 15, true, true, true)]
    [InlineData(121, 12.0, 15, false, true, true)]
    [InlineData(100, 12.1, 15, true, false, true)]
    [InlineData(100, 11.0, 16, true, true, false)]
    public void GoalRows_NodeFleetAgainstTheBounds_HoldsWhereTheFiguresAreWithinTheGoals(double p95, double nodeHours, int actions, bool wait, bool hours, bool scale)
    {
        var results = new[] { Run("nodefleet", nodeHours, 10, p95, actions), Run("seed", 12, 40, 300, 8), Run("oracle", 10, 0, 0, 10), Run("reactive", 10, 20, 90, 10) };

        var row = Assert.Single(Report.GoalRows(results));

        Assert.Equal((wait, hours, scale), (row.WaitHolds, row.NodeHoursHold, row.ActionsHold));
        Assert.Equal(120, row.WaitGoalSeconds);
        Assert.Equal(0.25, row.PendingVsSeed);
        Assert.Equal(0.5, row.PendingVsReactive);
    }

    [Fact]
    public void Goals_OneRowPerTrace_MarksEachGoal_AndJsonHasTheSameGoals()
    {
        var results = new[] { Run("nodefleet", 13, 10, 150, 20), Run("oracle", 10, 0, 0, 10), Run("reactive", 10, 0, 90, 10) };

        var text = Report.Goals(results);
        var json = JsonDocument.Parse(Report.Json(results)).RootElement;

        Assert.Contains("150 (120) ✗", text, StringComparison.Ordinal);
        Assert.Contains("+30.0% (+20%) ✗", text, StringComparison.Ordinal);
        Assert.Contains("20 (15) ✗", text, StringComparison.Ordinal);
        Assert.Contains(" ∞", text, StringComparison.Ordinal); // waits where the reactive bound waits none
        Assert.Equal(3, json.GetProperty("runs").GetArrayLength());
        var goal = Assert.Single(json.GetProperty("goals").EnumerateArray());
        Assert.False(goal.GetProperty("waitHolds").GetBoolean());
        Assert.Equal(JsonValueKind.Null, goal.GetProperty("pendingVsSeed").ValueKind);
        Assert.Equal(JsonValueKind.Null, goal.GetProperty("pendingVsReactive").ValueKind);
    }
}
