using System.Net;
using NodeFleet.Cluster.Prometheus;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Settings;

namespace NodeFleet.Cluster.Tests;

[Collection(PrometheusServerGroup.Name)]
public class PrometheusMetricsSourceTests(PrometheusServer prometheus)
{
    private const long GiB = 1024L * 1024 * 1024;

    private PrometheusMetricsSource Source(ScalingSettings? settings = null, Uri? url = null, TimeSpan? timeout = null) =>
        new(new PrometheusClient(new HttpClient { Timeout = timeout ?? TimeSpan.FromSeconds(5) }, url ?? prometheus.Url), settings ?? ScalingSettings.Defaults);

    [Theory]
    [InlineData(24, 0.2, 0.2, 0.2, 0.3, 0.3)]  // before the step: low everywhere
    [InlineData(27, 0.8, 0.2, 0.8, 0.8, 0.8)]  // 2 min after: high now, but not for the whole 3-minute window
    [InlineData(40, 0.8, 0.8, 0.8, 0.8, 0.8)]  // sustained
    public async Task CollectAsync_AtFixedTimes_ReadsWorkerUtilizationAndItsWindowsExactly(
        int minute, double cpuNow, double cpuMinUp, double cpuMaxDown, double memoryNow, double memoryMaxDown)
    {
        var snapshot = await Source().CollectAsync(ClusterSeries.Start.AddMinutes(minute), default);

        var u = snapshot.Utilization;
        Assert.Equal(cpuNow, u.CpuNow!.Value, 6);
        Assert.Equal(cpuMinUp, u.CpuMinOverUpWindow!.Value, 6);
        Assert.Equal(cpuMaxDown, u.CpuMaxOverDownWindow!.Value, 6);
        Assert.Equal(memoryNow, u.MemoryNow!.Value, 6);
        Assert.Equal(memoryMaxDown, u.MemoryMaxOverDownWindow!.Value, 6);
        Assert.Equal(ClusterSeries.Start.AddMinutes(minute), snapshot.CapturedAt);
    }

    [Theory]
    [InlineData(24, 0.8)]    // api uses 0.8 of its request; the master's 5 GiB and the pod cgroup do not count
    [InlineData(32, 1.3)]    // it went beyond at minute 30, within the 3-minute window
    [InlineData(40, 100.0)]  // cache, which requests no memory, uses some: the cap
    public async Task CollectAsync_WorkingSetAgainstRequests_ReadsTheHighestWorkerOverTheDownWindow(int minute, double expected)
    {
        var snapshot = await Source().CollectAsync(ClusterSeries.Start.AddMinutes(minute), default);

        Assert.Equal(expected, snapshot.Utilization.MemoryUseOfRequests!.Value, 6);
    }

    [Fact]
    public async Task CollectAsync_Nodes_CarryReadinessCapacityRequestsAndIdentity()
    {
        var nodes = (await Source().CollectAsync(ClusterSeries.End, default)).Nodes.ToDictionary(n => n.Name);

        var master = nodes["master"];
        // Its NoSchedule taint does not make it Unschedulable (a cordon): taints come from the API, and a pod may tolerate them.
        Assert.True(master.ControlPlane && !master.Unschedulable && master.Ready && !master.Managed);
        Assert.Null(master.InstanceId); // k3s://master maps to no instance

        var w1 = nodes["w1"];
        Assert.Equal(("i-0aaa1", "us-east-1a", "t3.large", CapacityType.Spot), (w1.InstanceId, w1.Zone, w1.InstanceType, w1.CapacityType));
        Assert.True(w1.Managed && w1.Ready && !w1.Unschedulable && !w1.ControlPlane);
        Assert.Equal(new Resources(1930, (long)(7.5 * GiB), 110), w1.Allocatable);
        Assert.Equal(new Resources(500, GiB, 1), w1.Requested); // the Succeeded pod holds nothing
        Assert.Equal(ClusterSeries.Start.AddHours(-1), w1.CreatedAt);

        var w2 = nodes["w2"];
        Assert.True(w2.Unschedulable); // cordoned
        Assert.Equal(CapacityType.OnDemand, w2.CapacityType);
        Assert.Equal(new Resources(350, 0, 2), w2.Requested); // a bound Pending pod holds its requests
    }

