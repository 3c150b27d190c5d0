using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.CDK;
using Constructs;
using NodeFleet.Cdk;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

using static NodeFleet.Cdk.Tests.TemplateJson;

namespace NodeFleet.Cdk.Tests;

/// <summary>The fast path as deployed: topic, queue, Pipe, their policies, and what the master's user data installs.</summary>
[Collection(TemplateGroup.Name)]
public class FastPathTests(SynthesizedTemplate synthesized)
{
    private static JsonElement Json(Amazon.CDK.Assertions.Template template) => JsonSerializer.SerializeToElement(template.ToJSON());

    private static string Ref(string id) => $$"""{"Ref":"{{id}}"}""";

    private static string Arn(string id) => $$"""{"Fn::GetAtt":["{{id}}","Arn"]}""";

    /// <summary>The master's user data as text: Fn::Join flattened, a reference written <c>${LogicalId}</c>.</summary>
    private static string MasterUserData(JsonElement json)
    {
        static string Flatten(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.String => e.GetString()!,
            _ when e.TryGetProperty("Fn::Join", out var join) => string.Join(join[0].GetString(), join[1].EnumerateArray().Select(Flatten)),
            _ when e.TryGetProperty("Ref", out var r) => $"${{{r.GetString()}}}",
            _ => throw new InvalidOperationException($"unexpected in user data: {e.GetRawText()}"),
        };

        var (_, master) = Assert.Single(Resources(json, "AWS::EC2::Instance"));
        return Flatten(master.GetProperty("UserData").GetProperty("Fn::Base64"));
    }

    /// <summary>The body of a quoted heredoc in the user data (written to disk as is on the master).</summary>
    private static string Heredoc(string userData, string delimiter)
    {
        var match = Regex.Match(userData, $"<<'{delimiter}'\n(.*?)\n{delimiter}\n", RegexOptions.Singleline);
        Assert.True(match.Success, $"the user data has no quoted heredoc {delimiter}");
        return match.Groups[1].Value;
    }

    private static string AlertingFile(string name) => File.ReadAllText(Path.Combine(SynthesizedTemplate.RepositoryRoot, "scripts", "alerting", name));

    private static (int ExitCode, string Output) Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    [Fact]
    public void Pipe_FilterAndInputTemplate_AreFastPathsContract_OneMessageStartsTheStateMachine()
    {
        var stack = synthesized.Stack;
        var (_, pipe) = Assert.Single(synthesized.Resources("AWS::Pipes::Pipe"));
        var properties = pipe.GetProperty("Properties");

        var source = properties.GetProperty("SourceParameters");
        var filter = Assert.Single(source.GetProperty("FilterCriteria").GetProperty("Filters").EnumerateArray());
        Assert.Equal(FastPath.PipeFilterPattern, filter.GetProperty("Pattern").GetString());
        Assert.Equal(1, source.GetProperty("SqsQueueParameters").GetProperty("BatchSize").GetInt32());
        Assert.Equal(Arn(Id(stack, stack.FastPath.Queue)), properties.GetProperty("Source").GetRawText());

        var target = properties.GetProperty("TargetParameters");
        Assert.Equal(FastPath.PipeInputTemplate, target.GetProperty("InputTemplate").GetString());
        Assert.Equal("FIRE_AND_FORGET", target.GetProperty("StepFunctionStateMachineParameters").GetProperty("InvocationType").GetString());
        Assert.Equal(Ref(Id(stack, stack.Workflow.StateMachine)), properties.GetProperty("Target").GetRawText());
        Assert.Equal(Arn(Id(stack, stack.FastPath.PipeRole)), properties.GetProperty("RoleArn").GetRawText());
        // The Pipe is created after its role's policy: Pipes checks that access when it creates the pipe.
        Assert.Contains(pipe.GetProperty("DependsOn").EnumerateArray(), d => d.GetString()!.StartsWith("FastPathPipeRoleDefaultPolicy", StringComparison.Ordinal));
    }

