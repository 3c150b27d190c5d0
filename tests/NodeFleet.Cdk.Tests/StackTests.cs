using System.Reflection;
using System.Text.Json;
using Regex = System.Text.RegularExpressions.Regex;
using Amazon.CDK.Assertions;
using NodeFleet.Cdk;
using NodeFleet.Core.Settings;
using NodeFleet.Core.Workflow;

namespace NodeFleet.Cdk.Tests;

[Collection(TemplateGroup.Name)]
public class StackTests(SynthesizedTemplate synthesized)
{
    private static readonly Dictionary<string, string[]> AllowedActions = new()
    {
        ["CollectMetrics"] = ["dynamodb:GetItem", "ec2:DescribeInstances", "ssm:GetParameter", "kms:Decrypt"],
        ["Decide"] = [],
        ["AcquireLock"] = ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        ["Reconcile"] = ["dynamodb:GetItem", "ec2:DescribeInstances", "ec2:TerminateInstances", "ssm:GetParameter", "kms:Decrypt"],
        ["LaunchNodes"] = ["dynamodb:GetItem", "dynamodb:UpdateItem", "ec2:CreateFleet", "ec2:RunInstances", "ec2:CreateTags", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions", "iam:PassRole"],
        ["CheckNodesReady"] = ["ssm:GetParameter", "kms:Decrypt"],
        ["DrainNode"] = ["dynamodb:GetItem", "ssm:GetParameter", "kms:Decrypt"],
        ["TerminateNode"] = ["dynamodb:GetItem", "ec2:DescribeInstances", "ec2:TerminateInstances"],
        ["UpdateState"] = ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        ["Notify"] = ["sns:Publish"],
    };

    [Fact]
    public void Template_HasOneFunctionPerStep_OnTheDotnet10Runtime()
    {
        synthesized.Template.ResourceCountIs("AWS::Lambda::Function", StepCatalog.All.Count);
        Assert.Equal(10, StepCatalog.All.Count);
        synthesized.Template.AllResourcesProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["Runtime"] = "dotnet10",
            ["MemorySize"] = 512,
            ["Architectures"] = new[] { "x86_64" },
        });
        synthesized.Template.ResourceCountIs("AWS::StepFunctions::StateMachine", 1);
        synthesized.Template.ResourceCountIs("AWS::Events::Rule", 3);
        synthesized.Template.ResourceCountIs("AWS::CloudWatch::Alarm", 3);
    }

    [Fact]
    public void Functions_TimeoutIsTheStepsTimeoutInStepsJson()
    {
        foreach (var step in StepCatalog.All)
        {
            var logicalId = synthesized.Stack.GetLogicalId((Amazon.CDK.CfnElement)synthesized.Stack.Functions.Functions[step.Name].Node.DefaultChild!);
            var function = synthesized.Resources("AWS::Lambda::Function").Single(r => r.Id == logicalId).Resource;
            Assert.Equal(step.TimeoutSeconds, function.GetProperty("Properties").GetProperty("Timeout").GetInt32());
        }
    }

    [Fact]
    public void EveryHandler_NamesAPublicStreamMethodThatExists()
    {
        foreach (var (_, function) in synthesized.Resources("AWS::Lambda::Function"))
        {
            var handler = function.GetProperty("Properties").GetProperty("Handler").GetString()!.Split("::");
            var assembly = Assembly.Load(handler[0]);
            var type = assembly.GetType(handler[1]);
            Assert.True(type is not null, $"{handler[1]} is not in {handler[0]}");
            Assert.NotNull(type.GetConstructor(Type.EmptyTypes));
            var method = type.GetMethod(handler[2], BindingFlags.Public | BindingFlags.Instance, [typeof(Stream)]);
            Assert.True(method is not null, $"{string.Join("::", handler)} has no public FunctionHandler(Stream)");
            Assert.Equal(typeof(Task<Stream>), method.ReturnType);
        }
    }

    private IEnumerable<(string Role, JsonElement Statement)> Statements()
    {
        foreach (var (_, policy) in synthesized.Resources("AWS::IAM::Policy"))
        {
            var properties = policy.GetProperty("Properties");
            var role = properties.GetProperty("Roles")[0].GetProperty("Ref").GetString()!;
            foreach (var statement in properties.GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            {
                yield return (role, statement);
            }
        }
    }

    private static IEnumerable<string> Actions(JsonElement statement) =>
        statement.GetProperty("Action") is var a && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().Select(x => x.GetString()!) : [a.GetString()!];

    private static string ParameterArn(string name) => $":ssm:us-east-1:123456789012:parameter{name}";

    /// <summary>The ARNs a statement grants on, as text (they are Fn::Join of the partition and the rest).</summary>
    private static List<string> ResourceTexts(JsonElement statement) =>
        statement.GetProperty("Resource") is var r && r.ValueKind == JsonValueKind.Array ? r.EnumerateArray().Select(x => x.GetRawText()).ToList() : [r.GetRawText()];

    private List<(string Role, JsonElement Statement)> StatementsOf(Amazon.CDK.AWS.IAM.IRole role)
    {
        var roleId = synthesized.Stack.GetLogicalId((Amazon.CDK.CfnElement)role.Node.DefaultChild!);
        return Statements().Where(s => s.Role == roleId).ToList();
    }

    /// <summary>Each grant of a SecureString's KMS half is conditioned on SSM making the call.</summary>
    private static void AssertKmsOnlyViaSsm(IEnumerable<(string Role, JsonElement Statement)> statements, string action)
    {
        var kms = Assert.Single(statements, s => Actions(s.Statement).Contains(action)).Statement;
        Assert.Equal([action], Actions(kms));
        Assert.Equal("ssm.us-east-1.amazonaws.com", kms.GetProperty("Condition").GetProperty("StringEquals").GetProperty("kms:ViaService").GetString());
    }

    [Fact]
    public void Iam_NoWildcardActions()
    {
        foreach (var (role, statement) in Statements())
        {
            Assert.All(Actions(statement), action => Assert.False(action == "*" || action.EndsWith(":*", StringComparison.Ordinal), $"{role} allows {action}"));
        }
    }

    [Fact]
    public void Iam_EachFunctionRoleGrantsOnlyItsStepsCalls()
    {
        var statements = Statements().ToList();
        foreach (var (step, allowed) in AllowedActions)
        {
            var roleId = synthesized.Stack.GetLogicalId((Amazon.CDK.CfnElement)synthesized.Stack.Functions.Roles[step].Node.DefaultChild!);
            var granted = statements.Where(s => s.Role == roleId).SelectMany(s => Actions(s.Statement)).Distinct().Order().ToList();
            Assert.Equal(allowed.Order().ToList(), granted);
        }
    }

    [Fact]
    public void Iam_TerminateIsConditionedOnThisClustersManagedTag()
    {
        // TerminateNode and Reconcile terminate; each grant is conditioned.
        var grants = Statements().Where(s => Actions(s.Statement).Contains("ec2:TerminateInstances")).ToList();
        Assert.Equal(2, grants.Count);
        foreach (var (_, terminate) in grants)
        {
            var condition = terminate.GetProperty("Condition").GetProperty("StringEquals");
            Assert.Equal("k3s", condition.GetProperty("aws:ResourceTag/nodefleet.io/cluster").GetString());
            Assert.Equal("true", condition.GetProperty("aws:ResourceTag/nodefleet.io/managed").GetString());
        }
    }

    [Fact]
    public void Triggers_ScheduleAndEc2Events()
    {
        synthesized.Template.HasResourceProperties("AWS::Events::Rule", new Dictionary<string, object> { ["ScheduleExpression"] = "rate(2 minutes)" });
        synthesized.Template.HasResourceProperties("AWS::Events::Rule", new Dictionary<string, object>
        {
            ["EventPattern"] = new Dictionary<string, object>
            {
                ["source"] = new[] { "aws.ec2" },
                ["detail-type"] = new[] { "EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation" },
            },
        });
        synthesized.Template.HasResourceProperties("AWS::Events::Rule", new Dictionary<string, object>
        {
            ["EventPattern"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["detail"] = new Dictionary<string, object> { ["state"] = new[] { "stopping", "stopped", "shutting-down", "terminated" } },
            }),
        });
    }

    [Fact]
    public void StateMachine_EveryPlaceholderIsSubstituted_AndTheResultIsJson()
    {
        var machine = Assert.Single(synthesized.Resources("AWS::StepFunctions::StateMachine")).Resource.GetProperty("Properties");
        // DefinitionBody.FromFile uploads the file as it is (an S3 asset); CloudFormation substitutes.
        Assert.True(machine.TryGetProperty("DefinitionS3Location", out _));
        var definition = File.ReadAllText(Path.Combine(SynthesizedTemplate.RepositoryRoot, "statemachines", "autoscaler.asl.json"));
        var substitutions = machine.GetProperty("DefinitionSubstitutions").EnumerateObject().Select(p => p.Name).ToHashSet();

        var placeholders = Regex.Matches(definition, @"\$\{(\w+)\}").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(placeholders.Order(), substitutions.Order());
        Assert.DoesNotMatch(@"\$\{(?!\w+\})", definition); // every placeholder is a plain name CloudFormation substitutes
        using var parsed = JsonDocument.Parse(Regex.Replace(definition, @"\$\{(\w+)\}", "1"));
        Assert.Equal("CollectMetrics", parsed.RootElement.GetProperty("StartAt").GetString());
        Assert.True(machine.GetProperty("TracingConfiguration").GetProperty("Enabled").GetBoolean());
        Assert.False(machine.GetProperty("LoggingConfiguration").GetProperty("IncludeExecutionData").GetBoolean());
    }

    [Fact]
    public void Nodes_RequireImdsv2AndEncryptedVolumes()
    {
        foreach (var (id, template) in synthesized.Resources("AWS::EC2::LaunchTemplate"))
        {
            var data = template.GetProperty("Properties").GetProperty("LaunchTemplateData");
            Assert.Equal("required", data.GetProperty("MetadataOptions").GetProperty("HttpTokens").GetString());
            if (data.TryGetProperty("BlockDeviceMappings", out var devices))
            {
                Assert.All(devices.EnumerateArray(), d => Assert.True(d.GetProperty("Ebs").GetProperty("Encrypted").GetBoolean(), id));
            }
        }

        var master = Assert.Single(synthesized.Resources("AWS::EC2::Instance")).Resource.GetProperty("Properties");
        Assert.True(master.GetProperty("BlockDeviceMappings")[0].GetProperty("Ebs").GetProperty("Encrypted").GetBoolean());
        Assert.Contains(master.GetProperty("Tags").EnumerateArray(), t => t.GetProperty("Key").GetString() == "nodefleet.io/role" && t.GetProperty("Value").GetString() == "master");
    }

    [Fact]
    public void Functions_AreTheStepsOfStepsJson_WithTheirHandlersAndEnvironment()
    {
        var functions = synthesized.Resources("AWS::Lambda::Function").Select(f => f.Resource.GetProperty("Properties")).ToList();
        Assert.Equal(StepCatalog.All.Count, functions.Count);
        foreach (var step in StepCatalog.All)
        {
            var function = Assert.Single(functions, f => f.GetProperty("Handler").GetString() == step.Handler);
            var variables = function.GetProperty("Environment").GetProperty("Variables");
            foreach (var name in step.Environment.Keys.Except(step.OptionalEnvironment))
            {
                Assert.True(variables.TryGetProperty(name, out _), $"{step.Name} lacks {name}");
            }

            Assert.Equal(step.Vpc, function.TryGetProperty("VpcConfig", out _));
        }
    }

    [Fact]
    public void Network_NothingOpenToTheInternet_AndOnlyClusterStepsInTheVpc()
    {
        var text = synthesized.Json.GetRawText();
        Assert.DoesNotContain("0.0.0.0/0\",\"Description\":\"SSH", text, StringComparison.Ordinal);
        foreach (var (_, ingress) in synthesized.Resources("AWS::EC2::SecurityGroupIngress"))
        {
            Assert.False(ingress.GetProperty("Properties").TryGetProperty("CidrIp", out _), "an ingress rule opens a CIDR");
        }

        synthesized.Template.ResourceCountIs("AWS::EC2::NatGateway", 0);
        var endpoints = synthesized.Resources("AWS::EC2::VPCEndpoint").Select(e => e.Resource.GetProperty("Properties")).ToList();
        var gateway = Assert.Single(endpoints, e => e.GetProperty("VpcEndpointType").GetString() == "Gateway");
        Assert.Contains("dynamodb", gateway.GetProperty("ServiceName").GetRawText(), StringComparison.Ordinal);
        var ssm = Assert.Single(endpoints, e => e.GetProperty("VpcEndpointType").GetString() == "Interface"); // one interface endpoint: Parameter Store
        Assert.Equal("com.amazonaws.us-east-1.ssm", ssm.GetProperty("ServiceName").GetString());
        Assert.Equal(2, ssm.GetProperty("SubnetIds").GetArrayLength()); // in each zone: losing one does not cut the other's steps off their token
        var inVpc = synthesized.Resources("AWS::Lambda::Function")
            .Where(f => f.Resource.GetProperty("Properties").TryGetProperty("VpcConfig", out _))
            .Select(f => f.Resource.GetProperty("Properties").GetProperty("Handler").GetString()!.Split("::")[0]).Order();
        Assert.Equal(["NodeFleet.CheckNodesReady", "NodeFleet.CollectMetrics", "NodeFleet.DrainNode", "NodeFleet.Reconcile"], inVpc);
    }

    [Fact]
    public void Secrets_OnlyParameterNamesInTheEnvironment_ReadableByExactlyTheClusterSteps()
    {
        var secretVariables = new List<(string Handler, string Name, string Value)>();
        foreach (var (_, function) in synthesized.Resources("AWS::Lambda::Function"))
        {
            var properties = function.GetProperty("Properties");
            var variables = properties.GetProperty("Environment").GetProperty("Variables");
            foreach (var variable in variables.EnumerateObject().Where(v => v.Name.Contains("TOKEN", StringComparison.Ordinal) || v.Name.Contains("_CA_", StringComparison.Ordinal) || v.Name.Contains("WEBHOOK", StringComparison.Ordinal)))
            {
                // A name to read at run time (a parameter, or the Slack webhook's secret), never the value.
                Assert.True(variable.Name.EndsWith("_PARAMETER", StringComparison.Ordinal) || variable.Name.EndsWith("_SECRET", StringComparison.Ordinal), variable.Name);
                secretVariables.Add((properties.GetProperty("Handler").GetString()!.Split("::")[0], variable.Name, variable.Value.GetString()!));
            }
        }

        Assert.Equal(8, secretVariables.Count);
        Assert.All(secretVariables, v => Assert.Equal(v.Name == "NODEFLEET_KUBE_TOKEN_PARAMETER" ? "/nodefleet/k3s/kube-token" : "/nodefleet/k3s/kube-ca", v.Value));
        foreach (var step in new[] { "CollectMetrics", "CheckNodesReady", "DrainNode", "Reconcile" })
        {
            var statements = StatementsOf(synthesized.Stack.Functions.Roles[step]);
            var read = Assert.Single(statements, s => Actions(s.Statement).Contains("ssm:GetParameter")).Statement;
            var arns = ResourceTexts(read);
            Assert.Equal(2, arns.Count);
            Assert.Contains(arns, a => a.Contains(ParameterArn("/nodefleet/k3s/kube-token"), StringComparison.Ordinal));
            Assert.Contains(arns, a => a.Contains(ParameterArn("/nodefleet/k3s/kube-ca"), StringComparison.Ordinal));
            AssertKmsOnlyViaSsm(statements, "kms:Decrypt");
        }

        // CloudFormation holds no secret: SecureStrings are written by the master, never by the template.
        synthesized.Template.ResourceCountIs("AWS::SSM::Parameter", 0);
        synthesized.Template.ResourceCountIs("AWS::SecretsManager::Secret", 0);
        Assert.DoesNotContain("token", synthesized.Json.GetProperty("Outputs").GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Nodes_MasterWritesTheThreeParameters_WorkersReadOnlyTheJoinToken()
    {
        var cluster = (ClusterConstruct)synthesized.Stack.Cluster;
        var masterRole = (Amazon.CDK.AWS.IAM.IRole)cluster.Node.FindChild("MasterRole");

        var master = StatementsOf(masterRole);
        var write = Assert.Single(master, s => Actions(s.Statement).Contains("ssm:PutParameter")).Statement;
        Assert.Equal(["ssm:PutParameter"], Actions(write));
        Assert.Equal(3, ResourceTexts(write).Count);
        Assert.All(new[] { "join-token", "kube-token", "kube-ca" }, leaf =>
            Assert.Contains(ResourceTexts(write), a => a.Contains(ParameterArn($"/nodefleet/k3s/{leaf}"), StringComparison.Ordinal)));
        Assert.DoesNotContain(master, s => Actions(s.Statement).Any(a => a.StartsWith("ssm:Get", StringComparison.Ordinal)));
        AssertKmsOnlyViaSsm(master, "kms:Encrypt");

        var worker = StatementsOf(cluster.WorkerRole);
        var read = Assert.Single(worker, s => Actions(s.Statement).Contains("ssm:GetParameter")).Statement;
        Assert.Equal(["ssm:GetParameter"], Actions(read));
        var joinToken = Assert.Single(ResourceTexts(read));
        Assert.Contains(ParameterArn("/nodefleet/k3s/join-token"), joinToken, StringComparison.Ordinal);
        Assert.DoesNotContain(worker, s => Actions(s.Statement).Contains("ssm:PutParameter"));
        AssertKmsOnlyViaSsm(worker, "kms:Decrypt");

        // The user data names the same parameters.
        var masterData = Assert.Single(synthesized.Resources("AWS::EC2::Instance")).Resource.GetProperty("Properties").GetProperty("UserData").GetRawText();
        Assert.All(new[] { "join-token", "kube-token", "kube-ca" }, leaf => Assert.Contains($"/nodefleet/k3s/{leaf}", masterData, StringComparison.Ordinal));
        var workerData = Assert.Single(synthesized.Resources("AWS::EC2::LaunchTemplate"), t => t.Id.StartsWith("ClusterWorkerTemplate", StringComparison.Ordinal)).Resource.GetRawText();
        Assert.Contains("/nodefleet/k3s/join-token", workerData, StringComparison.Ordinal);
        Assert.DoesNotContain("/nodefleet/k3s/kube-token", workerData, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nodefleet:scheduleRate", "90s", "nodefleet:scheduleRate: '90s' is not a whole number of minutes")]
    [InlineData("nodefleet:spotShare", "1.5", "nodefleet:spotShare: '1.5' is not a fraction")]
    [InlineData("nodefleet:sshCidr", "my office", "nodefleet:sshCidr: 'my office' is not a CIDR block")]
    [InlineData("nodefleet:notificationEmail", "ops", "nodefleet:notificationEmail: 'ops' is not an email address")]
    [InlineData("nodefleet:maxNodes", "0", "maxNodes: must be between 1 and 100")]
    [InlineData("nodefleet:leaseDuration", "5m", "nodefleet:leaseDuration (5m) must exceed nodeJoinTimeout (10m)")]
    public void Settings_BadContext_IsRefusedNamingTheKey(string key, string value, string expected)
    {
        var error = Assert.Throws<InvalidSettingsException>(() => SynthesizedTemplate.Synthesize(new Dictionary<string, object> { [key] = value }));

        Assert.Contains(error.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Settings_SshCidrGiven_OpensSshOnlyToIt()
    {
        var (_, template) = SynthesizedTemplate.Synthesize(new Dictionary<string, object> { ["nodefleet:sshCidr"] = "203.0.113.0/24" });

        template.HasResourceProperties("AWS::EC2::SecurityGroup", Match.ObjectLike(new Dictionary<string, object>
        {
            ["SecurityGroupIngress"] = Match.ArrayWith([Match.ObjectLike(new Dictionary<string, object> { ["CidrIp"] = "203.0.113.0/24", ["FromPort"] = 22 })]),
        }));
    }
    [Fact]
    public void Settings_WorkerLabelsAndTaints_GoIntoTheWorkersUserDataAndDecidesTemplate()
    {
        var (_, template) = SynthesizedTemplate.Synthesize(new Dictionary<string, object>
        {
            ["nodefleet:workerLabels"] = "pool=general,team=web",
            ["nodefleet:workerTaints"] = "dedicated=web:NoSchedule",
        });
        var json = JsonSerializer.SerializeToElement(template.ToJSON());

        var workerData = json.GetProperty("Resources").EnumerateObject()
            .Single(r => r.Name.StartsWith("ClusterWorkerTemplate", StringComparison.Ordinal) && r.Value.GetProperty("Type").GetString() == "AWS::EC2::LaunchTemplate").Value.GetRawText();
        Assert.Contains("pool=general,team=web", workerData, StringComparison.Ordinal);
        Assert.Contains("dedicated=web:NoSchedule", workerData, StringComparison.Ordinal);
        var decide = json.GetProperty("Resources").EnumerateObject().Select(r => r.Value)
            .Single(r => r.GetProperty("Type").GetString() == "AWS::Lambda::Function" && r.GetProperty("Properties").GetProperty("Handler").GetString()!.StartsWith("NodeFleet.Decide", StringComparison.Ordinal));
        var variables = decide.GetProperty("Properties").GetProperty("Environment").GetProperty("Variables");
        Assert.Equal("pool=general,team=web", variables.GetProperty("NODEFLEET_WORKER_LABELS").GetString());
        Assert.Equal("dedicated=web:NoSchedule", variables.GetProperty("NODEFLEET_WORKER_TAINTS").GetString());
        Assert.True(variables.TryGetProperty("NODEFLEET_WORKER_SUBNETS", out _));
    }
}
