using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using NodeFleet.Testbed;

// The scenarios: what happens to the workload, and when (seconds from the start). An event may
// also return a trigger, which the demo starts as an execution at once (as EventBridge would).
var scenarios = new Dictionary<string, (string Description, int Seconds, (int At, string What, Func<LocalEnvironment, object?> Apply)[] Events)>
{
    ["flash-sale"] = ("a quiet shop, a sudden sale that needs many more nodes, then quiet again", 150,
    [
        (0, "2 shop pods at low load", c => AddPods(c, "shop", 2, 500, 100)),
        (20, "flash sale: 12 checkout pods of 1.5 cores arrive", c => AddPods(c, "checkout", 12, 1500, 1200)),
        (90, "sale over: checkout pods scaled away", c => RemovePods(c, "checkout")),
    ]),
    ["ramp"] = ("load grows in steps", 120,
    [
        (0, "2 pods", c => AddPods(c, "api", 2, 1000, 500)),
        (20, "+3 pods", c => AddPods(c, "api", 3, 1000, 900, first: 2)),
        (45, "+4 pods", c => AddPods(c, "api", 4, 1000, 900, first: 5)),
    ]),
    ["sustained"] = ("every pod has a place, but they burn 95 % of their nodes' CPU for minutes", 100,
    [
        (0, "4 api pods of 1 core, each busy 0.95 cores", c => AddPods(c, "api", 4, 1000, 950)),
    ]),
    ["drop-to-idle"] = ("a busy fleet whose load goes away: it shrinks back to the minimum, one drained node at a time", 200,
    [
        (0, "8 batch pods of 1.5 cores", c => AddPods(c, "batch", 8, 1500, 1200)),
        (45, "batch done: every pod removed", c => RemovePods(c, "batch")),
    ]),
    ["spot-interruption"] = ("EC2 reclaims a spot worker: it is drained at once and a replacement launched", 90,
    [
        (0, "4 web pods of 1.5 cores", c => AddPods(c, "web", 4, 1500, 800)),
        (40, "EC2 Spot Instance Interruption Warning for one worker", SpotWarning),
    ]),
    ["idle"] = ("nothing runs: the fleet stays at its minimum", 45, [(0, "no workload", _ => null)]),
};

var name = args.SkipWhile(a => a != "--scenario").Skip(1).FirstOrDefault() ?? "flash-sale";
var tickSeconds = int.Parse(args.SkipWhile(a => a != "--tick").Skip(1).FirstOrDefault() ?? "20", CultureInfo.InvariantCulture);
if (!scenarios.TryGetValue(name, out var scenario))
{
    Console.Error.WriteLine($"demo: unknown scenario '{name}' (known: {string.Join(", ", scenarios.Keys)})");
    return 2;
}

Console.WriteLine($"NodeFleet demo: {name} — {scenario.Description}");
Console.WriteLine("Starting moto_server, Prometheus, Alertmanager, the emulated cluster and the local invoke host on loopback ports...");
// The fast path on: Prometheus' pending-pods rule (every 10 s, as deployed), Alertmanager's SNS receiver, SQS and the local Pipe.
await using var cloud = new LocalEnvironment { FastPath = true };
using var cancel = new CancellationTokenSource();
// Ctrl-C (SIGINT) and kill (SIGTERM) stop cleanly: every process started is killed by PID on dispose.
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; cancel.Cancel(); });
await cloud.StartAsync();
cloud.Model.Add(TestNode.ControlPlane());
await cloud.WaitForAsync("count(kube_node_info)", 1, TimeSpan.FromSeconds(60)); // the first scrape: no tick on missing data
Console.WriteLine($"Ready. A scheduled tick every {tickSeconds} s (the 2-minute schedule, compressed); pending pods start an execution at once through the fast path;");
Console.WriteLine("EC2 events start one as they happen. Wait states take 1 s; timings compressed (see tests/NodeFleet.Testbed/LocalEnvironment.cs).\n");
Console.WriteLine($"{"time",5}  {"ready",5} {"launching",9} {"pending",7} {"cpu",5}  {"trigger",-12}  execution");

