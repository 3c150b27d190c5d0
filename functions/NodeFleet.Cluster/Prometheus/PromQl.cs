using System.Globalization;

namespace NodeFleet.Cluster.Prometheus;

/// <summary>
/// Every PromQL query NodeFleet runs, in one place. They read node-exporter and
/// kube-state-metrics as deployed on the master, where both carry a <c>node</c> label (node-exporter
/// through the scrape config's relabelling of <c>__meta_kubernetes_pod_node_name</c>), and
/// kube-state-metrics runs with
/// <c>--metric-labels-allowlist=nodes=[nodefleet.io/managed,nodefleet.io/capacity-type,topology.kubernetes.io/zone,node.kubernetes.io/instance-type]</c>.
/// "Workers" are the nodes without a control-plane or master role.
/// </summary>
public static class PromQl
{
    private const string NotControlPlane = """unless on(node) kube_node_role{role=~"control-plane|master"}""";

    /// <summary>Share of the workers' CPU cores busy (not idle), over <paramref name="rateWindow"/> (setting cpuRateWindow).</summary>
    public static string WorkerCpu(TimeSpan rateWindow) =>
        $$"""(sum(rate(node_cpu_seconds_total{mode!="idle"}[{{Seconds(rateWindow)}}]) {{NotControlPlane}}) / sum(count by (node, cpu) (node_cpu_seconds_total{mode="idle"}) {{NotControlPlane}}))""";

    /// <summary>Share of the workers' memory in use (total minus available).</summary>
    public const string WorkerMemory =
        $$"""(1 - sum(node_memory_MemAvailable_bytes {{NotControlPlane}}) / sum(node_memory_MemTotal_bytes {{NotControlPlane}}))""";

    /// <summary>
    /// The memory the containers on each worker use (cAdvisor's working set, scraped through the API
    /// server's node proxy with a <c>node</c> label) over what the active pods there request, the
    /// highest over the workers. A worker whose pods request no memory reads the cap of 100: memory
    /// in use the scheduler cannot see; one whose containers use nothing and request nothing (0/0) drops
    /// out. No series means unknown (cAdvisor not scraped).
    /// </summary>
    public const string MemoryUseOfRequests =
        $$"""max(clamp_max({{PodMemoryUse}} / ({{PodMemoryRequests}} or 0 * {{PodMemoryUse}}), 100) >= 0)""";

    private const string PodMemoryUse = $$"""sum by (node) (container_memory_working_set_bytes{container!="",container!="POD"} {{NotControlPlane}})""";

    private const string PodMemoryRequests = $$"""sum by (node) (kube_pod_container_resource_requests{resource="memory",node!=""} * {{Active}})""";

    /// <summary>The lowest value over <paramref name="window"/>: above a threshold means it held the whole window.</summary>
    public static string MinOver(string expression, TimeSpan window) => $"min_over_time({expression}[{Seconds(window)}:{Step(window, 12, 15)}])";

    /// <summary>The highest value over <paramref name="window"/>: below a threshold means it held the whole window.</summary>
    public static string MaxOver(string expression, TimeSpan window) => $"max_over_time({expression}[{Seconds(window)}:{Step(window, 12, 15)}])";

    /// <summary>CPU utilisation <paramref name="horizon"/> ahead, by a straight line fitted to <paramref name="lookback"/>.</summary>
    public static string PredictedCpu(string cpu, TimeSpan lookback, TimeSpan horizon) =>
        $"predict_linear({cpu}[{Seconds(lookback)}:{Step(lookback, 30, 60)}], {Seconds(horizon).TrimEnd('s')})";

    /// <summary>A subquery resolution giving about <paramref name="points"/> points over the window, between 1 s and <paramref name="most"/> s.</summary>
    private static string Step(TimeSpan window, int points, int most) =>
        Math.Clamp((long)(window.TotalSeconds / points), 1, most).ToString(CultureInfo.InvariantCulture) + "s";

    /// <summary>Every node (one series each): the node name and its provider id.</summary>
    public const string Nodes = "kube_node_info";

    /// <summary>1 for nodes whose Ready condition is True.</summary>
    public const string Ready = """kube_node_status_condition{condition="Ready",status="true"} == 1""";

    /// <summary>Allocatable cpu (cores), memory (bytes) and pods per node.</summary>
    public const string Allocatable = """kube_node_status_allocatable{resource=~"cpu|memory|pods"}""";

    /// <summary>Cordoned nodes.</summary>
    public const string Cordoned = "kube_node_spec_unschedulable == 1";

    /// <summary>Control-plane nodes.</summary>
    public const string ControlPlane = """kube_node_role{role=~"control-plane|master"}""";

    /// <summary>Node labels on the allowlist: managed, capacity type, zone, instance type.</summary>
    public const string Labels = "kube_node_labels";

    /// <summary>Node creation time (Unix seconds).</summary>
    public const string Created = "kube_node_created";

    /// <summary>Pods that hold a node's resources: Pending (bound) or Running.</summary>
    private const string Active = """on(namespace, pod) group_left() (kube_pod_status_phase{phase=~"Pending|Running"} == 1)""";

    /// <summary>Sum of cpu and memory requests of the active pods on each node.</summary>
    public const string Requested = $$"""sum by (node, resource) (kube_pod_container_resource_requests{resource=~"cpu|memory",node!=""} * {{Active}})""";

    /// <summary>Active pods per node.</summary>
    public const string PodCount = $$"""count by (node) (kube_pod_info{node!=""} * {{Active}})""";

    /// <summary>CPU (cores) requested by every Pending or Running pod, placed or not.</summary>
    public static readonly string RequestedCpu = RequestedCpuAgo(TimeSpan.Zero);

    /// <summary><see cref="RequestedCpu"/> as it was <paramref name="ago"/> before the evaluation time (the offset goes on each selector).</summary>
    public static string RequestedCpuAgo(TimeSpan ago)
    {
        var offset = ago > TimeSpan.Zero ? $" offset {Seconds(ago)}" : "";
        return $$"""sum(kube_pod_container_resource_requests{resource="cpu"}{{offset}} * on(namespace, pod) group_left() (kube_pod_status_phase{phase=~"Pending|Running"}{{offset}} == 1))""";
    }

    /// <summary>
    /// In how many of <paramref name="window"/>'s four quarters <see cref="RequestedCpu"/> ended above
    /// where it started; a quarter with no data at its start (a younger cluster) counts as not rising.
    /// </summary>
    public static string RequestedCpuRisingQuarters(TimeSpan window) => string.Join(" + ", Enumerable.Range(0, 4).Select(q =>
        $"(({RequestedCpuAgo(window * q / 4)} >bool {RequestedCpuAgo(window * (q + 1) / 4)}) or vector(0))"));

    /// <summary>How far <see cref="RequestedCpu"/> is above its lowest point over <paramref name="window"/> (cores).</summary>
    public static string RequestedCpuRise(TimeSpan window) => $"{RequestedCpu} - min_over_time(({RequestedCpu})[{Seconds(window)}:{Step(window, 30, 60)}])";

    /// <summary>Highest minus lowest <see cref="RequestedCpu"/> over <paramref name="window"/> (cores): 0 for a flat workload.</summary>
    public static string RequestedCpuSwing(TimeSpan window) =>
        $"max_over_time(({RequestedCpu})[{Seconds(window)}:{Step(window, 30, 60)}]) - min_over_time(({RequestedCpu})[{Seconds(window)}:{Step(window, 30, 60)}])";

    private static string Seconds(TimeSpan span) => ((long)span.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
}
