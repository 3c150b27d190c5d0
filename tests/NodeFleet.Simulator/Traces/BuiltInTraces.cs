namespace NodeFleet.Simulator.Traces;

/// <summary>
/// Workload traces that ship with the simulator, each a shape a node autoscaler must handle well. They are generated,
/// not recorded, and deterministic: their noise comes from a <see cref="Random"/> with a fixed seed, so every run and
/// machine sees the same trace. Like real services, pods use 40–65 % of the CPU they request; memory requests are
/// 256–1024 MiB except where a trace is about memory (<c>memory-bound</c>: 2400 MiB and 3 GiB) or pod slots (<c>tiny-pods</c>:
/// 32–64 MiB). Every point lists every deployment, in the same order, with 0 replicas while a deployment is idle.
/// Each peaks below 10 t3.large workers (2 cores each), the maximum the seed autoscaler and NodeFleet's defaults share:
/// beyond it every policy leaves pods waiting and the comparison would measure the cap, not the policy.
/// </summary>
public static class BuiltInTraces
{
    // Any fixed value: it only has to be the same on every run.
    private const int Seed = 20261118;

    /// <summary>The names <see cref="Get"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = [
        "ramp", "flash-sale", "sustained", "diurnal-week", "flash-sale-two-waves",
        "batch-bursts", "random-jobs", "nightly-batch", "memory-bound", "tiny-pods",
    ];

    /// <summary>
    /// One-hour scenarios for what executions cost (<see cref="Get"/> knows them too; scripts/simulate runs them
    /// after the traces and reports executions per hour only): pods pending all hour, and a quiet hour.
    /// </summary>
    public static IReadOnlyList<string> Scenarios { get; } = ["pending-hour-at-max", "pending-hour-unplaceable", "quiet-hour"];

    /// <summary>The built-in trace or scenario called <paramref name="name"/>, generated afresh.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not one of <see cref="Names"/> or <see cref="Scenarios"/>.</exception>
    public static Trace Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name switch
        {
            "ramp" => Ramp(),
            "flash-sale" => FlashSale(),
            "sustained" => Sustained(),
            "diurnal-week" => DiurnalWeek(),
            "flash-sale-two-waves" => FlashSaleTwoWaves(),
            "batch-bursts" => BatchBursts(),
            "random-jobs" => RandomJobs(),
            "nightly-batch" => NightlyBatch(),
            "memory-bound" => MemoryBound(),
            "tiny-pods" => TinyPods(),
            "pending-hour-at-max" => PendingHour("pending-hour-at-max", Demand("overflow", 20, 1000, 512, 0.55)),
            "pending-hour-unplaceable" => PendingHour("pending-hour-unplaceable", Demand("huge", 1, 4000, 1024, 0.55)),
            "quiet-hour" => PendingHour("quiet-hour", Demand("overflow", 0, 1000, 512, 0.55)),
            _ => throw new ArgumentException($"unknown trace \"{name}\"; known traces: {string.Join(", ", Names.Concat(Scenarios))}", nameof(name)),
        };
    }

    /// <summary>
    /// <c>ramp</c>, 8 hours, a point a minute: <c>web</c> (500m, 512 MiB) holds 4 replicas for an hour, grows by whole
    /// replicas linearly to 28 between hours 1 and 5, then holds 28; <c>worker</c> runs 2 replicas of 1000m/1024 MiB
    /// throughout. Models steady organic growth, such as a launch day's traffic: scale-up should keep pace with pending
    /// pods without over-buying, and nothing should scale down.
    /// </summary>
    private static Trace Ramp()
    {
        var random = new Random(Seed);
        return Build("ramp", TimeSpan.FromHours(8), TimeSpan.FromMinutes(1), at =>
        {
            var minute = (int)at.TotalMinutes;
            var web = Math.Clamp(4 + (24 * (minute - 60) / 240), 4, 28);
            return
            [
                Demand("web", web, 500, 512, Use(random, 0.50, 0.05)),
                Demand("worker", 2, 1000, 1024, Use(random, 0.55, 0.05)),
            ];
        });
    }

    /// <summary>
    /// <c>flash-sale</c>, 6 hours, a point a minute: <c>shop</c> runs 6 replicas of 500m/512 MiB. At 2 h a sale starts:
    /// <c>checkout</c> (1000m, 512 MiB) goes from 0 to 12 replicas within 2 minutes, holds 12 ± 1 for 45 minutes, then
    /// drops to 0 within 5 minutes; <c>shop</c> grows to 10 for the whole sale. Models a sudden burst announced by
    /// marketing: the autoscaler must add several nodes at once, then give them back once the burst is over without
    /// flapping during it.
    /// </summary>
    private static Trace FlashSale()
    {
        const int saleStart = 120, holdStart = saleStart + 2, holdEnd = holdStart + 45, saleEnd = holdEnd + 5;
        var random = new Random(Seed);
        return Build("flash-sale", TimeSpan.FromHours(6), TimeSpan.FromMinutes(1), at =>
        {
            var minute = (int)at.TotalMinutes;
            var checkout = minute switch
            {
                < saleStart => 0,
                < holdStart => 12 * (minute - saleStart + 1) / 3, // 4, 8, then the hold's 12
                < holdEnd => 12 + random.Next(-1, 2),
                < saleEnd => 12 * (saleEnd - 1 - minute) / 5, // 9, 7, 4, 2, 0
                _ => 0,
            };
            var shop = minute is >= saleStart and < saleEnd ? 10 : 6;
            return
            [
                Demand("shop", shop, 500, 512, Use(random, 0.50, 0.05)),
                Demand("checkout", checkout, 1000, 512, Use(random, 0.55, 0.05)),
            ];
        });
    }

    /// <summary>
    /// <c>sustained</c>, 6 hours, a point a minute: <c>api</c> runs 16 replicas of 750m/768 MiB throughout, moving by
    /// ±1 replica every 5 minutes, each pod using about 60 % of its request. Models a busy, steady service: the fleet
    /// should settle and stay put, so any scale action here is churn.
    /// </summary>
    private static Trace Sustained()
    {
        var random = new Random(Seed);
        var offset = 0;
        return Build("sustained", TimeSpan.FromHours(6), TimeSpan.FromMinutes(1), at =>
        {
            if ((int)at.TotalMinutes % 5 == 0)
            {
                offset = random.Next(-1, 2);
            }

            return [Demand("api", 16 + offset, 750, 768, Use(random, 0.60, 0.03))];
        });
    }

    /// <summary>
    /// <c>diurnal-week</c>, 7 days from a Monday 00:00, a point every 5 minutes: <c>web</c> (500m, 512 MiB) follows a
    /// daily curve, 4 replicas at the 03:00 low rising smoothly to 28 at 14:00 and easing back down (a raised cosine
    /// over 11 hours up and 13 hours down), ±1 replica of noise; on the weekend (days 6 and 7) the peak is 60 % of the
    /// weekday one (17 replicas). Each day runs from one 03:00 low to the next, so the weekday/weekend switch happens
    /// at a low and adds no jump. <c>batch</c> runs 8 replicas of 1000m/1024 MiB from 01:00 to 03:00 every night.
    /// Models the usual office-hours service with a nightly job: capacity should follow the day, and the nightly batch
    /// should reuse the nodes that web left rather than keep extra ones all day.
    /// </summary>
    private static Trace DiurnalWeek()
    {
        const double weekdayPeak = 28, weekendPeak = 0.6 * weekdayPeak, low = 4;
        var random = new Random(Seed);
        return Build("diurnal-week", TimeSpan.FromDays(7), TimeSpan.FromMinutes(5), at =>
        {
            var sinceLow = at - TimeSpan.FromHours(3);
            var day = (int)Math.Floor(sinceLow.TotalDays); // -1 before the first 03:00: the Sunday night before
            var weekend = ((day % 7) + 7) % 7 >= 5;
            var peak = weekend ? weekendPeak : weekdayPeak;
            var web = (int)Math.Round(low + ((peak - low) * DailyCurve(sinceLow.TotalHours - (day * 24)))) + random.Next(-1, 2);
            var hour = at.TotalHours % 24;
            var batch = hour is >= 1 and < 3 ? 8 : 0;
            return
            [
                Demand("web", web, 500, 512, Use(random, 0.50, 0.05)),
                Demand("batch", batch, 1000, 1024, Use(random, 0.62, 0.03)),
            ];
        });
    }

    /// <summary>
    /// <c>flash-sale-two-waves</c>, 6 hours, a point a minute: <c>shop</c> runs 6 replicas of 500m/512 MiB throughout.
    /// At 2 h the sale's first wave comes, <c>checkout</c> (1000m, 512 MiB) from 0 to 6 replicas at once; a minute later
    /// the second, <c>cart</c> (1000m, 512 MiB) from 0 to 6. Both hold for 45 minutes, then go back to 0 a minute apart.
    /// Models a sale whose traffic arrives in two steps: the second wave must not wait for the first wave's nodes to boot.
    /// The report gives each wave's waits: <c>checkout</c>'s pods unschedulable in the ten minutes from 2:00, <c>cart</c>'s from 2:01.
    /// </summary>
    private static Trace FlashSaleTwoWaves()
    {
        const int first = 120, second = first + 1, hold = 45;
        var random = new Random(Seed);
        var trace = Build("flash-sale-two-waves", TimeSpan.FromHours(6), TimeSpan.FromMinutes(1), at =>
        {
            var minute = (int)at.TotalMinutes;
            return
            [
                Demand("shop", 6, 500, 512, Use(random, 0.50, 0.05)),
                Demand("checkout", minute is >= first and < first + hold ? 6 : 0, 1000, 512, Use(random, 0.55, 0.05)),
                Demand("cart", minute is >= second and < second + hold ? 6 : 0, 1000, 512, Use(random, 0.55, 0.05)),
            ];
        });
        return trace with
        {
            Waves =
            [
                new TraceWave("wave 1", TimeSpan.FromMinutes(first), TimeSpan.FromMinutes(first + 10), ["checkout"]),
                new TraceWave("wave 2", TimeSpan.FromMinutes(second), TimeSpan.FromMinutes(second + 10), ["cart"]),
            ],
        };
    }

    /// <summary>
    /// <c>batch-bursts</c>, 8 hours, a point a minute: <c>api</c> runs 4 replicas of 500m/512 MiB throughout. From 0:20 a
    /// batch job comes every 30–60 minutes (drawn): <c>batch</c> goes from 0 to 10–14 pods of 1000m/1024 MiB at once, holds
    /// them for 8–10 minutes, then drops back to 0; the largest burst needs 7 workers beside api's, under maxNodes. Models
    /// a CI or report queue that fires periodic jobs: each burst should get its nodes in one launch, and the nodes should
    /// go back together once the burst is over, not one per cooldown while the next burst is already coming.
    /// </summary>
    private static Trace BatchBursts()
    {
        var random = new Random(Seed);
        var bursts = new List<(int Start, int End, int Pods)>();
        for (var start = 20; start < 8 * 60; start += random.Next(30, 61))
        {
            bursts.Add((start, start + random.Next(8, 11), random.Next(10, 15)));
        }

        return Build("batch-bursts", TimeSpan.FromHours(8), TimeSpan.FromMinutes(1), at =>
        {
            var minute = (int)at.TotalMinutes;
            var batch = bursts.Where(b => minute >= b.Start && minute < b.End).Select(b => b.Pods).DefaultIfEmpty(0).Single();
            return
            [
                Demand("api", 4, 500, 512, Use(random, 0.50, 0.05)),
                Demand("batch", batch, 1000, 1024, Use(random, 0.60, 0.04)),
            ];
        });
    }

    /// <summary>
    /// <c>random-jobs</c>, 8 hours, a point a minute: <c>api</c> runs 4 replicas of 500m/512 MiB throughout, and jobs arrive
    /// at random, a Poisson process of one every 7 minutes on average (exponential gaps, drawn): each job, its own
    /// deployment <c>job-NNN</c>, runs 2–5 pods of one size (250m–1000m, 256–1024 MiB) for 5–40 minutes, so several
    /// overlap and demand moves by small, unannounced steps; the busiest moment needs 9 workers. Models a shared cluster
    /// where teams submit jobs as they please: there is no pattern to learn, so the autoscaler should launch for what
    /// waits, and keep a node that the next job will likely use rather than flap.
    /// </summary>
    private static Trace RandomJobs()
    {
        const double meanGapMinutes = 7;
        var random = new Random(Seed);
        var jobs = new List<(int Start, int End, int Pods, long Cpu, long Memory)>();
        for (var start = -meanGapMinutes * Math.Log(1 - random.NextDouble()); start < 8 * 60; start += -meanGapMinutes * Math.Log(1 - random.NextDouble()))
        {
            var size = random.Next(1, 5);
            jobs.Add(((int)start, (int)start + random.Next(5, 41), random.Next(2, 6), 250 * size, 256 * size));
        }

        return Build("random-jobs", TimeSpan.FromHours(8), TimeSpan.FromMinutes(1), at =>
        {
            var minute = (int)at.TotalMinutes;
            return
            [
                Demand("api", 4, 500, 512, Use(random, 0.50, 0.05)),
                .. jobs.Select((job, i) => Demand(
                    string.Create(System.Globalization.CultureInfo.InvariantCulture, $"job-{i + 1:D3}"),
                    minute >= job.Start && minute < job.End ? job.Pods : 0, job.Cpu, job.Memory, Use(random, 0.55, 0.08))),
            ];
        });
    }

    /// <summary>
    /// <c>nightly-batch</c>, 2 days, a point a minute: <c>web</c> (500m, 512 MiB) follows the day, 4 replicas at the 03:00
    /// low and 16 at the 14:00 peak (the daily curve of <c>diurnal-week</c>, ±1 of noise). Every night a heavy batch
    /// window: <c>etl</c> (1000m, 1024 MiB) starts in three waves, 6 pods at 01:00, 4 more at 01:15 and 4 more at 01:30,
    /// and its 14 pods finish one by one at drawn times between 03:00 and 04:00. With web's night pods the window needs 9 workers, the day's peak 5.
    /// Models a service beside a nightly ETL: the window's nodes should come in time for each wave and go as the pods
    /// finish, while the day's capacity follows web.
    /// </summary>
    private static Trace NightlyBatch()
    {
        var random = new Random(Seed);
        var finishes = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, 14).Select(_ => 180 + random.Next(0, 60)).Order().ToArray()).ToArray();
        return Build("nightly-batch", TimeSpan.FromDays(2), TimeSpan.FromMinutes(1), at =>
        {
            var day = Math.Min(1, (int)at.TotalDays);
            var minuteOfDay = (int)(at.TotalMinutes % (24 * 60));
            var started = minuteOfDay switch { < 60 => 0, < 75 => 6, < 90 => 10, _ => 14 };
            var etl = minuteOfDay < 4 * 60 ? started - finishes[day].Count(f => f <= minuteOfDay) : 0;
            var sinceLow = ((at.TotalHours - 3) % 24 + 24) % 24;
            var web = (int)Math.Round(4 + (12 * DailyCurve(sinceLow))) + random.Next(-1, 2);
            return
            [
                Demand("web", web, 500, 512, Use(random, 0.50, 0.05)),
                Demand("etl", etl, 1000, 1024, Use(random, 0.60, 0.04)),
            ];
        });
    }

    /// <summary>
    /// <c>memory-bound</c>, 1 day, a point every 5 minutes: <c>cache</c> (200m, 2400 MiB) follows the daily curve from 4
    /// replicas at the 03:00 low to 14 at the 14:00 peak, and <c>index</c> (300m, 3 GiB) from 2 to 6, ±1 of noise each.
    /// At the peak the pods request about 55 GiB, over 7 workers' memory (9 after packing: a worker holds three caches,
    /// two indexes or one of each), but about 5 cores, a third of those workers' CPU. The two sizes are chosen so that
    /// no two-of-one-and-one-of-the-other fits a worker, which makes first-fit-decreasing packing optimal and the oracle
    /// a true bound. Models caches and in-memory stores: memory binds and CPU stays low, so a policy that reads only CPU
    /// would remove nodes the pods need; the fleet should follow the memory the pods request.
    /// </summary>
    private static Trace MemoryBound()
    {
        var random = new Random(Seed);
        return Build("memory-bound", TimeSpan.FromDays(1), TimeSpan.FromMinutes(5), at =>
        {
            var curve = DailyCurve(((at.TotalHours - 3) % 24 + 24) % 24);
            return
            [
                Demand("cache", (int)Math.Round(4 + (10 * curve)) + random.Next(-1, 2), 200, 2400, Use(random, 0.50, 0.08)),
                Demand("index", (int)Math.Round(2 + (4 * curve)) + random.Next(-1, 2), 300, 3072, Use(random, 0.55, 0.08)),
            ];
        });
    }

    /// <summary>
    /// <c>tiny-pods</c>, 8 hours, a point a minute: <c>fn-small</c> (10m, 32 MiB) and <c>fn-large</c> (15m, 64 MiB) start at
    /// 80 replicas each, grow linearly to 400 each between hours 1 and 3, hold 400 ± 5 until hour 5, and shrink back to
    /// 80 by hour 7. At the peak 800 pods fill 8 workers' 110 pod slots while they request a bit over half of those
    /// workers' CPU and a third of their memory. Models functions or sidecar-heavy microservices: pod slots bind, so a
    /// policy that counts only CPU and memory would pack pods onto nodes that have no slot left.
    /// </summary>
    private static Trace TinyPods()
    {
        var random = new Random(Seed);
        return Build("tiny-pods", TimeSpan.FromHours(8), TimeSpan.FromMinutes(1), at =>
        {
            var hours = at.TotalHours;
            var share = hours switch { < 1 => 0, < 3 => (hours - 1) / 2, < 5 => 1, < 7 => (7 - hours) / 2, _ => 0 };
            int Replicas() => (int)Math.Round(80 + (320 * share)) + (share == 1 ? random.Next(-5, 6) : 0);
            return
            [
                Demand("fn-small", Replicas(), 10, 32, Use(random, 0.50, 0.08)),
                Demand("fn-large", Replicas(), 15, 64, Use(random, 0.50, 0.08)),
            ];
        });
    }

    /// <summary>
    /// A one-hour scenario, a point a minute: <c>shop</c> runs 4 replicas of 500m/512 MiB (half their CPU used) on the two
    /// minimum workers, beside <paramref name="extra"/> all hour. <c>pending-hour-at-max</c>: 20 pods of one core, more than
    /// maxNodes' workers hold, so two stay pending all hour once the fleet reached the maximum; <c>pending-hour-unplaceable</c>:
    /// one pod of 4 cores, which no t3.large can host; <c>quiet-hour</c>: nothing else (no pod pending, nothing to scale).
    /// </summary>
    private static Trace PendingHour(string name, DeploymentDemand extra) =>
        Build(name, TimeSpan.FromHours(1), TimeSpan.FromMinutes(1), _ => [Demand("shop", 4, 500, 512, 0.50), extra]);

    /// <summary>0 at the 03:00 low, 1 at the 14:00 peak, smooth in between; <paramref name="hoursSinceLow"/> in [0, 24).</summary>
    private static double DailyCurve(double hoursSinceLow) => hoursSinceLow <= 11
        ? (1 - Math.Cos(Math.PI * hoursSinceLow / 11)) / 2
        : (1 + Math.Cos(Math.PI * (hoursSinceLow - 11) / 13)) / 2;

    /// <summary>A point every <paramref name="step"/> from 0 to <paramref name="duration"/> inclusive, so the last point marks the end.</summary>
    private static Trace Build(string name, TimeSpan duration, TimeSpan step, Func<TimeSpan, DeploymentDemand[]> demandAt)
    {
        var points = new List<TracePoint>();
        for (var at = TimeSpan.Zero; at <= duration; at += step)
        {
            points.Add(new TracePoint(at, demandAt(at)));
        }

        return new Trace(name, points, duration);
    }

    /// <summary>A share of the CPU request within <paramref name="spread"/> of <paramref name="share"/>; callers keep it within 40–65 %.</summary>
    private static double Use(Random random, double share, double spread) => share + (((random.NextDouble() * 2) - 1) * spread);

    private static DeploymentDemand Demand(string deployment, int replicas, long cpuRequestMillis, long memoryRequestMiB, double useShare) =>
        new(deployment, replicas, cpuRequestMillis, memoryRequestMiB, (long)Math.Round(cpuRequestMillis * useShare));
}