var start = DateTimeOffset.UtcNow;
var rows = new List<(double At, string Trigger, int Ready, int Pending, string Action)>();
var background = new List<Task>();
var gate = new object();

// One timeline row per finished execution, whatever started it (the trigger column says what).
void Row(string trigger, JsonElement run)
{
    var (ready, launching, unschedulable) = Counts(cloud.Model, cloud);
    var decision = run.TryGetProperty("output", out var state) && state.ValueKind == JsonValueKind.Object && state.TryGetProperty("decision", out var d) ? d : default;
    var action = decision.ValueKind == JsonValueKind.Object ? $"{decision.GetProperty("action").GetString()}: {decision.GetProperty("reason").GetString()}" : run.GetProperty("error").GetProperty("message").GetString();
    var cpu = decision.ValueKind == JsonValueKind.Object && decision.GetProperty("figures").TryGetProperty("cpuNow", out var c) ? $"{c.GetDouble():P0}" : "n/a";
    lock (gate)
    {
        var at = (DateTimeOffset.UtcNow - start).TotalSeconds;
        Console.WriteLine($"{at,4:0}s  {ready,5} {launching,9} {unschedulable,7} {cpu,5}  {trigger,-12}  {run.GetProperty("status").GetString()} in {run.GetProperty("transitions").GetInt32()} transitions — {action}");
        rows.Add((at, trigger, ready, unschedulable, decision.ValueKind == JsonValueKind.Object ? decision.GetProperty("action").GetString()! : "Failed"));
    }
}

// An execution started without waiting for it (the Pipe's, an EC2 event's): its row when it ends.
void Follow(string trigger, Task<JsonElement> run)
{
    lock (gate)
    {
        background.Add(run.ContinueWith(t => { if (t.IsCompletedSuccessfully && !cancel.IsCancellationRequested) { Row(trigger, t.Result); } }, TaskScheduler.Default));
    }
}

// The workload's events at their own times, between ticks (pending pods need no tick to be seen).
var events = Task.Run(async () =>
{
    foreach (var e in scenario.Events.OrderBy(e => e.At))
    {
        try
        {
            await Task.Delay(start.AddSeconds(e.At) - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero, cancel.Token);
        }
        catch (TaskCanceledException)
        {
            return;
        }

        var trigger = e.Apply(cloud);
        cloud.Model.Schedule();
        lock (gate)
        {
            Console.WriteLine($"{(DateTimeOffset.UtcNow - start).TotalSeconds,4:0}s  ── {e.What}");
        }

        if (trigger is not null)
        {
            Follow("ec2 event", cloud.RunAsync(JsonSerializer.Serialize(trigger)));
        }
    }
});

// The fast path's executions, as the local Pipe starts them.
var followed = 0;
var pipe = Task.Run(async () =>
{
    while (!cancel.IsCancellationRequested)
    {
        foreach (var execution in cloud.Pipe.Executions.Skip(followed))
        {
            Follow("pending pods", execution.Run);
            followed++;
        }

        try
        {
            await Task.Delay(200, cancel.Token);
        }
        catch (TaskCanceledException)
        {
        }
    }
});

for (var tick = 0; !cancel.IsCancellationRequested && tick * tickSeconds < scenario.Seconds; tick++)
{
    try
    {
        var wait = start.AddSeconds(tick * tickSeconds) - DateTimeOffset.UtcNow;
        await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, cancel.Token);
    }
    catch (TaskCanceledException)
    {
        break;
    }

    cloud.Model.Schedule();
    try
    {
        Row("schedule", await cloud.RunAsync("{}"));
    }
    catch (Exception e) when (cancel.IsCancellationRequested && e is InvalidOperationException or JsonException)
    {
        break; // stopped mid-execution: the summary covers what finished
    }
}

