namespace NodeFleet.Simulator.Tests;

public class ProgressLogTests
{
    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset now = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }

    private static (StringWriter Output, ProgressLog Log, ManualClock Clock) Redirected()
    {
        var clock = new ManualClock();
        var output = new StringWriter();
        return (output, new ProgressLog(output, interactive: false, clock), clock);
    }

    [Fact]
    public void Done_Redirected_WritesOneLinePerRunAndNoCarriageReturn()
    {
        var (output, log, clock) = Redirected();

        foreach (var name in new[] { "batch-bursts nodefleet seed 42", "batch-bursts@slow-boots nodefleet seed 42" })
        {
            var run = log.Start(name);
            for (var share = 0.05; share <= 1; share += 0.05)
            {
                run.Report(share);
            }

            clock.Advance(TimeSpan.FromMilliseconds(300));
            run.Done();
        }

        Assert.DoesNotContain('\r', output.ToString());
        Assert.Equal(
            ["[simulate] batch-bursts nodefleet seed 42 done in 0.3 s", "[simulate] batch-bursts@slow-boots nodefleet seed 42 done in 0.3 s"],
            output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Report_RedirectedLongRun_WritesAtMostALinePerTenthOnceItTookLongerThanQuietFor()
    {
        // 0.2 s per percent: the first 3 s (15 %) are quiet, then one line per tenth reached.
        var (output, log, clock) = Redirected();
        var run = log.Start("diurnal-week nodefleet seed 7");

        for (var step = 1; step <= 100; step++)
        {
            clock.Advance(TimeSpan.FromSeconds(0.2));
            run.Report(step / 100.0);
        }

        run.Done();

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain('\r', output.ToString());
        Assert.Equal(["10 %", "20 %", "30 %", "40 %", "50 %", "60 %", "70 %", "80 %", "90 %"], lines[..^1].Select(l => l["[simulate] diurnal-week nodefleet seed 7 ".Length..]));
        Assert.Equal("[simulate] diurnal-week nodefleet seed 7 done in 20.0 s", lines[^1]);
    }

    [Fact]
    public void Report_OnATerminal_RewritesTheLineInPlace()
    {
        var output = new StringWriter();
        var log = new ProgressLog(output, interactive: true, new ManualClock());
        var run = log.Start("ramp seed 42");

        run.Report(0.5);
        run.Done();

        Assert.Equal("\r[simulate] ramp seed 42 50 %\r[simulate] ramp seed 42 done in 0.0 s" + Environment.NewLine, output.ToString());
    }
}
