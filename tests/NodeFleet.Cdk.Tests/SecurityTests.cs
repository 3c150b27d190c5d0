using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.CDK;
using NodeFleet.Cdk;

using static NodeFleet.Cdk.Tests.TemplateJson;

namespace NodeFleet.Cdk.Tests;

/// <summary>
/// The README's security section, read from the synthesized template and the user data: no path
/// from a pod to cluster admin, a launch role that can launch only our workers, terminations that
/// never reach the control plane, trusted starts only.
/// </summary>
[Collection(TemplateGroup.Name)]
public class SecurityTests(SynthesizedTemplate synthesized)
{
    /// <summary>The settings the fixture synthesized with: no context, every default.</summary>
    private static readonly DeploymentSettings Defaults = DeploymentSettings.FromContext(new App().Node);

    private string RoleOf(string step) => Id(synthesized.Stack, synthesized.Stack.Functions.Roles[step]);

    private IEnumerable<JsonElement> StatementsOf(string roleId) =>
        IdentityStatements(synthesized.Json).Where(s => s.Owner.Split(',').Contains(roleId)).Select(s => s.Statement);

    private static bool Allows(JsonElement statement, string action) => Strings(statement.GetProperty("Action")).Contains(action);

    private static JsonElement Condition(JsonElement statement, string op, string key) => statement.GetProperty("Condition").GetProperty(op).GetProperty(key);

    [Fact]
    public void LaunchNodes_RunInstances_OnlyThroughOurTemplateTypesSubnetsAndTags()
    {
        var statements = StatementsOf(RoleOf("LaunchNodes")).Where(s => Allows(s, "ec2:RunInstances")).ToList();
        var template = Id(synthesized.Stack, ((ClusterConstruct)synthesized.Stack.Cluster).WorkerTemplate);

        Assert.DoesNotContain(statements, s => Strings(s.GetProperty("Resource")).Contains("*"));
        var instance = Assert.Single(statements, s => Strings(s.GetProperty("Resource")).Any(r => r.Contains(":instance/*", StringComparison.Ordinal)));
        Assert.Contains(template, Condition(instance, "ArnEquals", "ec2:LaunchTemplate").GetRawText(), StringComparison.Ordinal);
        Assert.Equal(Defaults.InstanceTypes.Order(), Strings(Condition(instance, "StringEquals", "ec2:InstanceType")).Order());
        Assert.Equal(Defaults.Scaling.ClusterName, Condition(instance, "StringEquals", "aws:RequestTag/nodefleet.io/cluster").GetString());
        Assert.Equal("true", Condition(instance, "StringEquals", "aws:RequestTag/nodefleet.io/managed").GetString());
        Assert.Equal("true", Condition(instance, "Null", "aws:RequestTag/nodefleet.io/role").GetString());
        // Subnets: exactly the two worker subnets, by ARN.
        var subnets = statements.SelectMany(s => Strings(s.GetProperty("Resource"))).Where(r => r.Contains(":subnet/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, subnets.Count);
        Assert.All(subnets, s => Assert.Contains("ClusterVpcpublicSubnet", s, StringComparison.Ordinal));
        // Everything else a launch touches: only as the launch template names it.
        var rest = Assert.Single(statements, s => Strings(s.GetProperty("Resource")).Any(r => r.Contains(":volume/*", StringComparison.Ordinal)));
        Assert.Contains(template, Condition(rest, "ArnEquals", "ec2:LaunchTemplate").GetRawText(), StringComparison.Ordinal);
        var fleet = Assert.Single(StatementsOf(RoleOf("LaunchNodes")), s => Allows(s, "ec2:CreateFleet"));
        Assert.Equal("true", Condition(fleet, "StringEquals", "aws:RequestTag/nodefleet.io/managed").GetString());
        Assert.Equal("true", Condition(fleet, "Null", "aws:RequestTag/nodefleet.io/role").GetString());
    }

    [Theory]
    [InlineData("TerminateNode")]
    [InlineData("Reconcile")]
    public void Terminate_OnlyManagedWorkersOfThisCluster_NeverAnInstanceWithTheRoleTag(string step)
    {
        var terminate = Assert.Single(StatementsOf(RoleOf(step)), s => Allows(s, "ec2:TerminateInstances"));

        Assert.Equal("true", Condition(terminate, "StringEquals", "aws:ResourceTag/nodefleet.io/managed").GetString());
        Assert.Equal(Defaults.Scaling.ClusterName, Condition(terminate, "StringEquals", "aws:ResourceTag/nodefleet.io/cluster").GetString());
        Assert.Equal("true", Condition(terminate, "Null", "aws:ResourceTag/nodefleet.io/role").GetString());
    }

    [Fact]
    public void WorkerRole_ReadsOnlyTheJoinToken_AndOnlyFromInsideTheVpc()
    {
        var cluster = (ClusterConstruct)synthesized.Stack.Cluster;
        var statements = StatementsOf(Id(synthesized.Stack, cluster.WorkerRole)).ToList();

        var read = Assert.Single(statements, s => Allows(s, "ssm:GetParameter"));
        Assert.Contains("join-token", read.GetProperty("Resource").GetRawText(), StringComparison.Ordinal);
        Assert.Contains(Id(synthesized.Stack, cluster.Vpc), Condition(read, "StringEquals", "aws:ec2InstanceSourceVPC").GetRawText(), StringComparison.Ordinal);
        Assert.Equal(["kms:Decrypt", "ssm:GetParameter"], statements.SelectMany(s => Strings(s.GetProperty("Action"))).Distinct().Order());
    }

    [Fact]
    public void Master_UsesTheOneHopMetadataTemplate()
    {
        var (_, master) = Assert.Single(synthesized.Resources("AWS::EC2::Instance"));
        var reference = master.GetProperty("Properties").GetProperty("LaunchTemplate").GetProperty("LaunchTemplateId").GetProperty("Ref").GetString()!;

        var options = synthesized.Json.GetProperty("Resources").GetProperty(reference).GetProperty("Properties").GetProperty("LaunchTemplateData").GetProperty("MetadataOptions");
        Assert.Equal(("required", ClusterConstruct.MetadataHopLimit), (options.GetProperty("HttpTokens").GetString(), options.GetProperty("HttpPutResponseHopLimit").GetInt32()));
        Assert.Equal(1, ClusterConstruct.MetadataHopLimit);
    }

    [Fact]
    public void StartExecution_OnlyTheTriggerRulesAndTheFastPathPipe()
    {
        var starters = synthesized.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().Any(s => Allows(s, "states:StartExecution")))
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("Roles").EnumerateArray().Select(r => r.GetProperty("Ref").GetString()!))
            .ToList();
        var trusted = synthesized.Resources("AWS::IAM::Role")
            .Where(r => r.Resource.GetProperty("Properties").GetProperty("AssumeRolePolicyDocument").GetRawText() is var trust
                && (trust.Contains("events.amazonaws.com", StringComparison.Ordinal) || trust.Contains("pipes.amazonaws.com", StringComparison.Ordinal)))
            .Select(r => r.Id).ToHashSet();

        Assert.NotEmpty(starters);
        Assert.All(starters, role => Assert.Contains(role, trusted));
    }