    [Fact]
    public async Task CollectAsync_UnschedulablePodsInTheSeries_AreNotReadFromMetrics()
    {
        // The series hold unschedulable pods, but their constraints are only in the API: pending
        // pods have one source, the API (PodFactsMapping), so metrics never count them twice or without constraints.
        var pending = (await Source().CollectAsync(ClusterSeries.End, default)).UnschedulablePods;

        Assert.Empty(pending);
    }

    [Fact]
    public async Task CollectAsync_PredictiveScaling_PredictsTheRisingCpu()
    {
        var settings = ScalingSettings.Defaults with { PredictiveHorizon = TimeSpan.FromMinutes(10), PredictiveLookback = TimeSpan.FromMinutes(30) };

        var snapshot = await Source(settings).CollectAsync(ClusterSeries.End, default);

        Assert.True(snapshot.PredictedCpuUtilization > 0.8, $"predicted {snapshot.PredictedCpuUtilization}");
    }

    [Fact]
    public async Task CollectAsync_CustomMetric_IsReadAtTheSameInstant()
    {
        var settings = ScalingSettings.Defaults with { CustomMetricQuery = "sum(kube_pod_status_unschedulable)", CustomMetricTargetPerNode = 1 };

        var snapshot = await Source(settings).CollectAsync(ClusterSeries.End, default);

        Assert.Equal(3, snapshot.CustomMetricValue);
    }

