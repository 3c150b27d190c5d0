using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace NodeFleet.Testbed;

/// <summary>
/// Everything NodeFleet talks to, on loopback: moto_server (EC2, DynamoDB, SNS, SQS), the emulated
/// Kubernetes API, and the local invoke host running the real handlers with the environment the
/// stack would give them, with timings compressed from minutes to seconds. A real Prometheus
/// scrapes the emulated cluster every two seconds (a one-second scrape, whose timeout is one second
/// too, sometimes overran on a loaded 2-core machine and left every series stale for a moment); a second host points at a Prometheus that is down.
/// </summary>
public class LocalEnvironment : IAsyncDisposable
{
    public const string Cluster = "e2e";

    /// <summary>moto's account and the region every call names: the EC2 events the steps trust come from them.</summary>
    public const string Account = "123456789012";
    public const string Region = "us-east-1";
    private ServerProcess? moto;
    private ServerProcess? prometheus;
    private ServerProcess? alertmanager;
    private MetricsExporter? exporter;
    private readonly List<Process> hosts = [];
    private readonly string directory = Path.Combine(Path.GetTempPath(), "nodefleet-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    public Uri MotoUrl { get; private set; } = null!;

    /// <summary>
    /// The hosts reach moto through this proxy: one request at a time (DynamoDB's atomic
    /// conditional writes, which moto's threaded server lacks), and EC2 faults on demand.
    /// </summary>
    public FaultProxy Proxy { get; private set; } = null!;
    public Uri HostUrl { get; private set; } = null!;

    public Uri PrometheusUrl { get; private set; } = null!;

    /// <summary>A host whose Prometheus is unreachable.</summary>
    public Uri DeadMetricsHostUrl { get; private set; } = null!;
    public KubeApiServer Kube { get; private set; } = null!;

    /// <summary>Turns launched instances into nodes after a one-second boot.</summary>
    public InstanceNodes Nodes { get; private set; } = null!;
    public ClusterModel Model { get; } = new();
    public string Table { get; } = "nodefleet-e2e";

    public string QueueUrl { get; private set; } = "";

    /// <summary>The workers' subnets, one per zone, in the order LaunchNodes prefers them on ties.</summary>
    public IReadOnlyList<(string Zone, string SubnetId)> WorkerSubnets { get; private set; } = [];

    /// <summary>Every step's environment variables, as the hosts get them (and scripts/coldstart gives each step it starts).</summary>
    public IReadOnlyDictionary<string, string> StepEnvironment { get; private set; } = new Dictionary<string, string>();

    /// <summary>Start the invoke hosts (the default); scripts/coldstart starts the steps itself, one process per invocation.</summary>
    public bool StartHosts { get; init; } = true;

    /// <summary>The launch template's user labels (NODEFLEET_WORKER_LABELS), e.g. <c>pool=general</c>: launched workers carry them, and the steps are told.</summary>
    public IReadOnlyDictionary<string, string> WorkerLabels { get; init; } = new Dictionary<string, string>();

    /// <summary>The launch template's taints (NODEFLEET_WORKER_TAINTS): launched workers carry them, and the steps are told.</summary>
    public IReadOnlyList<TestTaint> WorkerTaints { get; init; } = [];

    /// <summary>Step settings this environment sets differently from the defaults below (e.g. a longer drain timeout).</summary>
    public IReadOnlyDictionary<string, string> SettingsOverrides { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The fast path (Contracts/FastPath): Prometheus evaluates scripts/alerting/pending-pods.rules.yml
    /// as is and alerts a real Alertmanager, whose SNS receiver publishes to moto's alerts topic; the
    /// topic delivers raw to a queue that <see cref="Pipe"/> turns into executions. Off by default.
    /// </summary>
    public bool FastPath { get; init; }

    /// <summary>How often Prometheus scrapes the emulated cluster (2 s compressed; scripts/reaction uses 15 s, as deployed).</summary>
    public TimeSpan ScrapeInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Alertmanager's group_wait; the deployed default unless a fixture compresses it.</summary>
    public TimeSpan AlertGroupWait { get; init; } = NodeFleet.Core.Settings.SettingsCatalog.FastPathGroupWait.Default;

    /// <summary>Alertmanager's group_interval; the deployed default unless a fixture compresses it.</summary>
    public TimeSpan AlertGroupInterval { get; init; } = NodeFleet.Core.Settings.SettingsCatalog.FastPathGroupInterval.Default;

    /// <summary>Alertmanager's repeat_interval; the deployed default unless a fixture compresses it.</summary>
    public TimeSpan AlertRepeatInterval { get; init; } = NodeFleet.Core.Settings.SettingsCatalog.FastPathRepeatInterval.Default;

    /// <summary>With <see cref="FastPath"/>: Alertmanager's API (null once stopped).</summary>
    public Uri? AlertmanagerUrl { get; private set; }

    /// <summary>With <see cref="FastPath"/>: the topic Alertmanager publishes to.</summary>
    public string AlertsTopicArn { get; private set; } = "";

    /// <summary>With <see cref="FastPath"/>: the queue subscribed to it (raw message delivery), which the Pipe reads.</summary>
    public string AlertsQueueUrl { get; private set; } = "";

    /// <summary>With <see cref="FastPath"/> and the hosts: the local Pipe, and every execution it started.</summary>
    public LocalPipe Pipe { get; private set; } = null!;

    private IDisposable? pipeClient;
    private int alertmanagerPort;

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NodeFleet.sln")))
            {
                dir = dir.Parent;
            }

            return dir!.FullName;
        }
    }