    [Fact]
    public void PipeRole_MayOnlyReadTheQueueAndStartTheStateMachine()
    {
        var stack = synthesized.Stack;
        var roleId = Id(stack, stack.FastPath.PipeRole);

        var statements = IdentityStatements(synthesized.Json).Where(s => s.Owner.Split(',').Contains(roleId)).Select(s => s.Statement).ToList();

        Assert.Equal(2, statements.Count);
        Assert.All(statements, s => Assert.Equal("Allow", s.GetProperty("Effect").GetString()));
        var queue = Assert.Single(statements, s => Strings(s.GetProperty("Action")).Any(a => a.StartsWith("sqs:", StringComparison.Ordinal)));
        Assert.Equal(["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"], Strings(queue.GetProperty("Action")).Order());
        Assert.Equal([Arn(Id(stack, stack.FastPath.Queue))], Strings(queue.GetProperty("Resource")));
        var start = Assert.Single(statements, s => Strings(s.GetProperty("Action")).Any(a => a.StartsWith("states:", StringComparison.Ordinal)));
        Assert.Equal(["states:StartExecution"], Strings(start.GetProperty("Action")));
        Assert.Equal([Ref(Id(stack, stack.Workflow.StateMachine))], Strings(start.GetProperty("Resource")));

        var role = synthesized.Resources("AWS::IAM::Role").Single(r => r.Id == roleId).Resource.GetProperty("Properties");
        Assert.False(role.TryGetProperty("ManagedPolicyArns", out _));
        var trust = Assert.Single(role.GetProperty("AssumeRolePolicyDocument").GetProperty("Statement").EnumerateArray());
        Assert.Equal("pipes.amazonaws.com", trust.GetProperty("Principal").GetProperty("Service").GetString());
        Assert.Equal("123456789012", trust.GetProperty("Condition").GetProperty("StringEquals").GetProperty("aws:SourceAccount").GetString());
    }

    [Fact]
    public void MasterRole_PublishesOnlyToTheAlertsTopic_AndNothingElseMayPublishToIt()
    {
        var stack = synthesized.Stack;
        var cluster = (ClusterConstruct)stack.Cluster;
        var masterId = Id(stack, cluster.MasterRole);
        var topic = Ref(Id(stack, stack.FastPath.Topic));
        var statements = IdentityStatements(synthesized.Json).ToList();

        var master = statements.Where(s => s.Owner.Split(',').Contains(masterId)).Select(s => s.Statement).ToList();
        // What the master had before the fast path (its parameters, and deleting an earlier cluster's join token), plus sns:Publish.
        Assert.Equal(["kms:Encrypt", "sns:Publish", "ssm:DeleteParameter", "ssm:PutParameter"], master.SelectMany(s => Strings(s.GetProperty("Action"))).Distinct().Order());
        var publish = Assert.Single(master, s => Strings(s.GetProperty("Action")).Contains("sns:Publish"));
        Assert.Equal(["sns:Publish"], Strings(publish.GetProperty("Action")));
        Assert.Equal([topic], Strings(publish.GetProperty("Resource")));
        Assert.False(publish.TryGetProperty("Condition", out _));

        var publishers = statements.Where(s => Strings(s.Statement.GetProperty("Action")).Any(a => a is "sns:Publish" or "sns:*" or "*")).ToList();
        Assert.DoesNotContain(publishers, s => Strings(s.Statement.GetProperty("Resource")).Contains("*"));
        Assert.Equal([masterId], publishers.Where(s => Strings(s.Statement.GetProperty("Resource")).Contains(topic)).Select(s => s.Owner));
        Assert.NotEqual(Id(stack, stack.FastPath.Topic), synthesized.Resources("AWS::SNS::Topic").Select(t => t.Id).Single(id => id.StartsWith("Notifications", StringComparison.Ordinal)));

        // The topic's own policy allows nobody; it only refuses plain HTTP.
        var (_, topicPolicy) = Assert.Single(synthesized.Resources("AWS::SNS::TopicPolicy"));
        var policy = topicPolicy.GetProperty("Properties");
        Assert.Equal([topic], Strings(policy.GetProperty("Topics")));
        var deny = Assert.Single(policy.GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray());
        Assert.Equal("Deny", deny.GetProperty("Effect").GetString());
        Assert.Equal(["sns:Publish"], Strings(deny.GetProperty("Action")));
        Assert.Equal("false", deny.GetProperty("Condition").GetProperty("Bool").GetProperty("aws:SecureTransport").GetString());
    }

