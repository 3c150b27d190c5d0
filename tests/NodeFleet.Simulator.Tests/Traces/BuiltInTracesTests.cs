using NodeFleet.Simulator.Traces;

namespace NodeFleet.Simulator.Tests.Traces;

public class BuiltInTracesTests
{
    public static TheoryData<string, double, double> Shapes => new()
    {
        { "ramp", 8, 1 },
        { "flash-sale", 6, 1 },
        { "sustained", 6, 1 },
        { "diurnal-week", 7 * 24, 5 },
        { "flash-sale-two-waves", 6, 1 },
        { "pending-hour-at-max", 1, 1 },
        { "pending-hour-unplaceable", 1, 1 },
        { "quiet-hour", 1, 1 },
    };

    [Fact]
    public void Names_ListsTheFiveTracesAndTheThreeScenarios()
    {
        Assert.Equal(["ramp", "flash-sale", "sustained", "diurnal-week", "flash-sale-two-waves"], BuiltInTraces.Names);
        Assert.Equal(["pending-hour-at-max", "pending-hour-unplaceable", "quiet-hour"], BuiltInTraces.Scenarios);
    }

    [Theory]
    [MemberData(nameof(TraceCsvTests.BuiltInNames), MemberType = typeof(TraceCsvTests))]
    public void Get_CalledTwice_ReturnsTheSameTrace(string name)
    {
        var first = BuiltInTraces.Get(name);
        var second = BuiltInTraces.Get(name);

        Assert.Equal(TraceCsvTests.ToCsv(first), TraceCsvTests.ToCsv(second));
    }