if (!cancel.IsCancellationRequested)
{
    // The last events' executions end before the summary.
    await events;
    Task[] left;
    lock (gate)
    {
        left = [.. background];
    }

    await Task.WhenAll(left);
}

await cancel.CancelAsync();
await pipe;
List<(double At, string Trigger, int Ready, int Pending, string Action)> done;
lock (gate)
{
    done = [.. rows];
}

Console.WriteLine();
Console.WriteLine("Summary");
Console.WriteLine($"  executions            {done.Count}");
Console.WriteLine($"  by the schedule       {done.Count(r => r.Trigger == "schedule")}");
Console.WriteLine($"  by pending pods       {done.Count(r => r.Trigger == "pending pods")} (the fast path)");
Console.WriteLine($"  by EC2 events         {done.Count(r => r.Trigger == "ec2 event")}");
Console.WriteLine($"  scale-ups             {done.Count(r => r.Action == "ScaleUp")} ({done.Count(r => r.Action == "ScaleUp" && r.Trigger == "pending pods")} started by pending pods)");
Console.WriteLine($"  scale-downs           {done.Count(r => r.Action == "ScaleDown")}");
Console.WriteLine($"  replacements          {done.Count(r => r.Action == "Replace")}");
Console.WriteLine($"  most Ready workers    {(done.Count > 0 ? done.Max(r => r.Ready) : 0)}");
Console.WriteLine($"  ticks with pending    {done.Count(r => r.Trigger == "schedule" && r.Pending > 0)} of {done.Count(r => r.Trigger == "schedule")}");
Console.WriteLine($"  EC2 instances left    {cloud.Instances().Count(i => i.State == "running")} running");
Console.WriteLine("Stopping every process started...");
return 0;

static (int Ready, int Launching, int Unschedulable) Counts(ClusterModel model, LocalEnvironment cloud)
{
    var running = cloud.Instances().Where(i => i.State is "pending" or "running").Select(i => i.Id).ToHashSet();
    return model.Read((nodes, pods, _) =>
    {
        var ready = nodes.Count(n => n.Ready && n.Labels.GetValueOrDefault("nodefleet.io/managed") == "true");
        var joined = nodes.Select(n => n.ProviderId ?? "").ToList();
        var launching = running.Count(id => !joined.Any(p => p.EndsWith("/" + id, StringComparison.Ordinal)));
        return (ready, launching, pods.Count(p => p.Unschedulable));
    });
}

static object? AddPods(LocalEnvironment cloud, string app, int count, long cpuMillis, long usageMillis, int first = 0)
{
    for (var i = first; i < first + count; i++)
    {
        cloud.Model.Add(new TestPod { Namespace = "demo", Name = $"{app}-{i}", OwnerName = app, Phase = "Pending", CpuMillis = cpuMillis, MemoryBytes = 256L << 20, CpuUsageMillis = usageMillis, Labels = { ["app"] = app } });
    }

    return null;
}

static object? RemovePods(LocalEnvironment cloud, string app)
{
    foreach (var pod in cloud.Model.Read((_, pods, _) => pods.Where(p => p.Labels.GetValueOrDefault("app") == app).Select(p => p.Name).ToList()))
    {
        cloud.Model.RemovePod("demo", pod);
    }

    return null;
}

// The event EventBridge delivers two minutes before EC2 reclaims a spot instance, for the first worker that joined.
static object? SpotWarning(LocalEnvironment cloud)
{
    var joined = cloud.Model.Read((nodes, _, _) => nodes.Select(n => n.ProviderId ?? "").ToList());
    var (id, _) = cloud.Instances().FirstOrDefault(i => i.State == "running" && joined.Any(p => p.EndsWith("/" + i.Id, StringComparison.Ordinal)));
    return id is null ? null : Ec2Events.Of(Ec2Events.SpotWarning, id);
}