    [Fact]
    public void Endpoint_AdmitsOnlyTheFunctionsAndTheNodes_InEachZone()
    {
        var (id, group) = Assert.Single(synthesized.Resources("AWS::EC2::SecurityGroup"), g => g.Resource.GetProperty("Properties").GetProperty("GroupDescription").GetString()!.Contains("SSM", StringComparison.Ordinal));
        var rules = (group.GetProperty("Properties").TryGetProperty("SecurityGroupIngress", out var inline) ? inline.EnumerateArray().ToList() : [])
            .Concat(synthesized.Resources("AWS::EC2::SecurityGroupIngress").Select(r => r.Resource.GetProperty("Properties"))
                .Where(p => p.GetProperty("GroupId").GetRawText().Contains(id, StringComparison.Ordinal)))
            .ToList();

        Assert.All(rules, r => Assert.False(r.TryGetProperty("CidrIp", out _), $"the endpoint admits a CIDR: {r.GetRawText()}"));
        var sources = rules.Select(r => r.GetProperty("SourceSecurityGroupId").GetProperty("Fn::GetAtt")[0].GetString()!).ToList();
        Assert.Equal(2, sources.Count);
        Assert.Contains(sources, s => s.Contains("FunctionsSecurityGroup", StringComparison.Ordinal));
        Assert.Contains(sources, s => s.Contains("NodesSecurityGroup", StringComparison.Ordinal));
    }
}

/// <summary>The node user data, read as text: secrets never on a command line, the agent token, a pinned K3s.</summary>
public class UserDataTests
{
    private static readonly string[] Secrets = ["JOIN_SECRET", "JOIN_TOKEN", "KUBE_TOKEN"];

