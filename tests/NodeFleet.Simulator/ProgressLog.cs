using System.Globalization;

namespace NodeFleet.Simulator;

/// <summary>
/// Progress of the runs on stderr. On a terminal a run's share done is rewritten in place (carriage returns); in a log
/// (<paramref name="interactive"/> false, stderr redirected) every line stands alone: one line per run done, and for a
/// run that has taken more than <see cref="QuietFor"/> at most one line per tenth of it, so a long run shows it is alive.
/// </summary>
public sealed class ProgressLog(TextWriter writer, bool interactive, TimeProvider? clock = null)
{
    /// <summary>How long a run goes without progress lines in a log: most runs end sooner and print only their last line.</summary>
    public static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(3);

    private readonly TextWriter writer = writer;
    private readonly bool interactive = interactive;
    private readonly TimeProvider clock = clock ?? TimeProvider.System;

    /// <summary>Starts a run called <paramref name="run"/>: report its share done to the result, then call <see cref="Run.Done"/>.</summary>
    public Run Start(string run) => new(this, run, clock.GetUtcNow());

    /// <summary>One run's progress.</summary>
    public sealed class Run
    {
        private readonly ProgressLog log;
        private readonly string name;
        private readonly DateTimeOffset started;
        private int tenthsReported;

        internal Run(ProgressLog log, string name, DateTimeOffset started) => (this.log, this.name, this.started) = (log, name, started);

        /// <summary>The run reached <paramref name="share"/> (0 to 1) of its trace.</summary>
        public void Report(double share)
        {
            if (log.interactive)
            {
                log.writer.Write(Invariant($"\r[simulate] {name} {share,4:P0}"));
                return;
            }

            var tenths = (int)(share * 10);
            if (tenths > tenthsReported && tenths < 10 && log.clock.GetUtcNow() - started > QuietFor)
            {
                tenthsReported = tenths;
                log.writer.WriteLine(Invariant($"[simulate] {name} {tenths * 10} %"));
            }
        }

        /// <summary>The run ended: one line with its wall-clock time.</summary>
        public void Done()
        {
            var seconds = (log.clock.GetUtcNow() - started).TotalSeconds;
            log.writer.WriteLine(Invariant($"{(log.interactive ? "\r" : "")}[simulate] {name} done in {seconds:0.0} s"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