    public async Task StartAsync()
    {
        Directory.CreateDirectory(directory);
        var port = Loopback.FreePort();
        MotoUrl = new Uri($"http://127.0.0.1:{port}/");
        moto = await ServerProcess.StartAsync("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture)], new Uri(MotoUrl, "moto-api/"), TimeSpan.FromSeconds(30));

        var vpc = Aws("ec2", "create-vpc", "--cidr-block", "10.50.0.0/16").GetProperty("Vpc").GetProperty("VpcId").GetString()!;
        // Two zones, as the stack deploys: a zone out of capacity must leave the other to launch in.
        WorkerSubnets = [.. new[] { ("us-east-1a", "10.50.1.0/24"), ("us-east-1b", "10.50.2.0/24") }.Select(z =>
            (z.Item1, Aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", z.Item2, "--availability-zone", z.Item1).GetProperty("Subnet").GetProperty("SubnetId").GetString()!))];
        var template = Aws("ec2", "create-launch-template", "--launch-template-name", "e2e-worker", "--launch-template-data", """{"ImageId":"ami-12c6146b","InstanceType":"t3.large"}""")
            .GetProperty("LaunchTemplate").GetProperty("LaunchTemplateId").GetString()!;
        Aws("dynamodb", "create-table", "--table-name", Table, "--billing-mode", "PAY_PER_REQUEST", "--attribute-definitions", "AttributeName=pk,AttributeType=S", "--key-schema", "AttributeName=pk,KeyType=HASH");
        var topic = Aws("sns", "create-topic", "--name", "e2e").GetProperty("TopicArn").GetString()!;
        QueueUrl = Aws("sqs", "create-queue", "--queue-name", "e2e-notifications").GetProperty(nameof(QueueUrl)).GetString()!;
        var queueArn = Aws("sqs", "get-queue-attributes", "--queue-url", QueueUrl, "--attribute-names", "QueueArn").GetProperty("Attributes").GetProperty("QueueArn").GetString()!;
        Aws("sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint", queueArn);

        if (FastPath)
        {
            AlertsTopicArn = Aws("sns", "create-topic", "--name", "e2e-alerts").GetProperty("TopicArn").GetString()!;
            AlertsQueueUrl = Aws("sqs", "create-queue", "--queue-name", "e2e-fast-path").GetProperty(nameof(QueueUrl)).GetString()!;
            var alertsQueueArn = Aws("sqs", "get-queue-attributes", "--queue-url", AlertsQueueUrl, "--attribute-names", "QueueArn").GetProperty("Attributes").GetProperty("QueueArn").GetString()!;
            // Raw delivery: the queue holds Alertmanager's message itself, the body the Pipe's filter reads.
            Aws("sns", "subscribe", "--topic-arn", AlertsTopicArn, "--protocol", "sqs", "--notification-endpoint", alertsQueueArn, "--attributes", "RawMessageDelivery=true");
            await StartAlertmanagerAsync();
        }

        Kube = await KubeApiServer.StartAsync(Model);
        var endpoint = new NodeFleet.Aws.AwsEndpoint(Amazon.RegionEndpoint.USEast1, MotoUrl, new Amazon.Runtime.BasicAWSCredentials("test", "test"), NodeFleet.Aws.AwsEndpoint.AttemptTimeout);
        Nodes = new InstanceNodes(NodeFleet.Aws.Ec2.Ec2Api.Create(endpoint), Model, Cluster, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(250), WorkerLabels, WorkerTaints);
        var token = Path.Combine(directory, "token");
        var ca = Path.Combine(directory, "ca.pem");
        // The steps' token grants what NodeFleet's ClusterRole grants, no more.
        await File.WriteAllTextAsync(token, KubeApiServer.NodeFleetToken);
        await File.WriteAllTextAsync(ca, Kube.Certificates.AuthorityPem);

        exporter = new MetricsExporter(Model);
        var prometheusPort = Loopback.FreePort();
        var scrape = Duration(ScrapeInterval);
        // The rule file sets its own evaluation interval (10 s); the global one applies to nothing else here.
        var alerting = AlertmanagerUrl is null ? "" :
            $"rule_files: ['{Path.Combine(RepositoryRoot, "scripts", "alerting", "pending-pods.rules.yml")}']\nalerting:\n  alertmanagers:\n  - static_configs: [{{targets: ['{AlertmanagerUrl.Authority}']}}]\n";
        await File.WriteAllTextAsync(Path.Combine(directory, "prometheus.yml"),
            $"global: {{scrape_interval: {scrape}, evaluation_interval: {scrape}}}\n{alerting}scrape_configs:\n- job_name: testbed\n  static_configs: [{{targets: ['{exporter.Url.Authority}']}}]\n");
        prometheus = await ServerProcess.StartAsync("prometheus",
            [$"--config.file={Path.Combine(directory, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(directory, "tsdb")}", $"--web.listen-address=127.0.0.1:{prometheusPort}", "--log.level=warn"],
            new Uri($"http://127.0.0.1:{prometheusPort}/-/ready"), TimeSpan.FromSeconds(60));
        PrometheusUrl = new Uri($"http://127.0.0.1:{prometheusPort}/");

        Proxy = new FaultProxy(MotoUrl, _ => null);
        var environment = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = Proxy.Url.ToString().TrimEnd('/'),
            ["AWS_REGION"] = Region,
            ["NODEFLEET_ACCOUNT"] = Account,
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
            ["NODEFLEET_CLUSTER_NAME"] = Cluster,
            ["NODEFLEET_NODE_JOIN_TIMEOUT"] = "10s",
            ["NODEFLEET_SCALE_UP_CPU_WINDOW"] = "6s",
            ["NODEFLEET_SCALE_DOWN_WINDOW"] = "12s",
            ["NODEFLEET_CPU_RATE_WINDOW"] = "8s",
            ["NODEFLEET_SCALE_UP_COOLDOWN"] = "5s",
            ["NODEFLEET_SCALE_DOWN_COOLDOWN"] = "10s",
            ["NODEFLEET_DRAIN_TIMEOUT"] = "4s",
            ["NODEFLEET_REPAIR_AFTER"] = "5s",
            ["NODEFLEET_STATE_TABLE"] = Table,
            ["NODEFLEET_LAUNCH_TEMPLATE_ID"] = template,
            ["NODEFLEET_LAUNCH_TEMPLATE_VERSION"] = "$Latest",
            ["NODEFLEET_WORKER_SUBNETS"] = string.Join(",", WorkerSubnets.Select(s => $"{s.Zone}={s.SubnetId}")),
            ["NODEFLEET_INSTANCE_TYPES"] = "t3.large",
            ["NODEFLEET_TOPIC_ARN"] = topic,
            ["NODEFLEET_KUBE_API_URL"] = Kube.Url.ToString(),
            ["NODEFLEET_KUBE_TOKEN_FILE"] = token,
            ["NODEFLEET_KUBE_CA_FILE"] = ca,
            ["NODEFLEET_PROMETHEUS_URL"] = $"http://127.0.0.1:{prometheusPort}",
            ["NODEFLEET_PROMETHEUS_TIMEOUT"] = "2s",
        };
        if (WorkerLabels.Count > 0)
        {
            environment["NODEFLEET_WORKER_LABELS"] = string.Join(",", WorkerLabels.Select(l => $"{l.Key}={l.Value}"));
        }

        if (WorkerTaints.Count > 0)
        {
            environment["NODEFLEET_WORKER_TAINTS"] = string.Join(",", WorkerTaints);
        }

        foreach (var (key, value) in SettingsOverrides)
        {
            environment[key] = value;
        }

        StepEnvironment = environment;
        if (!StartHosts)
        {
            return;
        }

        HostUrl = await StartHostAsync(environment);
        // Nothing listens here: the "Prometheus down" scenario, and proof that interruptions never ask it.
        DeadMetricsHostUrl = await StartHostAsync(new Dictionary<string, string>(environment) { ["NODEFLEET_PROMETHEUS_URL"] = $"http://127.0.0.1:{Loopback.FreePort()}" });
        if (FastPath)
        {
            var sqs = new Amazon.SQS.AmazonSQSClient(new Amazon.Runtime.BasicAWSCredentials("test", "test"),
                new Amazon.SQS.AmazonSQSConfig { ServiceURL = MotoUrl.ToString(), AuthenticationRegion = Region });
            pipeClient = sqs;
            Pipe = new LocalPipe(sqs, AlertsQueueUrl, input => RunAsync(input));
        }
    }

    /// <summary>
    /// Alertmanager 0.25 (Debian's prometheus-alertmanager) on a free loopback port with its own
    /// data dir and no HA gossip, configured by scripts/alerting/alertmanager.yml rendered for moto.
    /// Started again after <see cref="StopAlertmanager"/>, it listens where Prometheus sends its alerts: the same port.
    /// </summary>
    public async Task StartAlertmanagerAsync()
    {
        if (alertmanager is not null)
        {
            return;
        }

        var config = Path.Combine(directory, "alertmanager.yml");
        await File.WriteAllTextAsync(config, RenderAlertmanagerConfig(
            await File.ReadAllTextAsync(Path.Combine(RepositoryRoot, "scripts", "alerting", "alertmanager.yml")),
            AlertGroupWait, AlertGroupInterval, AlertRepeatInterval, MotoUrl, AlertsTopicArn, Region));
        var port = alertmanagerPort = alertmanagerPort == 0 ? Loopback.FreePort() : alertmanagerPort;
        // Its SNS receiver signs with SigV4 from the default credential chain: the environment here, the instance role on the master.
        alertmanager = await ServerProcess.StartAsync("prometheus-alertmanager",
            [$"--config.file={config}", $"--storage.path={Path.Combine(directory, "alertmanager")}", $"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
            new Uri($"http://127.0.0.1:{port}/-/ready"), TimeSpan.FromSeconds(30),
            new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "test", ["AWS_SECRET_ACCESS_KEY"] = "test" });
        AlertmanagerUrl = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>Stops Alertmanager (the fast path down): Prometheus' alerts then go nowhere, and only the schedule starts executions.</summary>
    public void StopAlertmanager()
    {
        alertmanager?.Dispose();
        alertmanager = null;
        AlertmanagerUrl = null;
    }

    /// <summary>
    /// scripts/alerting/alertmanager.yml with its placeholders filled: the timings as Prometheus
    /// durations, the message (FastPath.AlertmanagerMessage) inside the file's single quotes (a quote doubled, as YAML escapes it).
    /// </summary>
    public static string RenderAlertmanagerConfig(string template, TimeSpan groupWait, TimeSpan groupInterval, TimeSpan repeatInterval, Uri snsApiUrl, string topicArn, string region)
    {
        var values = new Dictionary<string, string>
        {
            ["__GROUP_WAIT__"] = Duration(groupWait),
            ["__GROUP_INTERVAL__"] = Duration(groupInterval),
            ["__REPEAT_INTERVAL__"] = Duration(repeatInterval),
            ["__SNS_API_URL__"] = snsApiUrl.ToString(),
            ["__TOPIC_ARN__"] = topicArn,
            ["__MESSAGE__"] = YamlSingleQuoted(NodeFleet.Core.Contracts.FastPath.AlertmanagerMessage),
            ["__REGION__"] = region,
        };
        var text = values.Aggregate(template, (t, v) => t.Replace(v.Key, v.Value, StringComparison.Ordinal));
        var left = System.Text.RegularExpressions.Regex.Match(text, "__[A-Z_]+__");
        return left.Success ? throw new InvalidOperationException($"alertmanager.yml has a placeholder the testbed does not fill: {left.Value}") : text;
    }

    /// <summary>Text for inside a YAML single-quoted scalar: a quote is written twice, nothing else is escaped.</summary>
    public static string YamlSingleQuoted(string text) => text.Replace("'", "''", StringComparison.Ordinal);

    /// <summary>A duration as Prometheus and Alertmanager write it: whole seconds, else milliseconds.</summary>
    public static string Duration(TimeSpan span) =>
        span.Ticks % TimeSpan.TicksPerSecond == 0 ? $"{(long)span.TotalSeconds}s" : $"{(long)span.TotalMilliseconds}ms";

    private async Task<Uri> StartHostAsync(Dictionary<string, string> environment)
    {
        var port = Loopback.FreePort();
        var url = new Uri($"http://127.0.0.1:{port}/");
        var dll = Path.Combine(RepositoryRoot, "tests", "NodeFleet.LocalHost", "bin", Configuration, "net10.0", "NodeFleet.LocalHost.dll");
        var info = Session.Own("dotnet", [dll]);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.Environment["NODEFLEET_LOCALHOST_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        var host = Process.Start(info)!;
        hosts.Add(host);
        host.OutputDataReceived += (_, _) => { };
        host.ErrorDataReceived += (_, _) => { };
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var i = 0; ; i++)
        {
            try
            {
                if ((await http.GetAsync(new Uri(url, "health"))).IsSuccessStatusCode)
                {
                    return url;
                }
            }
            catch (HttpRequestException) when (i < 150 && !host.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            if (!host.HasExited)
            {
                host.Kill(entireProcessTree: true);
                await host.WaitForExitAsync();
            }

            host.Dispose();
        }

        if (Pipe is not null)
        {
            await Pipe.DisposeAsync();
        }

        pipeClient?.Dispose();
        // The processes first: whatever fails later must not leave them running.
        alertmanager?.Dispose();
        prometheus?.Dispose();
        moto?.Dispose();
        // A start that failed part-way leaves some of these unset.
        try
        {
            if (Nodes is not null)
            {
                await Nodes.DisposeAsync();
            }
        }
        finally
        {
            exporter?.Dispose();
            Proxy?.Dispose();
            if (Kube is not null)
            {
                await Kube.DisposeAsync();
            }

            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            GC.SuppressFinalize(this);
        }
    }

    private static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public JsonElement Aws(params string[] args)
    {
        var text = Tool.Run("aws", [.. args, "--endpoint-url", MotoUrl.ToString().TrimEnd('/'), "--region", Region, "--output", "json"],
            new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "test", ["AWS_SECRET_ACCESS_KEY"] = "test", ["AWS_PAGER"] = "" });
        return string.IsNullOrWhiteSpace(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>
    /// A managed worker as a launch would leave it: an on-demand t3.large EC2 instance tagged for the
    /// cluster in <paramref name="zone"/> (the first worker zone by default) and its Ready node named
    /// <paramref name="name"/> (so a scenario can bind pods to it by name), labelled and tainted as a
    /// launched worker is, registered <paramref name="registeredAgo"/> ago (moto cannot backdate the instance's launch time).
    /// </summary>
    public TestNode AddWorker(string name, TimeSpan registeredAgo = default, string? zone = null)
    {
        var (workerZone, subnet) = zone is null ? WorkerSubnets[0] : WorkerSubnets.First(s => s.Zone == zone);
        var instance = Aws("ec2", "run-instances", "--image-id", "ami-12c6146b", "--instance-type", "t3.large", "--subnet-id", subnet, "--count", "1",
                "--tag-specifications", $"ResourceType=instance,Tags=[{{Key=nodefleet.io/managed,Value=true}},{{Key=nodefleet.io/cluster,Value={Cluster}}}]")
            .GetProperty("Instances")[0].GetProperty("InstanceId").GetString()!;
        var node = new TestNode
        {
            Name = name,
            Created = DateTimeOffset.UtcNow - registeredAgo,
            ReadyChangedAt = DateTimeOffset.UtcNow - registeredAgo,
            ProviderId = NodeFleet.Core.Ports.ProviderId.For(workerZone, instance),
            Taints = [.. WorkerTaints],
        };
        foreach (var (key, value) in InstanceNodes.WorkerLabels(Cluster, name, workerZone, "t3.large", spot: false, WorkerLabels))
        {
            node.Labels[key] = value;
        }

        Model.Add(node);
        return node;
    }

    /// <summary>The EC2 instance id behind a node's provider id.</summary>
    public static string InstanceOf(TestNode node) => node.ProviderId![(node.ProviderId!.LastIndexOf('/') + 1)..];

    /// <summary>One execution of the real state machine; the result as the runner reports it.</summary>
    public JsonElement Run(object trigger, int waitSeconds = 1, Uri? host = null)
    {
        var input = Path.Combine(directory, $"input-{Guid.NewGuid():N}.json");
        File.WriteAllText(input, JsonSerializer.Serialize(trigger));
        var output = Tool.Run("node", RunnerArguments(input, waitSeconds, host));
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    /// <summary>
    /// One execution started and not awaited by the caller, as StartExecution is: the input as JSON
    /// text (e.g. the Pipe's array); completes with the runner's report. Executions may overlap.
    /// </summary>
    public async Task<JsonElement> RunAsync(string inputJson, int waitSeconds = 1, Uri? host = null)
    {
        var input = Path.Combine(directory, $"input-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(input, inputJson);
        var output = await Tool.RunAsync("node", RunnerArguments(input, waitSeconds, host));
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    private string[] RunnerArguments(string input, int waitSeconds, Uri? host) =>
        [Path.Combine(RepositoryRoot, "tests", "workflow", "local-runner.mjs"), "--host", (host ?? HostUrl).ToString(), "--input", input, "--wait-seconds", waitSeconds.ToString(CultureInfo.InvariantCulture)];

    /// <summary>Waits until Prometheus answers <paramref name="promql"/> with <paramref name="expected"/> (what a tick would read).</summary>
    public Task WaitForAsync(string promql, double expected, TimeSpan timeout) => WaitForAsync(promql, () => expected, timeout);

    /// <summary>As above, with the expected value recomputed at every poll (the model may move on meanwhile).</summary>
    public Task WaitForAsync(string promql, Func<double> expectedNow, TimeSpan timeout) =>
        WaitUntilAsync(promql, value => Math.Abs(value - expectedNow()) < 1e-6, () => $"= {expectedNow()}", timeout);

    /// <summary>Waits until Prometheus' answer to <paramref name="promql"/> satisfies <paramref name="holds"/>.</summary>
    public async Task WaitUntilAsync(string promql, Func<double, bool> holds, Func<string> expectation, TimeSpan timeout)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(PrometheusUrl, $"api/v1/query?query={Uri.EscapeDataString(promql)}")));
            var result = json.RootElement.GetProperty("data").GetProperty("result");
            double? last = result.GetArrayLength() > 0 ? double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture) : null;
            if (last is { } value && holds(value))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Prometheus did not report {promql} {expectation()} within {timeout.TotalSeconds} s (last answer: {last?.ToString(CultureInfo.InvariantCulture) ?? "no series"})");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Notifications delivered to the topic's SQS subscription since the last call.</summary>
    public List<string> Notifications()
    {
        var messages = new List<string>();
        while (true)
        {
            var received = Aws("sqs", "receive-message", "--queue-url", QueueUrl, "--max-number-of-messages", "10");
            if (received.ValueKind != JsonValueKind.Object || !received.TryGetProperty("Messages", out var batch) || batch.GetArrayLength() == 0)
            {
                return messages;
            }

            foreach (var message in batch.EnumerateArray())
            {
                using var envelope = JsonDocument.Parse(message.GetProperty("Body").GetString()!);
                messages.Add(envelope.RootElement.GetProperty("Subject").GetString() + "\n" + envelope.RootElement.GetProperty("Message").GetString());
                Aws("sqs", "delete-message", "--queue-url", QueueUrl, "--receipt-handle", message.GetProperty("ReceiptHandle").GetString()!);
            }
        }
    }

    /// <summary>Instances of this cluster (or of one launch), as the AWS CLI sees them.</summary>
    public List<(string Id, string State)> Instances(string? launchId = null) =>
        Aws("ec2", "describe-instances", "--filters", launchId is null ? $"Name=tag:nodefleet.io/cluster,Values={Cluster}" : $"Name=tag:nodefleet.io/launch-id,Values={launchId}")
            .GetProperty("Reservations").EnumerateArray().SelectMany(r => r.GetProperty("Instances").EnumerateArray())
            .Select(i => (i.GetProperty("InstanceId").GetString()!, i.GetProperty("State").GetProperty("Name").GetString()!)).ToList();

    /// <summary>The state item, as the AWS CLI sees it; default when none was written.</summary>
    public JsonElement StateItem()
    {
        var key = JsonSerializer.Serialize(new Dictionary<string, object> { ["pk"] = new Dictionary<string, string> { ["S"] = $"cluster#{Cluster}" } });
        var item = Aws("dynamodb", "get-item", "--table-name", Table, "--key", key);
        return item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Item", out var i) ? i : default;
    }
}