    private static string Script(string name) => File.ReadAllText(Path.Combine(SynthesizedTemplate.RepositoryRoot, "scripts", name));

    /// <summary>
    /// Every use of a secret variable is an assignment, a here-string (standard input), or the
    /// environment of one command (<c>K3S_…="$SECRET" command</c>): never an argument, which any
    /// user on the node can read from /proc.
    /// </summary>
    [Theory]
    [InlineData("master-user-data.sh")]
    [InlineData("worker-user-data.sh")]
    public void UserData_SecretsNeverACommandsArgument(string script)
    {
        var uses = 0;
        foreach (var line in Script(script).Split('\n').Where(l => !l.TrimStart().StartsWith('#')))
        {
            foreach (var secret in Secrets)
            {
                var reference = new Regex(@"\$\{?" + secret + @"\b");
                if (!reference.IsMatch(line))
                {
                    continue;
                }

                uses++;
                var stripped = Regex.Replace(line, @"^\s*(local\s+|export\s+)?[A-Z_]+=(""[^""]*""|\S*)", "");          // an assignment
                stripped = Regex.Replace(stripped, @"\bK3S_[A-Z_]+=""\$\{?[A-Z_]+\}?""", "");                             // one command's environment
                stripped = Regex.Replace(stripped, @"<<<\s*""\$\{?[A-Z_]+\}?""", "");                                      // standard input
                stripped = Regex.Replace(stripped, @"\[\[ ""\$[A-Z_]+"" =~ .*\]\]", "");                                // a test, no command
                Assert.False(reference.IsMatch(stripped), $"{script}: {secret} is passed as an argument: {line.Trim()}");
            }
        }

        Assert.True(uses > 0, $"{script} uses none of the secrets this test watches: update the list");
    }

    [Fact]
    public void UserData_WorkersJoinWithThePinnedAgentToken_NeverTheServerToken()
    {
        var master = Script("master-user-data.sh");
        var worker = Script("worker-user-data.sh");

        Assert.Contains("K3S_AGENT_TOKEN=\"$JOIN_SECRET\"", master, StringComparison.Ordinal);
        Assert.Contains("JOIN_TOKEN=\"K10${CA_HASH}::node:${JOIN_SECRET}\"", master, StringComparison.Ordinal);
        Assert.Contains("sha256sum /var/lib/rancher/k3s/server/tls/server-ca.crt", master, StringComparison.Ordinal);
        Assert.DoesNotContain("/var/lib/rancher/k3s/server/token", master, StringComparison.Ordinal);
        Assert.DoesNotContain("--agent-token", master, StringComparison.Ordinal);
        Assert.Contains("^K10[0-9a-f]{64}::node:", worker, StringComparison.Ordinal);
        Assert.Contains("K3S_TOKEN=\"$JOIN_TOKEN\"", worker, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("master-user-data.sh")]
    [InlineData("worker-user-data.sh")]
    public void UserData_InstallsThePinnedRelease_AndClosesImdsToOtherUsers(string script)
    {
        var text = ClusterConstruct.WithoutCommentLines(Script(script));

        Assert.DoesNotContain("get.k3s.io", text, StringComparison.Ordinal);
        Assert.Contains("https://raw.githubusercontent.com/k3s-io/k3s/${K3S_VERSION//+/%2B}/install.sh", text, StringComparison.Ordinal);
        Assert.Contains("INSTALL_K3S_VERSION=\"$K3S_VERSION\"", text, StringComparison.Ordinal);
        Assert.Matches(@"ip daddr 169\.254\.169\.254 meta skuid != .*drop", text);
    }

    [Fact]
    public void MasterUserData_BoundExpiringTokenRenewed_NoLegacyTokenSecret()
    {
        var master = Script("master-user-data.sh");

        Assert.DoesNotContain("kubernetes.io/service-account-token", master, StringComparison.Ordinal);
        Assert.Contains("kubectl -n kube-system create token nodefleet --duration=__KUBE_TOKEN_TTL__", master, StringComparison.Ordinal);
        Assert.Contains("OnUnitActiveSec=__KUBE_TOKEN_REFRESH__", master, StringComparison.Ordinal);
        Assert.True(ClusterConstruct.KubeTokenLifetime - ClusterConstruct.KubeTokenRefresh > NodeFleet.Cluster.Kubernetes.KubernetesToken.ReadEvery);
    }
}