    [Fact]
    public void Get_UnknownName_ThrowsListingKnownNames()
    {
        var error = Assert.Throws<ArgumentException>(() => BuiltInTraces.Get("spiky"));

        Assert.Contains("\"spiky\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("ramp, flash-sale, sustained, diurnal-week", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Get_AnyTrace_HasEvenlySpacedPointsUntilItsEnd(string name, double hours, double stepMinutes)
    {
        var trace = BuiltInTraces.Get(name);

        Assert.Equal(name, trace.Name);
        Assert.Equal(TimeSpan.FromHours(hours), trace.Duration);
        Assert.Equal(
            Enumerable.Range(0, (int)(hours * 60 / stepMinutes) + 1).Select(i => TimeSpan.FromMinutes(i * stepMinutes)),
            trace.Points.Select(p => p.At));
    }

    [Theory]
    [MemberData(nameof(TraceCsvTests.BuiltInNames), MemberType = typeof(TraceCsvTests))]
    public void Get_AnyTrace_RequestsAndUseAreRealistic(string name)
    {
        var demands = BuiltInTraces.Get(name).Points.SelectMany(p => p.Deployments).ToList();

        Assert.All(demands, d =>
        {
            Assert.InRange(d.Replicas, 0, 29); // the most any built-in trace documents (28 plus noise)
            Assert.InRange(d.MemoryRequestMiB, 256, 1024);
            Assert.InRange(d.CpuUseMillis, 0.40 * d.CpuRequestMillis, 0.65 * d.CpuRequestMillis);
        });
    }

    [Fact]
    public void Get_Ramp_GrowsWebFrom4To28BetweenHours1And5()
    {
        var trace = BuiltInTraces.Get("ramp");

        Assert.Equal(4, Replicas(trace, "web", TimeSpan.Zero));
        Assert.Equal(4, Replicas(trace, "web", TimeSpan.FromHours(1)));
        Assert.Equal(16, Replicas(trace, "web", TimeSpan.FromHours(3)));
        Assert.Equal(28, Replicas(trace, "web", TimeSpan.FromHours(5)));
        Assert.Equal(28, Replicas(trace, "web", TimeSpan.FromHours(6)));
        Assert.All(trace.Points, p => Assert.Equal(new[] { 2L, 1000, 1024 }, Shape(p, "worker")));
        Assert.All(trace.Points.Zip(trace.Points.Skip(1)), pair =>
            Assert.InRange(Replicas(pair.Second, "web") - Replicas(pair.First, "web"), 0, 1));
    }

    [Fact]
    public void Get_FlashSale_CheckoutBurstsAt2HoursAndShopGrows()
    {
        var trace = BuiltInTraces.Get("flash-sale");

        Assert.Equal(0, Replicas(trace, "checkout", TimeSpan.FromHours(1)));
        Assert.Equal(0, Replicas(trace, "checkout", TimeSpan.FromMinutes(119)));
        Assert.InRange(Replicas(trace, "checkout", TimeSpan.FromMinutes(122)), 11, 13);
        Assert.InRange(Replicas(trace, "checkout", TimeSpan.FromMinutes(135)), 11, 13);
        Assert.InRange(Replicas(trace, "checkout", TimeSpan.FromMinutes(166)), 11, 13);
        Assert.Equal(0, Replicas(trace, "checkout", TimeSpan.FromMinutes(171)));
        Assert.Equal(0, Replicas(trace, "checkout", TimeSpan.FromHours(5)));
        Assert.Equal(6, Replicas(trace, "shop", TimeSpan.FromHours(1)));
        Assert.Equal(10, Replicas(trace, "shop", TimeSpan.FromMinutes(135)));
        Assert.Equal(6, Replicas(trace, "shop", TimeSpan.FromHours(5)));
    }

    [Fact]
    public void Get_FlashSaleTwoWaves_SecondWaveComesAMinuteAfterTheFirst_AndBothAreReportedAsWaves()
    {
        var trace = BuiltInTraces.Get("flash-sale-two-waves");

        Assert.Equal(0, Replicas(trace, "checkout", TimeSpan.FromMinutes(119)));
        Assert.Equal(6, Replicas(trace, "checkout", TimeSpan.FromMinutes(120)));
        Assert.Equal(0, Replicas(trace, "cart", TimeSpan.FromMinutes(120)));
        Assert.Equal(6, Replicas(trace, "cart", TimeSpan.FromMinutes(121)));
        Assert.Equal(6, Replicas(trace, "checkout", TimeSpan.FromMinutes(164)));
        Assert.Equal(0, Replicas(trace, "checkout", TimeSpan.FromMinutes(165)));
        Assert.Equal(6, Replicas(trace, "cart", TimeSpan.FromMinutes(165)));
        Assert.Equal(0, Replicas(trace, "cart", TimeSpan.FromMinutes(166)));
        Assert.All(trace.Points, p => Assert.Equal(6, Replicas(p, "shop")));
        Assert.Equal(
            [("wave 1", TimeSpan.FromMinutes(120), "checkout"), ("wave 2", TimeSpan.FromMinutes(121), "cart")],
            trace.Waves.Select(w => (w.Name, w.From, Assert.Single(w.Deployments))));
    }

    [Theory]
    [InlineData("pending-hour-at-max", "overflow", 20)]
    [InlineData("pending-hour-unplaceable", "huge", 1)]
    [InlineData("quiet-hour", "overflow", 0)]
    public void Get_Scenario_HoldsItsDemandAllHour(string name, string deployment, int replicas)
    {
        var trace = BuiltInTraces.Get(name);

        Assert.All(trace.Points, p => Assert.Equal(replicas, Replicas(p, deployment)));
        Assert.All(trace.Points, p => Assert.Equal(4, Replicas(p, "shop")));
    }

    [Fact]
    public void Get_Sustained_Holds16ApiReplicasWithin1AtAbout60PercentCpu()
    {
        var api = BuiltInTraces.Get("sustained").Points.Select(p => Assert.Single(p.Deployments)).ToList();

        Assert.All(api, d => Assert.InRange(d.Replicas, 15, 17));
        Assert.All(api, d => Assert.InRange(d.CpuUseMillis, 0.57 * 750, 0.63 * 750));
        Assert.Contains(api, d => d.Replicas != 16); // the noise is there
    }

    [Fact]
    public void Get_DiurnalWeek_PeaksInTheAfternoonAndLessOnWeekends()
    {
        var trace = BuiltInTraces.Get("diurnal-week");
        var wednesday = TimeSpan.FromDays(2);
        var saturday = TimeSpan.FromDays(5);

        var weekdayPeak = MaxReplicas(trace, "web", wednesday);
        var weekendPeak = MaxReplicas(trace, "web", saturday);

        Assert.True(Replicas(trace, "web", wednesday + TimeSpan.FromHours(14)) > Replicas(trace, "web", wednesday + TimeSpan.FromHours(3)) + 20);
        Assert.InRange(Replicas(trace, "web", wednesday + TimeSpan.FromHours(3)), 3, 5);
        Assert.InRange(weekdayPeak, 27, 29);
        Assert.InRange(weekendPeak, 16, 18);
        Assert.Equal(8, Replicas(trace, "batch", saturday + TimeSpan.FromHours(2)));
        Assert.Equal(0, Replicas(trace, "batch", saturday + TimeSpan.FromHours(3)));
        Assert.Equal(0, Replicas(trace, "batch", wednesday + TimeSpan.FromHours(12)));
    }

    private static int Replicas(Trace trace, string deployment, TimeSpan at) => Replicas(trace.At(at), deployment);

    private static int Replicas(TracePoint point, string deployment) => point.Deployments.Single(d => d.Deployment == deployment).Replicas;

    private static long[] Shape(TracePoint point, string deployment)
    {
        var demand = point.Deployments.Single(d => d.Deployment == deployment);
        return [demand.Replicas, demand.CpuRequestMillis, demand.MemoryRequestMiB];
    }

    private static int MaxReplicas(Trace trace, string deployment, TimeSpan dayStart) =>
        trace.Points.Where(p => p.At >= dayStart && p.At < dayStart + TimeSpan.FromDays(1)).Max(p => Replicas(p, deployment));
}
