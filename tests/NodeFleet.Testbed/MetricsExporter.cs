using System.Globalization;
using System.Net;
using System.Text;

namespace NodeFleet.Testbed;

/// <summary>
/// The series node-exporter and kube-state-metrics would expose for the model, on a loopback
/// HTTP port for Prometheus to scrape: CPU counters integrated from the pods' usage, memory from
/// what they use (their requests unless a pod says otherwise), cAdvisor's working set per pod with
/// the node label the master's scrape config adds, node and pod facts, and which pods are unschedulable.
/// </summary>
public sealed class MetricsExporter : IDisposable
{
    private readonly ClusterModel cluster;
    private readonly LoopbackHttpServer server;
    private readonly Dictionary<string, double> busySeconds = [];
    private readonly Dictionary<string, double> idleSeconds = [];
    private DateTimeOffset last = DateTimeOffset.UtcNow;

    public MetricsExporter(ClusterModel cluster)
    {
        this.cluster = cluster;
        server = new LoopbackHttpServer(ServeAsync);
    }

    public Uri Url => server.Url;

    private async Task ServeAsync(HttpListenerContext context)
    {
        var body = Encoding.UTF8.GetBytes(Render());
        context.Response.ContentType = "text/plain; version=0.0.4";
        await context.Response.OutputStream.WriteAsync(body);
        context.Response.Close();
    }

    /// <summary>The exposition text at this moment; CPU counters advance by the time since the last scrape.</summary>
    public string Render()
    {
        cluster.Schedule();
        var text = new StringBuilder();
        void Line(string name, string labels, double value) =>
            text.Append(name).Append('{').Append(labels).Append("} ").AppendLine(value.ToString("R", CultureInfo.InvariantCulture));

        lock (busySeconds)
        {
            var now = DateTimeOffset.UtcNow;
            var elapsed = (now - last).TotalSeconds;
            last = now;
            cluster.Read((nodes, pods, _) =>
            {
                foreach (var node in nodes)
                {
                    var bound = pods.Where(p => p.NodeName == node.Name && p.Phase == "Running").ToList();
                    var cores = Math.Max(1, node.CpuMillis / 1000);
                    var busy = Math.Min(1.0, bound.Sum(p => p.CpuUsageMillis) / (double)node.CpuMillis);
                    for (var cpu = 0; cpu < cores; cpu++)
                    {
                        var key = $"{node.Name}/{cpu}";
                        busySeconds[key] = busySeconds.GetValueOrDefault(key) + elapsed * busy;
                        idleSeconds[key] = idleSeconds.GetValueOrDefault(key) + elapsed * (1 - busy);
                        Line("node_cpu_seconds_total", $"node=\"{node.Name}\",cpu=\"{cpu}\",mode=\"user\"", busySeconds[key]);
                        Line("node_cpu_seconds_total", $"node=\"{node.Name}\",cpu=\"{cpu}\",mode=\"idle\"", idleSeconds[key]);
                    }

                    Line("node_memory_MemTotal_bytes", $"node=\"{node.Name}\"", node.MemoryBytes);
                    Line("node_memory_MemAvailable_bytes", $"node=\"{node.Name}\"", Math.Max(0, node.MemoryBytes - bound.Sum(p => p.MemoryInUse)));
                    foreach (var pod in bound)
                    {
                        Line("container_memory_working_set_bytes", $"namespace=\"{pod.Namespace}\",pod=\"{pod.Name}\",container=\"{(pod.Spec.Containers is [var first, ..] ? first.Name : "app")}\",node=\"{node.Name}\"", pod.MemoryInUse);
                    }

                    Line("kube_node_info", $"node=\"{node.Name}\",provider_id=\"{node.ProviderId}\"", 1);
                    Line("kube_node_status_condition", $"node=\"{node.Name}\",condition=\"Ready\",status=\"true\"", node.Ready ? 1 : 0);
                    Line("kube_node_status_allocatable", $"node=\"{node.Name}\",resource=\"cpu\",unit=\"core\"", node.CpuMillis / 1000.0);
                    Line("kube_node_status_allocatable", $"node=\"{node.Name}\",resource=\"memory\",unit=\"byte\"", node.MemoryBytes);
                    Line("kube_node_status_allocatable", $"node=\"{node.Name}\",resource=\"pods\",unit=\"integer\"", node.MaxPods);
                    Line("kube_node_spec_unschedulable", $"node=\"{node.Name}\"", node.Unschedulable ? 1 : 0);
                    Line("kube_node_created", $"node=\"{node.Name}\"", node.Created.ToUnixTimeSeconds());
                    if (node.Labels.ContainsKey("node-role.kubernetes.io/control-plane"))
                    {
                        Line("kube_node_role", $"node=\"{node.Name}\",role=\"control-plane\"", 1);
                    }

                    foreach (var taint in node.Taints)
                    {
                        Line("kube_node_spec_taint", $"node=\"{node.Name}\",key=\"{taint.Key}\",value=\"{taint.Value}\",effect=\"{taint.Effect}\"", 1);
                    }

                    var labels = string.Join(",", node.Labels
                        .Where(l => l.Key is "nodefleet.io/managed" or "nodefleet.io/capacity-type" or "topology.kubernetes.io/zone" or "node.kubernetes.io/instance-type")
                        .Select(l => $"label_{Sanitize(l.Key)}=\"{l.Value}\""));
                    Line("kube_node_labels", $"node=\"{node.Name}\"" + (labels.Length > 0 ? "," + labels : ""), 1);
                }

                foreach (var pod in pods)
                {
                    var id = $"namespace=\"{pod.Namespace}\",pod=\"{pod.Name}\"";
                    Line("kube_pod_info", $"{id},node=\"{pod.NodeName}\"", 1);
                    Line("kube_pod_status_phase", $"{id},phase=\"{pod.Phase}\"", 1);
                    // Per container, as kube-state-metrics reports them: app containers here, init containers (sidecars too) in their own series.
                    foreach (var (series, containers) in new[] { ("kube_pod_container_resource_requests", pod.Spec.Containers), ("kube_pod_init_container_resource_requests", pod.Spec.InitContainers ?? []) })
                    {
                        foreach (var container in containers)
                        {
                            var requests = container.Resources?.Requests ?? new Dictionary<string, Quantity>();
                            if (requests.ContainsKey("cpu"))
                            {
                                Line(series, $"{id},container=\"{container.Name}\",node=\"{pod.NodeName}\",resource=\"cpu\",unit=\"core\"", container.CpuMillis / 1000.0);
                            }

                            if (requests.ContainsKey("memory"))
                            {
                                Line(series, $"{id},container=\"{container.Name}\",node=\"{pod.NodeName}\",resource=\"memory\",unit=\"byte\"", container.MemoryBytes);
                            }
                        }
                    }
                    Line("kube_pod_status_unschedulable", id, pod.Unschedulable ? 1 : 0);
                    if (pod.OwnerKind is not null)
                    {
                        Line("kube_pod_owner", $"{id},owner_kind=\"{pod.OwnerKind}\",owner_name=\"{pod.OwnerName}\"", 1);
                    }
                }

                return 0;
            });
        }

        return text.ToString();
    }

    private static string Sanitize(string label) => new(label.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());

    public void Dispose() => server.Dispose();
}
