using NodeFleet.Core.Contracts;
using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator.Tests.Simulation;

public class FastPathModelTests
{
    private static readonly DateTimeOffset Origin = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly SimulationOptions Options = new();

    /// <summary>Scrapes at 0, 15, 30 s…; evaluations at 3, 13, 23 s…; the dispatcher's maintenance at 0, 30, 60 s….</summary>
    private static FastPathModel Fixed() => new(Options, Origin, TimeSpan.Zero, TimeSpan.FromSeconds(3), TimeSpan.Zero);

    /// <summary>
    /// Drives <paramref name="model"/> as the strategy does, waking at each of its events and at each change of the
    /// unschedulable pods (seconds since the origin, and the pods from then on), until <paramref name="untilSeconds"/>.
    /// </summary>
    private static List<(double Seconds, int Firing)> Drive(FastPathModel model, double untilSeconds, params (double At, string[] Pending)[] changes)
    {
        var sent = new List<FastPathNotification>();
        var pending = Array.Empty<string>();
        var next = 0;
        while (true)
        {
            DateTimeOffset? change = next < changes.Length ? Origin + TimeSpan.FromSeconds(changes[next].At) : null;
            var at = new[] { change, model.NextEvent() }.Where(t => t is not null).Min();
            if (at is not { } now || now > Origin + TimeSpan.FromSeconds(untilSeconds))
            {
                break;
            }

            if (change == now)
            {
                pending = changes[next++].Pending;
            }

            sent.AddRange(model.Advance(now, pending));
        }

        return sent.Select(n => ((n.At - Origin).TotalSeconds, n.Firing)).ToList();
    }

    [Fact]
    public void Advance_PodUnschedulableWithNoGroup_NotifiedWithinScrapeEvaluationAndGroupWait()
    {
        var random = new Random(5);
        var bound = Options.ScrapeInterval + Options.RuleEvaluationInterval + Options.FastPathGroupWait;
        var delays = new List<TimeSpan>();

        for (var i = 0; i < 200; i++)
        {
            var model = new FastPathModel(Options, Origin, random);
            var at = Math.Round(random.NextDouble() * 120, 3);

            var first = Drive(model, at + 120, (at, ["web-1"]))[0];

            delays.Add(TimeSpan.FromSeconds(first.Seconds - at));
            Assert.Equal(1, first.Firing);
        }

        // At least group_wait, at most a scrape, an evaluation and group_wait later; and the phases do spread it.
        Assert.All(delays, d => Assert.InRange(d, Options.FastPathGroupWait, bound));
        Assert.True(delays.Max() - delays.Min() > TimeSpan.FromSeconds(15), $"{delays.Min()} to {delays.Max()}");
    }

    [Fact]
    public void Advance_SecondWaveWhileTheGroupLives_WaitsForTheGroupsNextFlush()
    {
        // web-1 at 0 s: scraped at 0, fires at 3, first flush at 4 (group_wait 1 s), then flushes at 19, 34, 49, 64.
        // web-2 at 36 s, while web-1 still fires: scraped at 45, fires at 53, and waits for the flush at 64, not 54.
        var sent = Drive(Fixed(), 300, (0, ["web-1"]), (36, ["web-1", "web-2"]));

        Assert.Equal([(4.0, 1), (64.0, 2)], sent.Where(s => s.Seconds < 300).Take(2));
    }

    [Fact]
    public void Advance_SamePodsStayPending_NotifyOnlyOncePerRepeatInterval()
    {
        var sent = Drive(Fixed(), 3600, (0, ["web-1", "web-2"]));

        // A flush notifies again only once more than repeat_interval passed: the first group_interval flush after it.
        var interval = Options.FastPathGroupInterval;
        var repeat = interval * (Math.Floor(Options.FastPathRepeatInterval / interval) + 1);
        Assert.Equal(4, sent[0].Seconds);
        Assert.All(sent.Zip(sent.Skip(1)), pair => Assert.Equal(repeat.TotalSeconds, pair.Second.Seconds - pair.First.Seconds));
        Assert.All(sent, s => Assert.Equal(2, s.Firing));
        Assert.Equal(FastPath.ExecutionsPerHourWhilePending(Options.FastPathRepeatInterval), sent.Count);
    }

    [Fact]
    public void Advance_AllPodsResolve_NothingSentAndTheGroupIsDroppedAtTheNextMaintenance()
    {
        var model = Fixed();

        // web-1 runs from 20 s: scraped at 30, resolved at 33; the flush at 34 sends nothing and empties the group.
        var sent = Drive(model, 59, (0, ["web-1"]), (20, []));
        var beforeMaintenance = model.GroupAlerts;
        var atMaintenance = model.Advance(Origin + TimeSpan.FromSeconds(61), []);

        Assert.Equal([(4.0, 1)], sent);
        Assert.Empty(atMaintenance);
        Assert.Equal(0, beforeMaintenance);
        Assert.Null(model.GroupAlerts);
        Assert.Equal(0, model.Firing);
    }

    [Fact]
    public void Advance_PodAfterTheGroupWasDropped_StartsANewGroupAndNotifiesAfterGroupWait()
    {
        // The group empties at 34 and goes at 60; web-2 at 100 s is scraped at 105, fires at 113: a new group flushes at 114.
        var sent = Drive(Fixed(), 300, (0, ["web-1"]), (20, []), (100, ["web-2"]));

        Assert.Equal([(4.0, 1), (114.0, 1)], sent);
    }

    [Fact]
    public void Advance_PodBeforeTheEmptyGroupWasDropped_JoinsItAndWaitsForItsNextFlush()
    {
        // web-2 at 40 s is scraped at 45 and fires at 53, while the empty group still lives (until 60): its flush at 64 sends it.
        var sent = Drive(Fixed(), 300, (0, ["web-1"]), (20, []), (40, ["web-2"]));

        Assert.Equal([(4.0, 1), (64.0, 1)], sent);
    }
}