    [Fact]
    public async Task CollectAsync_PrometheusDown_IsMetricsUnavailable()
    {
        var closed = new Uri($"http://127.0.0.1:{PrometheusServer.FreePort()}/");

        var error = await Assert.ThrowsAsync<MetricsUnavailableException>(() => Source(url: closed).CollectAsync(ClusterSeries.End, default));

        Assert.Contains("could not be reached", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CollectAsync_PrometheusSlow_GivesUpAfterTheTimeout()
    {
        using var silent = new HttpListener();
        var url = new Uri($"http://127.0.0.1:{PrometheusServer.FreePort()}/");
        silent.Prefixes.Add(url.ToString());
        silent.Start(); // accepts connections, never answers

        var error = await Assert.ThrowsAsync<MetricsUnavailableException>(() => Source(url: url, timeout: TimeSpan.FromMilliseconds(300)).CollectAsync(ClusterSeries.End, default));

        Assert.Contains("did not answer within 0.3 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CollectAsync_ErrorBody_NamesTheQueryAndTheError()
    {
        var settings = ScalingSettings.Defaults with { CustomMetricQuery = "sum(", CustomMetricTargetPerNode = 1 };

        var error = await Assert.ThrowsAsync<MetricsUnavailableException>(() => Source(settings).CollectAsync(ClusterSeries.End, default));

        Assert.Contains("customMetricValue: Prometheus error bad_data", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CollectAsync_MissingSeries_IsMetricsUnavailableNotZero()
    {
        var settings = ScalingSettings.Defaults with { CustomMetricQuery = "sum(nodefleet_no_such_metric)", CustomMetricTargetPerNode = 1 };

        var error = await Assert.ThrowsAsync<MetricsUnavailableException>(() => Source(settings).CollectAsync(ClusterSeries.End, default));

        Assert.StartsWith("customMetricValue:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CollectAsync_RequestsUnchangedForTheWindow_FlatWorkloadNotUnknown()
    {
        // The pods' requests never change in this data: neither a rise nor a swing, measured (0), not missing (null).
        var snapshot = await Source().CollectAsync(ClusterSeries.End, default);

        Assert.Equal(0, snapshot.RequestedCpuRise);
        Assert.Equal(0, snapshot.RequestedCpuRisingQuarters);
        Assert.Equal(0, snapshot.RequestedCpuSwing);
    }

    [Theory]
    [InlineData(8, 8, 400, 4)]   // the four arrivals, one in each quarter: a trend
    [InlineData(11, 4, 100, 1)]  // only the last arrival within the window: a single step
    [InlineData(8, 16, 400, 2)]  // the window reaches back before the data: those quarters do not count as rising
    [InlineData(20, 8, 0, 0)]    // nothing arrives any more
    public async Task CollectAsync_RequestsRisingInSteps_CountsTheQuartersThatRose(int minute, int windowMinutes, double rise, int quarters)
    {
        var settings = ScalingSettings.Defaults with { HeadroomWindow = TimeSpan.FromMinutes(windowMinutes) };

        var snapshot = await Source(settings).CollectAsync(ClusterSeries.Start.AddMinutes(minute), default);

        Assert.Equal(rise, snapshot.RequestedCpuRise);
        Assert.Equal(quarters, snapshot.RequestedCpuRisingQuarters);
    }

    [Fact]
    public async Task CollectAsync_HeadroomOff_DoesNotAskForTheRise()
    {
        var snapshot = await Source(ScalingSettings.Defaults with { Headroom = 0 }).CollectAsync(ClusterSeries.End, default);

        Assert.Null(snapshot.RequestedCpuRise);
        Assert.Null(snapshot.RequestedCpuRisingQuarters);
        Assert.Equal(0, snapshot.RequestedCpuSwing);
    }

    [Fact]
    public async Task CollectAsync_NoCpuRateWhileAWorkerIsEstablished_IsMetricsUnavailable()
    {
        // At the first sample there is no rate yet, and w1 joined an hour earlier: a broken scrape.
        var error = await Assert.ThrowsAsync<MetricsUnavailableException>(() => Source().CollectAsync(ClusterSeries.Start, default));

        Assert.StartsWith("cpuNow: the query returned no series although Ready workers exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CollectAsync_NoCpuRateWhileEveryWorkerIsNew_UtilizationIsNullNotZero()
    {
        // With a 2-hour rate window, workers that joined 30 and 60 minutes ago cannot have a rate yet.
        var settings = ScalingSettings.Defaults with { CpuRateWindow = TimeSpan.FromHours(2) };

        var snapshot = await Source(settings).CollectAsync(ClusterSeries.Start, default);

        Assert.Null(snapshot.Utilization.CpuNow);
        Assert.Null(snapshot.Utilization.CpuMinOverUpWindow);
        Assert.Equal(0.3, snapshot.Utilization.MemoryNow!.Value, 6);
        Assert.Equal(3, snapshot.Nodes.Count);
    }

    [Fact]
    public async Task CollectAsync_NoNodeSeries_IsMetricsUnavailable()
    {
        // An hour before the data begins: the TSDB answers, but with nothing.
        var error = await Assert.ThrowsAsync<MetricsUnavailableException>(() => Source().CollectAsync(ClusterSeries.Start.AddHours(-1), default));

        Assert.Contains("kube_node_info returned no series", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(200, """{"status":"success","data":{"result":[]}}""", "not in the query API's shape")]                       // no resultType
    [InlineData(200, """{"status":5}""", "not in the query API's shape")]
    [InlineData(400, """["not","an","object"]""", "answered without a status")]                                               // an array as the error body
    [InlineData(422, """{"status":"error","errorType":3,"error":["x"]}""", "not in the query API's shape")]
    [InlineData(200, """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"node":5},"value":[1,"0.5"]}]}}""", "not in the query API's shape")]
    [InlineData(200, """{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1]}]}}""", "not in the query API's shape")]
    [InlineData(200, """{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,0.5]}]}}""", "not in the query API's shape")]  // a number, not the string Prometheus sends
    [InlineData(200, """{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"0.5"]}]}}""", "not in the query API's shape")]
    [InlineData(502, "<html>bad gateway</html>", "Prometheus answered HTTP 502")]                                            // a proxy's error page
    public async Task CollectAsync_AnswerOfTheWrongShape_IsMetricsUnavailable(int status, string body, string expected)
    {
        using var server = new HttpListener();
        var url = new Uri($"http://127.0.0.1:{PrometheusServer.FreePort()}/");
        server.Prefixes.Add(url.ToString());
        server.Start();
        _ = Task.Run(async () =>
        {
            while (server.IsListening)
            {
                var context = await server.GetContextAsync();
                context.Response.StatusCode = status;
                await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body));
                context.Response.Close();
            }
        });

        var error = await Assert.ThrowsAsync<MetricsUnavailableException>(() => Source(url: url).CollectAsync(ClusterSeries.End, default));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
