using NodeFleet.Cluster;
using NodeFleet.Core.Cluster;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.CheckNodesReady;

/// <summary>
/// Which instances of the launch have joined as Ready nodes, which are still coming, and which
/// missed the deadline (launch time plus <c>nodeJoinTimeout</c>). The state machine waits and
/// asks again while the answer is Waiting.
/// </summary>
public sealed class Function
{
    public const string ManagedSelector = "nodefleet.io/managed=true";

    private readonly IClusterApi kubernetes;
    private readonly TimeSpan joinTimeout;
    private readonly TimeProvider clock;
    private readonly StepLog log;

    public Function()
        : this(ClusterAdapters.KubernetesFromEnvironment(ClusterSettings.FromEnvironment(Environment.GetEnvironmentVariable, needsPrometheus: false)),
            SettingsCatalog.FromEnvironment(Environment.GetEnvironmentVariable).NodeJoinTimeout, TimeProvider.System, Console.Out)
    {
    }

    public Function(IClusterApi kubernetes, TimeSpan joinTimeout, TimeProvider clock, TextWriter logOutput)
    {
        this.kubernetes = kubernetes;
        this.joinTimeout = joinTimeout;
        this.clock = clock;
        log = new StepLog(logOutput, clock, "CheckNodesReady");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.CheckNodesReadyRequest).ConfigureAwait(false);
        var launch = request.Launch;
        var nodes = await kubernetes.ListNodesAsync(ManagedSelector, CancellationToken.None).ConfigureAwait(false);
        var report = Readiness.Evaluate(launch, nodes, clock.GetUtcNow(), joinTimeout);
        log.Info($"{report.Status}: {report.Ready.Count} Ready, {report.Pending.Count} coming, {report.Overdue.Count} overdue (deadline {report.Deadline:O})",
            new Dictionary<string, object?> { ["launchId"] = launch.LaunchId, ["overdue"] = string.Join(",", report.Overdue) });
        return StepJson.Write(report, NodeFleetJsonContext.Default.ReadinessReport);
    }
}
