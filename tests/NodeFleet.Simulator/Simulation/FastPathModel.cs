namespace NodeFleet.Simulator.Simulation;

/// <summary>A notification Alertmanager sent at <paramref name="At"/> (a flush of the group), naming <paramref name="Firing"/> pods.</summary>
public sealed record FastPathNotification(DateTimeOffset At, int Firing);

/// <summary>
/// The fast path from unschedulable pods to Alertmanager's notifications, in virtual time, as deployed
/// (scripts/alerting): Prometheus scrapes kube-state-metrics every scrape interval and evaluates the rule
/// (one alert per pod, no <c>for</c>) every evaluation interval, each at a fixed phase of its own; an alert
/// fires at the first evaluation after the first scrape that saw its pod, and resolves at the first
/// evaluation after the first scrape that no longer sees it. Alertmanager keeps every alert of the rule
/// in one group (grouped by alert name) and, as its dispatcher and notification log do:
/// <list type="bullet">
/// <item>a group is created by its first alert and first flushes <c>group_wait</c> later, then every <c>group_interval</c>;</item>
/// <item>a flush notifies when a firing alert is not in the last notification's firing set (so a second wave
/// during a live group waits for its next flush), or when nothing changed and more than <c>repeat_interval</c>
/// passed since the last notification; pods that only resolve notify nothing (<c>send_resolved: false</c>), and
/// an all-resolved group only clears the notification log;</item>
/// <item>resolved alerts leave the group at the flush after they resolved; an empty group is dropped at the
/// dispatcher's next maintenance tick (every 30 s); an alert that comes before that joins it and waits for its next flush.</item>
/// </list>
/// Not modelled: Prometheus' re-sends of resolved alerts (every ~70 s for 15 minutes), which can re-create an
/// empty group for up to 30 s, so that a pod becoming unschedulable then waits for a group_interval flush
/// instead of group_wait; and the milliseconds from Prometheus to Alertmanager.
/// </summary>
public sealed class FastPathModel
{
    /// <summary>Alertmanager's dispatcher drops empty groups on a fixed ticker (dispatch.go: 30 s; not configurable).</summary>
    public static readonly TimeSpan DispatcherMaintenance = TimeSpan.FromSeconds(30);

    private readonly DateTimeOffset origin;
    private readonly TimeSpan scrapeInterval, scrapePhase, evaluationInterval, evaluationPhase, maintenancePhase;
    private readonly TimeSpan groupWait, groupInterval, repeatInterval;
    private HashSet<string> observed = new(StringComparer.Ordinal);
    private HashSet<string> scraped = new(StringComparer.Ordinal);
    private readonly HashSet<string> firing = new(StringComparer.Ordinal);
    private Group? group;

    // Alertmanager's notification log entry for the group's key: it outlives the group.
    private bool notifiedOnce;
    private HashSet<string> notified = new(StringComparer.Ordinal);
    private DateTimeOffset notifiedAt;
    private DateTimeOffset cursor;

    /// <summary>The model with <paramref name="options"/>' timings and phases drawn uniformly from <paramref name="phases"/>.</summary>
    public FastPathModel(SimulationOptions options, DateTimeOffset origin, Random phases)
        : this(options, origin, Uniform(phases, options.ScrapeInterval), Uniform(phases, options.RuleEvaluationInterval), Uniform(phases, DispatcherMaintenance))
    {
    }