    [Fact]
    public void Queue_EncryptedAndShortLived_OnlyTheAlertsTopicMaySend_RawDelivery()
    {
        var stack = synthesized.Stack;
        var queueId = Id(stack, stack.FastPath.Queue);
        var topic = Ref(Id(stack, stack.FastPath.Topic));

        var queue = synthesized.Resources("AWS::SQS::Queue").Single(q => q.Id == queueId).Resource.GetProperty("Properties");
        Assert.True(queue.GetProperty("SqsManagedSseEnabled").GetBoolean());
        Assert.Equal(300, queue.GetProperty("MessageRetentionPeriod").GetInt32());
        Assert.Equal(30, queue.GetProperty("VisibilityTimeout").GetInt32());

        var (_, queuePolicy) = Assert.Single(synthesized.Resources("AWS::SQS::QueuePolicy"));
        var document = queuePolicy.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().ToList();
        var allow = Assert.Single(document, s => s.GetProperty("Effect").GetString() == "Allow");
        Assert.Equal(["sqs:SendMessage"], Strings(allow.GetProperty("Action")));
        Assert.Equal("sns.amazonaws.com", allow.GetProperty("Principal").GetProperty("Service").GetString());
        Assert.Equal(topic, allow.GetProperty("Condition").GetProperty("ArnEquals").GetProperty("aws:SourceArn").GetRawText());
        Assert.All(document.Where(s => s.GetProperty("Effect").GetString() == "Deny"),
            s => Assert.Equal("false", s.GetProperty("Condition").GetProperty("Bool").GetProperty("aws:SecureTransport").GetString()));

        var subscription = Assert.Single(synthesized.Resources("AWS::SNS::Subscription"), s => s.Resource.GetProperty("Properties").GetProperty("Protocol").GetString() == "sqs").Resource.GetProperty("Properties");
        Assert.True(subscription.GetProperty("RawMessageDelivery").GetBoolean());
        Assert.Equal(topic, subscription.GetProperty("TopicArn").GetRawText());
        Assert.Equal(Arn(queueId), subscription.GetProperty("Endpoint").GetRawText());
    }

    [Fact]
    public void MasterUserData_CarriesTheRuleFileAndAlertmanagersConfig_RenderedWithTheSettings()
    {
        var (stack, template) = SynthesizedTemplate.Synthesize(new Dictionary<string, object>
        {
            ["nodefleet:fastPathGroupWait"] = "2s",
            ["nodefleet:fastPathGroupInterval"] = "30s",
            ["nodefleet:fastPathRepeatInterval"] = "10m",
        });
        var userData = MasterUserData(Json(template));

        Assert.Equal(ClusterConstruct.WithoutCommentLines(AlertingFile("pending-pods.rules.yml")).TrimEnd('\n'), Heredoc(userData, "NODEFLEET_RULES_EOF"));
        var config = Heredoc(userData, "NODEFLEET_ALERTMANAGER_EOF");
        var lines = config.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("group_wait: 2s", lines);
        Assert.Contains("group_interval: 30s", lines);
        Assert.Contains("repeat_interval: 10m", lines);
        Assert.Contains("group_by: [alertname]", lines);
        Assert.Contains("- api_url: https://sns.us-east-1.${AWS::URLSuffix}", lines);
        Assert.Contains($"topic_arn: ${{{Id(stack, stack.FastPath.Topic)}}}", lines);
        Assert.Contains($"message: '{FastPath.AlertmanagerMessage}'", lines);
        Assert.Contains("region: us-east-1", lines);
        Assert.Contains("send_resolved: false", lines);
        Assert.DoesNotMatch("__[A-Z_]+__", userData);
        // Everything else in the file is as written.
        var written = ClusterConstruct.WithoutCommentLines(AlertingFile("alertmanager.yml")).TrimEnd('\n').Split('\n');
        Assert.Equal(written.Length, lines.Count);
        Assert.All(written.Zip(config.Split('\n')).Where(p => !p.First.Contains("__", StringComparison.Ordinal)), p => Assert.Equal(p.First, p.Second));
    }

