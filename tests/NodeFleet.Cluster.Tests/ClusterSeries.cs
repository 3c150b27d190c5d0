using System.Globalization;
using System.Text;

namespace NodeFleet.Cluster.Tests;

/// <summary>
/// Forty minutes of node-exporter and kube-state-metrics series, as OpenMetrics for promtool to
/// backfill. Workers w1 and w2 (2 CPUs, 8 GiB each) run at 20 % CPU and 30 % memory until minute
/// 25, then at 80 % and 80 %; the master runs at 90 % throughout and must not count. Four pending
/// <c>batch/grow-N</c> pods of 100m arrive one every two minutes (minutes 1.5, 3.5, 5.5 and 7.5), a
/// trend in the requests that is over before minute 10. cAdvisor's working set: <c>shop/api</c> on w1
/// uses 0.8 of the 1 GiB it requests until minute 30, then 1.3; <c>shop/cache</c> on w2, which requests
/// no memory, shows up at minute 35; a pod on the master uses 5 GiB and requests none throughout
/// (the master must not count).
/// </summary>
internal static class ClusterSeries
{
    public static readonly DateTimeOffset Start = new(2026, 11, 18, 10, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset StepAt = Start.AddMinutes(25);
    public static readonly DateTimeOffset End = Start.AddMinutes(40);
    private const int StepSeconds = 15;
    private const double GiB = 1024.0 * 1024 * 1024;

    private static double WorkerCpu(DateTimeOffset t) => t < StepAt ? 0.2 : 0.8;
    private static double WorkerMemory(DateTimeOffset t) => t < StepAt ? 0.3 : 0.8;

    public static readonly DateTimeOffset ApiOverusesAt = Start.AddMinutes(30);
    public static readonly DateTimeOffset CacheAppearsAt = Start.AddMinutes(35);

    /// <summary>When each <c>batch/grow-N</c> pod arrives; before that its request reads 0.</summary>
    public static IReadOnlyList<DateTimeOffset> GrowArrivals { get; } = [.. new[] { 1.5, 3.5, 5.5, 7.5 }.Select(Start.AddMinutes)];

    public static string OpenMetrics()
    {
        var text = new StringBuilder();
        var times = Enumerable.Range(0, (int)((End - Start).TotalSeconds / StepSeconds) + 1).Select(i => Start.AddSeconds(i * StepSeconds)).ToList();
        var nodes = new[] { ("master", 0.9, 0.9), ("w1", -1.0, -1.0), ("w2", -1.0, -1.0) };

        text.AppendLine("# TYPE node_cpu_seconds_total gauge");
        foreach (var (node, cpuFixed, _) in nodes)
        {
            foreach (var cpu in new[] { "0", "1" })
            {
                foreach (var mode in new[] { "idle", "user" })
                {
                    double counter = 1000;
                    for (var i = 0; i < times.Count; i++)
                    {
                        if (i > 0)
                        {
                            var busy = cpuFixed >= 0 ? cpuFixed : WorkerCpu(times[i - 1]);
                            counter += StepSeconds * (mode == "idle" ? 1 - busy : busy);
                        }

                        Sample(text, "node_cpu_seconds_total", $"node=\"{node}\",cpu=\"{cpu}\",mode=\"{mode}\"", counter, times[i]);
                    }
                }
            }
        }

        Family(text, "node_memory_MemTotal_bytes", times, nodes.Select(n => ($"node=\"{n.Item1}\"", (Func<DateTimeOffset, double>)(_ => 8 * GiB))));
        Family(text, "node_memory_MemAvailable_bytes", times, nodes.Select(n => ($"node=\"{n.Item1}\"",
            (Func<DateTimeOffset, double>)(t => 8 * GiB * (1 - (n.Item3 >= 0 ? n.Item3 : WorkerMemory(t)))))));

        Constant(text, "kube_node_info", times,
            ("node=\"master\",provider_id=\"k3s://master\"", 1),
            ("node=\"w1\",provider_id=\"aws:///us-east-1a/i-0aaa1\"", 1),
            ("node=\"w2\",provider_id=\"aws:///us-east-1b/i-0bbb2\"", 1));
        Constant(text, "kube_node_status_condition", times,
            ("node=\"master\",condition=\"Ready\",status=\"true\"", 1),
            ("node=\"w1\",condition=\"Ready\",status=\"true\"", 1),
            ("node=\"w2\",condition=\"Ready\",status=\"true\"", 1),
            ("node=\"w1\",condition=\"Ready\",status=\"false\"", 0));
        Constant(text, "kube_node_status_allocatable", times, nodes.SelectMany(n => new[]
        {
            ($"node=\"{n.Item1}\",resource=\"cpu\",unit=\"core\"", 1.93),
            ($"node=\"{n.Item1}\",resource=\"memory\",unit=\"byte\"", 7.5 * GiB),
            ($"node=\"{n.Item1}\",resource=\"pods\",unit=\"integer\"", 110.0),
        }).ToArray());
        Constant(text, "kube_node_spec_unschedulable", times, ("node=\"master\"", 0), ("node=\"w1\"", 0), ("node=\"w2\"", 1));
        Constant(text, "kube_node_spec_taint", times, ("node=\"master\",key=\"node-role.kubernetes.io/control-plane\",value=\"\",effect=\"NoSchedule\"", 1));
        Constant(text, "kube_node_role", times, ("node=\"master\",role=\"control-plane\"", 1));
        Constant(text, "kube_node_labels", times,
            ("node=\"master\"", 1),
            ("node=\"w1\",label_nodefleet_io_managed=\"true\",label_nodefleet_io_capacity_type=\"spot\",label_topology_kubernetes_io_zone=\"us-east-1a\",label_node_kubernetes_io_instance_type=\"t3.large\"", 1),
            ("node=\"w2\",label_nodefleet_io_managed=\"true\",label_nodefleet_io_capacity_type=\"on-demand\",label_topology_kubernetes_io_zone=\"us-east-1b\",label_node_kubernetes_io_instance_type=\"t3.large\"", 1));
        Constant(text, "kube_node_created", times, ("node=\"master\"", 1794900000), ("node=\"w1\"", 1794992400), ("node=\"w2\"", 1794994200));

        // Pods: api (Running) and done (Succeeded) on w1, cache (Running) on w2; web-1/web-2/solo unschedulable; puller Pending but scheduled (pulling its image).
        Constant(text, "kube_pod_info", times,
            ("namespace=\"shop\",pod=\"api\",node=\"w1\"", 1), ("namespace=\"shop\",pod=\"done\",node=\"w1\"", 1),
            ("namespace=\"shop\",pod=\"cache\",node=\"w2\"", 1), ("namespace=\"shop\",pod=\"puller\",node=\"w2\"", 1),
            ("namespace=\"shop\",pod=\"web-1\",node=\"\"", 1), ("namespace=\"shop\",pod=\"web-2\",node=\"\"", 1), ("namespace=\"batch\",pod=\"solo\",node=\"\"", 1));
        Constant(text, "kube_pod_status_phase", times,
            ("namespace=\"shop\",pod=\"api\",phase=\"Running\"", 1), ("namespace=\"shop\",pod=\"done\",phase=\"Succeeded\"", 1),
            ("namespace=\"shop\",pod=\"done\",phase=\"Running\"", 0), ("namespace=\"shop\",pod=\"cache\",phase=\"Running\"", 1),
            ("namespace=\"shop\",pod=\"puller\",phase=\"Pending\"", 1), ("namespace=\"shop\",pod=\"web-1\",phase=\"Pending\"", 1),
            ("namespace=\"shop\",pod=\"web-2\",phase=\"Pending\"", 1), ("namespace=\"batch\",pod=\"solo\",phase=\"Pending\"", 1),
            ("namespace=\"batch\",pod=\"grow-1\",phase=\"Pending\"", 1), ("namespace=\"batch\",pod=\"grow-2\",phase=\"Pending\"", 1),
            ("namespace=\"batch\",pod=\"grow-3\",phase=\"Pending\"", 1), ("namespace=\"batch\",pod=\"grow-4\",phase=\"Pending\"", 1));
        Family(text, "kube_pod_container_resource_requests", times, new (string Labels, double Value)[]
        {
            ("namespace=\"shop\",pod=\"api\",container=\"app\",node=\"w1\",resource=\"cpu\",unit=\"core\"", 0.5),
            ("namespace=\"shop\",pod=\"api\",container=\"app\",node=\"w1\",resource=\"memory\",unit=\"byte\"", GiB),
            ("namespace=\"shop\",pod=\"done\",container=\"app\",node=\"w1\",resource=\"cpu\",unit=\"core\"", 1.0),
            ("namespace=\"shop\",pod=\"cache\",container=\"app\",node=\"w2\",resource=\"cpu\",unit=\"core\"", 0.25),
            ("namespace=\"shop\",pod=\"puller\",container=\"app\",node=\"w2\",resource=\"cpu\",unit=\"core\"", 0.1),
            ("namespace=\"shop\",pod=\"web-1\",container=\"app\",node=\"\",resource=\"cpu\",unit=\"core\"", 0.4),
            ("namespace=\"shop\",pod=\"web-1\",container=\"sidecar\",node=\"\",resource=\"cpu\",unit=\"core\"", 0.1),
            ("namespace=\"shop\",pod=\"web-1\",container=\"app\",node=\"\",resource=\"memory\",unit=\"byte\"", 512 * 1024 * 1024.0),
            ("namespace=\"shop\",pod=\"web-2\",container=\"app\",node=\"\",resource=\"cpu\",unit=\"core\"", 0.4),
            ("namespace=\"shop\",pod=\"web-2\",container=\"sidecar\",node=\"\",resource=\"cpu\",unit=\"core\"", 0.1),
            ("namespace=\"shop\",pod=\"web-2\",container=\"app\",node=\"\",resource=\"memory\",unit=\"byte\"", 512 * 1024 * 1024.0),
            ("namespace=\"batch\",pod=\"solo\",container=\"app\",node=\"\",resource=\"cpu\",unit=\"core\"", 1.0),
        }.Select(s => (s.Labels, (Func<DateTimeOffset, double>)(_ => s.Value)))
            .Concat(GrowArrivals.Select((arrival, i) => ($"namespace=\"batch\",pod=\"grow-{i + 1}\",container=\"app\",node=\"\",resource=\"cpu\",unit=\"core\"",
                (Func<DateTimeOffset, double>)(t => t >= arrival ? 0.1 : 0)))));
        const string workingSet = "container_memory_working_set_bytes";
        text.AppendLine($"# TYPE {workingSet} gauge");
        foreach (var t in times)
        {
            Sample(text, workingSet, "namespace=\"shop\",pod=\"api\",container=\"app\",node=\"w1\"", GiB * (t < ApiOverusesAt ? 0.8 : 1.3), t);
            Sample(text, workingSet, "namespace=\"shop\",pod=\"api\",container=\"\",node=\"w1\"", 3 * GiB, t); // the pod's own cgroup, not a container
            Sample(text, workingSet, "namespace=\"kube-system\",pod=\"agent\",container=\"agent\",node=\"master\"", 5 * GiB, t);
            if (t >= CacheAppearsAt)
            {
                Sample(text, workingSet, "namespace=\"shop\",pod=\"cache\",container=\"app\",node=\"w2\"", 0.1 * GiB, t);
            }
        }

        Constant(text, "kube_pod_status_unschedulable", times,
            ("namespace=\"shop\",pod=\"web-1\"", 1), ("namespace=\"shop\",pod=\"web-2\"", 1), ("namespace=\"batch\",pod=\"solo\"", 1));
        Constant(text, "kube_pod_owner", times,
            ("namespace=\"shop\",pod=\"web-1\",owner_kind=\"ReplicaSet\",owner_name=\"web-7c9\",owner_is_controller=\"true\"", 1),
            ("namespace=\"shop\",pod=\"web-2\",owner_kind=\"ReplicaSet\",owner_name=\"web-7c9\",owner_is_controller=\"true\"", 1));
        text.AppendLine("# EOF");
        return text.ToString();
    }

    private static void Constant(StringBuilder text, string family, List<DateTimeOffset> times, params (string Labels, double Value)[] series) =>
        Family(text, family, times, series.Select(s => (s.Labels, (Func<DateTimeOffset, double>)(_ => s.Value))));

    private static void Family(StringBuilder text, string family, List<DateTimeOffset> times, IEnumerable<(string Labels, Func<DateTimeOffset, double> Value)> series)
    {
        text.AppendLine($"# TYPE {family} gauge");
        foreach (var (labels, value) in series)
        {
            foreach (var t in times)
            {
                Sample(text, family, labels, value(t), t);
            }
        }
    }

    private static void Sample(StringBuilder text, string family, string labels, double value, DateTimeOffset t) =>
        text.Append(family).Append('{').Append(labels).Append("} ")
            .Append(value.ToString("R", CultureInfo.InvariantCulture)).Append(' ')
            .AppendLine(t.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
}
