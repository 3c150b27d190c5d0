using System.Globalization;
using System.Text;
using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;
using NodeFleet.Reaction;
using NodeFleet.Testbed;

// scripts/reaction: the fast path's reaction time and cost on the testbed, with the intervals as
// deployed (scrape 15 s, the rule file's 10 s evaluation, Alertmanager's default timings, the
// 2-minute schedule). Four campaigns run side by side, each on a testbed of its own: bursts with
// the fast path and the schedule, bursts with the schedule alone (Alertmanager stopped), a window
// while pods stay pending that no launch can serve, and a quiet window.
var bursts = int.Parse(Option("--bursts") ?? "10", CultureInfo.InvariantCulture);
var window = TimeSpan.FromMinutes(double.Parse(Option("--window") ?? "10", CultureInfo.InvariantCulture));
var output = Option("--out") ?? "reaction.json";
var seed = int.Parse(Option("--seed") ?? Environment.TickCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
if (bursts < 1 || window <= TimeSpan.Zero)
{
    Console.Error.WriteLine("reaction: --bursts N (at least 1) --window MINUTES (positive) --out FILE --seed N");
    return 2;
}

var schedule = SettingsCatalog.ScheduleRate.Default;
Console.WriteLine($"NodeFleet reaction: {bursts} bursts per path, windows of {window.TotalMinutes:0.#} min, schedule every {schedule.TotalSeconds:0} s, scrape {Campaign.Scrape.TotalSeconds:0} s, "
    + $"rule evaluation {FastPath.RuleEvaluationInterval.TotalSeconds:0} s, Alertmanager group_wait {SettingsCatalog.FastPathGroupWait.Default.TotalSeconds:0} s / group_interval "
    + $"{SettingsCatalog.FastPathGroupInterval.Default.TotalSeconds:0} s / repeat_interval {SettingsCatalog.FastPathRepeatInterval.Default.TotalMinutes:0} min, seed {seed}");
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

var random = new Random(seed);
var campaigns = new[]
{
    Campaign.BurstsAsync("fast path + schedule", fastPath: true, bursts, schedule, new Random(random.Next()), cancel.Token),
    Campaign.BurstsAsync("schedule alone", fastPath: false, bursts, schedule, new Random(random.Next()), cancel.Token),
};
var windows = new[]
{
    Campaign.WindowAsync("pods stay pending", pending: true, window, schedule, new Random(random.Next()), cancel.Token),
    Campaign.WindowAsync("quiet", pending: false, window, schedule, new Random(random.Next()), cancel.Token),
};
var reactions = await Task.WhenAll(campaigns);
var costs = await Task.WhenAll(windows);

var text = new StringBuilder();
text.AppendLine(CultureInfo.InvariantCulture, $"## Seconds from unschedulable to CreateFleet ({bursts} bursts each; percentiles interpolated linearly)");
text.AppendLine();
text.AppendLine("| path | bursts launched | p50 s | p95 s | min s | max s | launched by the fast path |");
text.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
foreach (var r in reactions)
{
    var seconds = r.Bursts.Where(b => b.Seconds is not null).Select(b => b.Seconds!.Value).ToList();
    text.AppendLine(CultureInfo.InvariantCulture,
        $"| {r.Path} | {seconds.Count} of {r.Bursts.Count} | {Stats.Percentile(seconds, 0.50):0.0} | {Stats.Percentile(seconds, 0.95):0.0} | {(seconds.Count > 0 ? seconds.Min() : double.NaN):0.0} | {(seconds.Count > 0 ? seconds.Max() : double.NaN):0.0} | {r.Bursts.Count(b => b.LaunchedBy == "PendingPods")} |");
}

text.AppendLine();
text.AppendLine(CultureInfo.InvariantCulture, $"## Executions and state transitions per hour (measured over {window.TotalMinutes:0.#} min, scaled to an hour)");
text.AppendLine();
text.AppendLine("| window | fast-path executions | scheduled executions | executions per hour | transitions | transitions per hour | transitions per execution | CreateFleet calls |");
text.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
foreach (var c in costs)
{
    var perHour = TimeSpan.FromHours(1) / c.Window;
    var executions = c.Executions.Count;
    var transitions = c.Executions.Sum(e => e.Transitions);
    var shapes = string.Join(", ", c.Executions.GroupBy(e => e.Transitions).OrderBy(g => g.Key).Select(g => $"{g.Key} ×{g.Count()}"));
    text.AppendLine(CultureInfo.InvariantCulture,
        $"| {c.Name} | {c.Executions.Count(e => e.Trigger == "PendingPods")} | {c.Executions.Count(e => e.Trigger == "Schedule")} | {executions * perHour:0} | {transitions} | {transitions * perHour:0} | {shapes} | {c.CreateFleetCalls} |");
}

text.AppendLine();
text.AppendLine(CultureInfo.InvariantCulture,
    $"Bound from the contract: at most {FastPath.MaxExecutionsPerHour(SettingsCatalog.FastPathGroupInterval.Default)} fast-path executions an hour while pods keep changing, "
    + $"{FastPath.ExecutionsPerHourWhilePending(SettingsCatalog.FastPathRepeatInterval.Default)} while the same pods stay pending; the schedule adds {TimeSpan.FromHours(1) / schedule:0}.");
Console.WriteLine();
Console.Write(text);
await File.WriteAllTextAsync(output, JsonSerializer.Serialize(new
{
    seed,
    intervals = new
    {
        scrapeSeconds = Campaign.Scrape.TotalSeconds,
        ruleEvaluationSeconds = FastPath.RuleEvaluationInterval.TotalSeconds,
        groupWaitSeconds = SettingsCatalog.FastPathGroupWait.Default.TotalSeconds,
        groupIntervalSeconds = SettingsCatalog.FastPathGroupInterval.Default.TotalSeconds,
        repeatIntervalSeconds = SettingsCatalog.FastPathRepeatInterval.Default.TotalSeconds,
        scheduleSeconds = schedule.TotalSeconds,
    },
    reaction = reactions.Select(r =>
    {
        var seconds = r.Bursts.Where(b => b.Seconds is not null).Select(b => b.Seconds!.Value).ToList();
        return new { path = r.Path, p50 = Stats.Percentile(seconds, 0.5), p95 = Stats.Percentile(seconds, 0.95), bursts = r.Bursts };
    }),
    perHour = costs.Select(c => new
    {
        window = c.Name,
        minutes = c.Window.TotalMinutes,
        executions = c.Executions,
        executionsPerHour = c.Executions.Count * (TimeSpan.FromHours(1) / c.Window),
        transitionsPerHour = c.Executions.Sum(e => e.Transitions) * (TimeSpan.FromHours(1) / c.Window),
        createFleetCalls = c.CreateFleetCalls,
    }),
}, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"Written to {output}.");
return 0;

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