    [Fact]
    public void MasterUserData_IsValidBash_AndAlertmanagersConfigIsAcceptedByAmtool()
    {
        var userData = MasterUserData(synthesized.Json);
        var dir = Directory.CreateTempSubdirectory("nodefleet-fastpath-");
        try
        {
            var script = Path.Combine(dir.FullName, "master-user-data.sh");
            File.WriteAllText(script, userData);
            var syntax = Run("bash", "-n", script);
            Assert.True(syntax.ExitCode == 0, syntax.Output);

            // CloudFormation fills in the references; give them values of the same shape.
            var config = Heredoc(userData, "NODEFLEET_ALERTMANAGER_EOF")
                .Replace($"${{{Id(synthesized.Stack, synthesized.Stack.FastPath.Topic)}}}", "arn:aws:sns:us-east-1:123456789012:alerts", StringComparison.Ordinal)
                .Replace("${AWS::URLSuffix}", "amazonaws.com", StringComparison.Ordinal);
            var file = Path.Combine(dir.FullName, "alertmanager.yml");
            File.WriteAllText(file, config);

            var (exitCode, output) = Run("amtool", "check-config", file);

            Assert.True(exitCode == 0, output);
            Assert.Contains("1 receivers", output, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void MasterUserData_PrometheusConfig_LoadsTheRule_PointsAtAlertmanager_ScrapesKubeStateMetricsEvery15sAndCadvisor()
    {
        var userData = MasterUserData(synthesized.Json);
        // The ConfigMap's prometheus.yml, as the shell's unquoted heredoc expands it.
        var block = Regex.Match(userData, @"\n  prometheus\.yml: \|\n(.*?)\n---\n", RegexOptions.Singleline);
        Assert.True(block.Success, "no prometheus.yml in the user data");
        var port = Regex.Match(userData, "\nALERTMANAGER_PORT=\"(\\d+)\"\n").Groups[1].Value;
        Assert.Equal(ClusterConstruct.AlertmanagerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), port);
        var prometheus = string.Join('\n', block.Groups[1].Value.Split('\n').Select(l => l.StartsWith("    ", StringComparison.Ordinal) ? l[4..] : l))
            .Replace("${PRIVATE_IP}", "10.0.0.10", StringComparison.Ordinal)
            .Replace("${ALERTMANAGER_PORT}", port, StringComparison.Ordinal)
            .Replace("\\$", "$", StringComparison.Ordinal);
        var dir = Directory.CreateTempSubdirectory("nodefleet-prometheus-");
        try
        {
            // The rule as the user data writes it, where the config's rule_files finds it.
            var rules = dir.CreateSubdirectory("rules");
            File.WriteAllText(Path.Combine(rules.FullName, "pending-pods.rules.yml"), Heredoc(userData, "NODEFLEET_RULES_EOF") + "\n");
            Assert.Contains("rule_files: [/etc/prometheus-rules/*.yml]", prometheus, StringComparison.Ordinal);
            var file = Path.Combine(dir.FullName, "prometheus.yml");
            // Debian's promtool is built without Kubernetes discovery: check the rest with static targets in its place.
            var checkable = Regex.Replace(prometheus, @"kubernetes_sd_configs: \[.*\]", "static_configs: [{targets: ['10.0.0.10:8080']}]");
            Assert.NotEqual(prometheus, checkable);
            // The ServiceAccount's token and CA as Kubernetes mounts them in the pod.
            var serviceAccount = dir.CreateSubdirectory("serviceaccount");
            File.WriteAllText(Path.Combine(serviceAccount.FullName, "token"), "token");
            File.WriteAllText(Path.Combine(serviceAccount.FullName, "ca.crt"), "");
            File.WriteAllText(file, checkable.Replace("/etc/prometheus-rules/", rules.FullName + "/", StringComparison.Ordinal)
                .Replace("/var/run/secrets/kubernetes.io/serviceaccount/", serviceAccount.FullName + "/", StringComparison.Ordinal));

            var (exitCode, output) = Run("promtool", "check", "config", file);

            Assert.True(exitCode == 0, output);
            Assert.Contains("SUCCESS: 1 rule files found", output, StringComparison.Ordinal);
            Assert.Contains("SUCCESS: 1 rules found", output, StringComparison.Ordinal);
            Assert.Contains($"targets: ['10.0.0.10:{port}']", prometheus, StringComparison.Ordinal);
            var kubeStateMetrics = Regex.Match(prometheus, @"- job_name: kube-state-metrics\n(.*?)(\n- job_name|$)", RegexOptions.Singleline).Groups[1].Value;
            Assert.Matches(new Regex(@"^\s+scrape_interval: 15s$", RegexOptions.Multiline), kubeStateMetrics);

            // memoryUseOfRequests joins cAdvisor's working set on a node label, through the API server's node proxy.
            var cadvisor = Regex.Match(prometheus, @"- job_name: cadvisor\n(.*?)(\n- job_name|$)", RegexOptions.Singleline).Groups[1].Value;
            Assert.Contains("replacement: '/api/v1/nodes/$1/proxy/metrics/cadvisor', target_label: __metrics_path__", cadvisor, StringComparison.Ordinal);
            Assert.Contains("{source_labels: [__meta_kubernetes_node_name], target_label: node}", cadvisor, StringComparison.Ordinal);
            Assert.Contains("regex: container_memory_working_set_bytes, action: keep", cadvisor, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }

        // The volume that carries the rule, from the ConfigMap the user data loads it into.
        Assert.Contains("{name: rules, configMap: {name: prometheus-rules}}", userData, StringComparison.Ordinal);
        Assert.Contains("kubectl -n monitoring create configmap prometheus-rules --from-file=/etc/nodefleet/alerting/pending-pods.rules.yml", userData, StringComparison.Ordinal);
        Assert.Contains("kubectl -n monitoring create configmap alertmanager --from-file=/etc/nodefleet/alerting/alertmanager.yml", userData, StringComparison.Ordinal);
    }

    [Fact]
    public void Alertmanager_RunsOnTheMastersNetworkOnly_ItsPortIsOpenNowhere_ImdsStaysOneHop()
    {
        var userData = MasterUserData(synthesized.Json);
        var deployment = Regex.Match(userData, @"kind: Deployment\nmetadata: \{name: alertmanager, namespace: monitoring\}\n(.*?)\nYAML\n", RegexOptions.Singleline);
        Assert.True(deployment.Success, "no Alertmanager Deployment in the user data");
        var spec = deployment.Groups[1].Value;
        Assert.Contains("hostNetwork: true", spec, StringComparison.Ordinal);
        Assert.Contains("nodeSelector: {node-role.kubernetes.io/control-plane: \"true\"}", spec, StringComparison.Ordinal);
        Assert.Contains("tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]", spec, StringComparison.Ordinal);
        Assert.Matches(@"image: quay\.io/prometheus/alertmanager:v\d+\.\d+\.\d+\n", spec);
        Assert.Contains("- --web.listen-address=${PRIVATE_IP}:${ALERTMANAGER_PORT}", spec, StringComparison.Ordinal);
        Assert.Contains("- --cluster.listen-address=\n", spec, StringComparison.Ordinal); // no gossip port

        // No rule of any security group opens Alertmanager's port (or its gossip port) to anything.
        static IEnumerable<JsonElement> Ingress(JsonElement json) =>
            Resources(json, "AWS::EC2::SecurityGroupIngress").Select(r => r.Properties)
                .Concat(Resources(json, "AWS::EC2::SecurityGroup").SelectMany(g => g.Properties.TryGetProperty("SecurityGroupIngress", out var rules) ? rules.EnumerateArray() : Enumerable.Empty<JsonElement>()));
        var ingress = Ingress(synthesized.Json).ToList();
        Assert.NotEmpty(ingress);
        foreach (var rule in ingress)
        {
            var all = rule.GetProperty("IpProtocol").GetString() == "-1";
            var from = rule.TryGetProperty("FromPort", out var f) ? f.GetInt32() : 0;
            var to = rule.TryGetProperty("ToPort", out var t) ? t.GetInt32() : 65535;
            Assert.False(all || (from <= ClusterConstruct.AlertmanagerPort + 1 && to >= ClusterConstruct.AlertmanagerPort), $"an ingress rule opens {from}-{to}: {rule.GetRawText()}");
        }

        // IMDS answers one hop only: a pod behind the CNI cannot reach the master's role.
        foreach (var (id, template) in synthesized.Resources("AWS::EC2::LaunchTemplate"))
        {
            var metadata = template.GetProperty("Properties").GetProperty("LaunchTemplateData").GetProperty("MetadataOptions");
            Assert.Equal(("required", 1), (metadata.GetProperty("HttpTokens").GetString(), metadata.GetProperty("HttpPutResponseHopLimit").GetInt32()));
        }
    }

    [Fact]
    public void MasterUserData_WithTheAlertingFiles_FitsEc2sLimit()
    {
        var userData = MasterUserData(synthesized.Json);

        // EC2 refuses user data over 16 KB before base64; CloudFormation's references (here
        // ${LogicalId}) resolve to ARNs and addresses under 100 characters each.
        var resources = synthesized.Json.GetProperty("Resources").EnumerateObject().Select(r => r.Name).ToHashSet();
        var references = Regex.Matches(userData, @"\$\{([A-Za-z0-9:]+)\}").Count(m => m.Groups[1].Value.StartsWith("AWS::", StringComparison.Ordinal) || resources.Contains(m.Groups[1].Value));
        Assert.True(references > 0);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(userData) + 100 * references <= 16 * 1024, $"{System.Text.Encoding.UTF8.GetByteCount(userData)} bytes and {references} references");
    }

    [Theory]
    [InlineData("nodefleet:fastPathGroupInterval", "2s", "nodefleet:fastPathGroupInterval: '2s' must be at least 5s")]
    [InlineData("nodefleet:fastPathGroupWait", "soon", "nodefleet:fastPathGroupWait: 'soon' is not a duration")]
    [InlineData("nodefleet:fastPathRepeatInterval", "30s", "nodefleet:fastPathRepeatInterval: '30s' must be at least 1m")]
    [InlineData("nodefleet:fastPathGroupInterval", "10m", "nodefleet:fastPathRepeatInterval (5m) must not be shorter than fastPathGroupInterval (10m)")]
    public void Settings_BadFastPathValue_IsRefusedNamingTheKey(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidSettingsException>(() => SynthesizedTemplate.Synthesize(new Dictionary<string, object> { [key] = value }));

        Assert.Contains(error.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ExistingCluster_DeploysThePath_GrantsNoPublisher_AndNamesTheTopic()
    {
        var (stack, template) = SynthesizedTemplate.Synthesize(ExistingClusterTests.Existing());
        var json = Json(template);
        var topic = Ref(Id(stack, stack.FastPath.Topic));

        template.ResourceCountIs("AWS::Pipes::Pipe", 1);
        Assert.DoesNotContain(IdentityStatements(json), s => Strings(s.Statement.GetProperty("Resource")).Contains(topic));
        Assert.Equal(topic, json.GetProperty("Outputs").GetProperty("AlertsTopicArn").GetProperty("Value").GetRawText());
    }
}