    /// <summary>The model with fixed phases: the first scrape, evaluation and maintenance tick after <paramref name="origin"/>.</summary>
    public FastPathModel(SimulationOptions options, DateTimeOffset origin, TimeSpan scrapePhase, TimeSpan evaluationPhase, TimeSpan maintenancePhase)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.origin = origin;
        scrapeInterval = options.ScrapeInterval;
        evaluationInterval = options.RuleEvaluationInterval;
        this.scrapePhase = scrapePhase;
        this.evaluationPhase = evaluationPhase;
        this.maintenancePhase = maintenancePhase;
        groupWait = options.FastPathGroupWait;
        groupInterval = options.FastPathGroupInterval;
        repeatInterval = options.FastPathRepeatInterval;
        cursor = origin - TimeSpan.FromTicks(1);
    }

    /// <summary>The alerts Alertmanager's group holds now (firing or resolved), or null when there is no group.</summary>
    public int? GroupAlerts => group?.Alerts.Count;

    /// <summary>Pods whose alert fires now.</summary>
    public int Firing => firing.Count;

    /// <summary>
    /// Runs the path up to <paramref name="now"/>, where the unschedulable pods are <paramref name="pending"/> (they
    /// were what the previous call said until now), and returns the notifications sent meanwhile, oldest first.
    /// </summary>
    public IReadOnlyList<FastPathNotification> Advance(DateTimeOffset now, IEnumerable<string> pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var sent = new List<FastPathNotification>();
        Run(now, inclusive: false, sent);
        observed = new HashSet<string>(pending, StringComparer.Ordinal);
        cursor = Max(cursor, now - TimeSpan.FromTicks(1));
        Run(now, inclusive: true, sent);
        cursor = Max(cursor, now);
        return sent;
    }

    /// <summary>When the path next does something if the pods stay as they are (null: nothing will happen).</summary>
    public DateTimeOffset? NextEvent()
    {
        DateTimeOffset? next = null;
        void Candidate(DateTimeOffset at) => next = next is { } n && n <= at ? n : at;
        if (!observed.SetEquals(scraped))
        {
            Candidate(After(cursor, scrapePhase, scrapeInterval));
        }

        if (!scraped.SetEquals(firing))
        {
            Candidate(After(cursor, evaluationPhase, evaluationInterval));
        }

        if (group is { } live)
        {
            Candidate(live.NextFlush);
            if (live.Alerts.Count == 0)
            {
                Candidate(After(cursor, maintenancePhase, DispatcherMaintenance));
            }
        }

        return next;
    }

    private void Run(DateTimeOffset until, bool inclusive, List<FastPathNotification> sent)
    {
        while (NextEvent() is { } at && (inclusive ? at <= until : at < until))
        {
            // At one instant: the scrape, then the evaluation that may read it, then Alertmanager.
            if (!observed.SetEquals(scraped) && Aligned(at, scrapePhase, scrapeInterval))
            {
                scraped = new HashSet<string>(observed, StringComparer.Ordinal);
            }

            if (!scraped.SetEquals(firing) && Aligned(at, evaluationPhase, evaluationInterval))
            {
                Evaluate(at);
            }

            if (group?.NextFlush == at)
            {
                Flush(at, sent);
            }

            if (group is { Alerts.Count: 0 } && Aligned(at, maintenancePhase, DispatcherMaintenance))
            {
                group = null;
            }

            cursor = at;
        }
    }

    /// <summary>The rule's evaluation: an alert for each pod the last scrape saw, none for the others; Prometheus sends the changes to Alertmanager.</summary>
    private void Evaluate(DateTimeOffset at)
    {
        foreach (var pod in scraped.Where(p => !firing.Contains(p)).ToList())
        {
            firing.Add(pod);
            if (group is null)
            {
                group = new Group(at + groupWait);
            }

            group.Alerts[pod] = true;
        }

        foreach (var pod in firing.Where(p => !scraped.Contains(p)).ToList())
        {
            firing.Remove(pod);
            // A group with a firing alert is never dropped, so the resolved alert finds its group.
            group!.Alerts[pod] = false;
        }
    }

    /// <summary>A flush: the dedup stage's rule (send_resolved false), then resolved alerts leave the group.</summary>
    private void Flush(DateTimeOffset at, List<FastPathNotification> sent)
    {
        var live = group!;
        var firingNow = live.Alerts.Where(a => a.Value).Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        var needsUpdate = !notifiedOnce
            ? firingNow.Count > 0
            : !firingNow.IsSubsetOf(notified) || (firingNow.Count == 0 ? notified.Count > 0 : notifiedAt < at - repeatInterval);
        if (needsUpdate)
        {
            if (firingNow.Count > 0)
            {
                sent.Add(new FastPathNotification(at, firingNow.Count));
            }

            // Logged even when nothing is sent (all resolved), so the next firing alert is new again.
            notifiedOnce = true;
            notified = firingNow;
            notifiedAt = at;
        }

        foreach (var resolved in live.Alerts.Where(a => !a.Value).Select(a => a.Key).ToList())
        {
            live.Alerts.Remove(resolved);
        }

        live.NextFlush = at + groupInterval;
    }

    private DateTimeOffset After(DateTimeOffset time, TimeSpan phase, TimeSpan interval)
    {
        var first = origin + phase;
        var k = time < first ? 0 : ((time - first).Ticks / interval.Ticks) + 1;
        return first + TimeSpan.FromTicks(k * interval.Ticks);
    }

    private bool Aligned(DateTimeOffset time, TimeSpan phase, TimeSpan interval) => time >= origin + phase && (time - origin - phase).Ticks % interval.Ticks == 0;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>A phase uniform within <paramref name="interval"/>, to the millisecond.</summary>
    public static TimeSpan Uniform(Random random, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(random);
        return TimeSpan.FromMilliseconds(Math.Floor(random.NextDouble() * interval.TotalMilliseconds));
    }

    private sealed class Group(DateTimeOffset firstFlush)
    {
        public DateTimeOffset NextFlush { get; set; } = firstFlush;

        /// <summary>Pod → firing (true) or resolved (false, until the next flush).</summary>
        public Dictionary<string, bool> Alerts { get; } = new(StringComparer.Ordinal);
    }
}
