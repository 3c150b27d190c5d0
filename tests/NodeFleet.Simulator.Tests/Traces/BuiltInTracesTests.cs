using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Simulator.Simulation;
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
        { "batch-bursts", 8, 1 },
        { "random-jobs", 8, 1 },
        { "nightly-batch", 2 * 24, 1 },
        { "memory-bound", 24, 5 },
        { "tiny-pods", 8, 1 },
        { "pending-hour-at-max", 1, 1 },
        { "pending-hour-unplaceable", 1, 1 },
        { "quiet-hour", 1, 1 },
    };

    /// <summary>Per trace: the memory requests and the most replicas of one deployment its documentation gives.</summary>
    public static TheoryData<string, long, long, int> Requests => new()
    {
        { "ramp", 512, 1024, 28 },
        { "flash-sale", 512, 512, 13 },
        { "sustained", 768, 768, 17 },
        { "diurnal-week", 512, 1024, 29 }, // 28 plus noise
        { "flash-sale-two-waves", 512, 512, 6 },
        { "batch-bursts", 512, 1024, 14 },
        { "random-jobs", 256, 1024, 5 },
        { "nightly-batch", 512, 1024, 17 }, // 16 plus noise
        { "memory-bound", 2400, 3072, 15 }, // 14 plus noise
        { "tiny-pods", 32, 64, 405 }, // 400 plus noise
    };

    [Fact]
    public void Names_ListsTheTenTracesAndTheThreeScenarios()
    {
        Assert.Equal(
            ["ramp", "flash-sale", "sustained", "diurnal-week", "flash-sale-two-waves", "batch-bursts", "random-jobs", "nightly-batch", "memory-bound", "tiny-pods"],
            BuiltInTraces.Names);
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
    [MemberData(nameof(Requests))]
    public void Get_AnyTrace_RequestsAndUseAreRealistic(string name, long minMemoryMiB, long maxMemoryMiB, int maxReplicas)
    {
        var demands = BuiltInTraces.Get(name).Points.SelectMany(p => p.Deployments).ToList();

        Assert.All(demands, d =>
        {
            Assert.InRange(d.Replicas, 0, maxReplicas);
            Assert.InRange(d.MemoryRequestMiB, minMemoryMiB, maxMemoryMiB);
            Assert.InRange(d.CpuUseMillis, 0.40 * d.CpuRequestMillis, 0.65 * d.CpuRequestMillis);
        });
        Assert.Contains(demands, d => d.Replicas == maxReplicas);
    }

    [Fact]
    public void Requests_CoversEveryTrace()
    {
        Assert.Equal(BuiltInTraces.Names, Requests.Select(row => (string)row[0]));
    }

    [Theory]
    [MemberData(nameof(TraceCsvTests.BuiltInNames), MemberType = typeof(TraceCsvTests))]
    public void Get_AnyTrace_PeaksBelowMaxNodes(string name)
    {
        var trace = BuiltInTraces.Get(name);

        Assert.InRange(trace.Points.Max(Workers), 1, NodeFleet.Core.Settings.ScalingSettings.Defaults.MaxNodes - 1);
    }

    [Fact]
    public void Get_BatchBursts_BurstsOf10To14PodsFor8To10MinutesEvery30To60Minutes()
    {
        var trace = BuiltInTraces.Get("batch-bursts");

        var bursts = Runs(trace, "batch");

        Assert.InRange(bursts.Count, 8, 16);
        Assert.Equal(20, bursts[0].Start);
        Assert.All(bursts, b => Assert.InRange(b.Minutes, 8, 10));
        Assert.All(bursts, b => Assert.InRange(b.Replicas.Single(), 10, 14)); // each burst holds one size
        Assert.All(bursts.Zip(bursts.Skip(1)), pair => Assert.InRange(pair.Second.Start - pair.First.Start, 30, 60));
        Assert.True(bursts.Select(b => b.Replicas.Single()).Distinct().Count() > 1, "burst sizes vary");
        Assert.All(trace.Points, p => Assert.Equal(new[] { 4L, 500, 512 }, Shape(p, "api")));
    }

    [Fact]
    public void Get_RandomJobs_JobsArriveAtRandomAndOverlap()
    {
        var trace = BuiltInTraces.Get("random-jobs");
        var jobs = trace.Points[0].Deployments.Select(d => d.Deployment).Where(d => d.StartsWith("job-", StringComparison.Ordinal)).ToList();

        var runs = jobs.Select(job => Assert.Single(Runs(trace, job))).ToList();
        var starts = runs.Select(r => r.Start).Order().ToList();
        var gaps = starts.Zip(starts.Skip(1), (a, b) => b - a).ToList();

        Assert.InRange(jobs.Count, 50, 90); // 8 hours at one job every 7 minutes on average
        Assert.All(runs, r => Assert.InRange(r.Minutes, 5, 40));
        Assert.All(runs, r => Assert.InRange(r.Replicas.Single(), 2, 5));
        Assert.InRange(gaps.Max(), 15, 60); // exponential gaps: some long,
        Assert.Contains(0, gaps); // some jobs arrive within the same minute
        Assert.True(trace.Points.Max(p => p.Deployments.Count(d => d.Deployment.StartsWith("job-", StringComparison.Ordinal) && d.Replicas > 0)) >= 5, "jobs overlap");
        Assert.Equal([250L, 500, 750, 1000], trace.Points[0].Deployments.Where(d => jobs.Contains(d.Deployment)).Select(d => d.CpuRequestMillis).Distinct().Order());
    }

    [Fact]
    public void Get_NightlyBatch_EtlStartsInThreeWavesAt1AndFinishesStaggeredBy4_EveryNight()
    {
        var trace = BuiltInTraces.Get("nightly-batch");

        foreach (var night in new[] { TimeSpan.Zero, TimeSpan.FromDays(1) })
        {
            Assert.Equal(0, Replicas(trace, "etl", night + TimeSpan.FromMinutes(59)));
            Assert.Equal(6, Replicas(trace, "etl", night + TimeSpan.FromMinutes(60)));
            Assert.Equal(10, Replicas(trace, "etl", night + TimeSpan.FromMinutes(75)));
            Assert.Equal(14, Replicas(trace, "etl", night + TimeSpan.FromMinutes(90)));
            Assert.Equal(14, Replicas(trace, "etl", night + TimeSpan.FromMinutes(179)));
            var finishing = Enumerable.Range(180, 60).Select(m => Replicas(trace, "etl", night + TimeSpan.FromMinutes(m))).ToList();
            Assert.All(finishing.Zip(finishing.Skip(1)), pair => Assert.True(pair.Second <= pair.First));
            Assert.True(finishing.Distinct().Count() >= 8, "the pods finish one by one");
            Assert.Equal(0, Replicas(trace, "etl", night + TimeSpan.FromHours(4)));
            Assert.Equal(0, Replicas(trace, "etl", night + TimeSpan.FromHours(12)));
            Assert.InRange(Replicas(trace, "web", night + TimeSpan.FromHours(3)), 3, 5);
            Assert.InRange(Replicas(trace, "web", night + TimeSpan.FromHours(14)), 15, 17);
        }
    }

    [Fact]
    public void Get_MemoryBound_MemoryBindsAndCpuStaysLow()
    {
        var trace = BuiltInTraces.Get("memory-bound");
        var peak = trace.Points.MaxBy(p => p.Deployments.Sum(d => d.Replicas * d.MemoryRequestMiB))!;

        var memoryWorkers = peak.Deployments.Sum(d => d.Replicas * d.MemoryRequestMiB) / 7680.0;
        var cpuWorkers = peak.Deployments.Sum(d => d.Replicas * d.CpuRequestMillis) / 2000.0;

        Assert.InRange(peak.At, TimeSpan.FromHours(11), TimeSpan.FromHours(17));
        Assert.InRange(memoryWorkers, 6.5, 7.5);
        Assert.True(cpuWorkers < memoryWorkers / 2.5, $"CPU needs {cpuWorkers:0.0} workers, memory {memoryWorkers:0.0}");
        Assert.InRange(Workers(peak), 8, 9);
        Assert.InRange(Workers(trace.At(TimeSpan.FromHours(3))), 2, 3);
        Assert.All(trace.Points.SelectMany(p => p.Deployments), d => Assert.InRange(d.CpuRequestMillis, 200, 300));
    }

    [Fact]
    public void Get_TinyPods_PodSlotsBindWhileItGrowsAndShrinks()
    {
        var trace = BuiltInTraces.Get("tiny-pods");
        int Pods(TimeSpan at) => trace.At(at).Deployments.Sum(d => d.Replicas);

        var peak = trace.At(TimeSpan.FromHours(4));

        Assert.Equal(160, Pods(TimeSpan.Zero));
        Assert.Equal(480, Pods(TimeSpan.FromHours(2)));
        Assert.InRange(Pods(TimeSpan.FromHours(4)), 790, 810);
        Assert.Equal(480, Pods(TimeSpan.FromHours(6)));
        Assert.Equal(160, Pods(TimeSpan.FromHours(8)));
        Assert.Equal((int)Math.Ceiling(Pods(peak.At) / 110.0), Workers(peak)); // slots, not CPU or memory, set the count
        Assert.True(peak.Deployments.Sum(d => d.Replicas * d.CpuRequestMillis) < 0.7 * Workers(peak) * 2000);
        Assert.True(peak.Deployments.Sum(d => d.Replicas * d.MemoryRequestMiB) < 0.7 * Workers(peak) * 7680);
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

    /// <summary>The workers the point's requests fill, packed as the oracle packs them (first-fit-decreasing on the worker shape).</summary>
    private static int Workers(TracePoint point) => BinPacker.PackWithNewBins(
        point.Deployments.Where(d => d.Replicas > 0).Select(d => new PodGroup
        {
            Owner = d.Deployment, Count = d.Replicas, CpuMillis = d.CpuRequestMillis, MemoryBytes = d.MemoryRequestMiB * 1024 * 1024,
        }),
        [],
        VirtualCluster.WorkerShape).NewBins;

    /// <summary>Each stretch of consecutive points where the deployment has pods: its first minute, length and the replica counts it held.</summary>
    private static List<(int Start, int Minutes, List<int> Replicas)> Runs(Trace trace, string deployment)
    {
        var runs = new List<(int Start, int Minutes, List<int> Replicas)>();
        foreach (var point in trace.Points)
        {
            var replicas = Replicas(point, deployment);
            var minute = (int)point.At.TotalMinutes;
            if (replicas == 0)
            {
                continue;
            }

            if (runs.Count > 0 && runs[^1].Start + runs[^1].Minutes == minute)
            {
                runs[^1] = (runs[^1].Start, runs[^1].Minutes + 1, runs[^1].Replicas.Union([replicas]).ToList());
            }
            else
            {
                runs.Add((minute, 1, [replicas]));
            }
        }

        return runs;
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
