using System.Text.Json;
using Amazon.CDK.Assertions;
using NodeFleet.Core.Settings;

namespace NodeFleet.Cdk.Tests;

public class ExistingClusterTests
{
    internal static Dictionary<string, object> Existing() => new()
    {
        ["nodefleet:existing.vpcId"] = "vpc-0abc",
        ["nodefleet:existing.subnets"] = "eu-west-1a=subnet-0a,eu-west-1b=subnet-0b",
        ["nodefleet:existing.nodesSecurityGroupId"] = "sg-0nodes",
        ["nodefleet:existing.launchTemplateId"] = "lt-0workers",
        ["nodefleet:existing.workerRoleArn"] = "arn:aws:iam::123456789012:role/k3s-worker",
        ["nodefleet:existing.kubeApiUrl"] = "https://10.0.0.10:6443",
        ["nodefleet:existing.prometheusUrl"] = "http://10.0.0.10:9090",
        ["nodefleet:existing.kubeTokenParameterName"] = "/k3s/nodefleet-token",
        ["nodefleet:existing.kubeCaParameterName"] = "k3s-ca",
    };

    [Fact]
    public void ExistingCluster_CreatesNoVpcOrMaster_AndPointsTheFunctionsAtIt()
    {
        var (_, template) = SynthesizedTemplate.Synthesize(Existing());
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(template.ToJSON()));

        template.ResourceCountIs("AWS::EC2::VPC", 0);
        template.ResourceCountIs("AWS::EC2::Instance", 0);
        template.ResourceCountIs("AWS::EC2::LaunchTemplate", 0);
        template.HasResourceProperties("AWS::EC2::SecurityGroupIngress", Match.ObjectLike(new Dictionary<string, object> { ["GroupId"] = "sg-0nodes", ["FromPort"] = 6443 }));
        template.HasResourceProperties("AWS::EC2::SecurityGroupIngress", Match.ObjectLike(new Dictionary<string, object> { ["GroupId"] = "sg-0nodes", ["FromPort"] = 9090 }));
        template.HasResourceProperties("AWS::Lambda::Function", Match.ObjectLike(new Dictionary<string, object>
        {
            ["Handler"] = "NodeFleet.LaunchNodes::NodeFleet.LaunchNodes.Function::FunctionHandler",
            ["Environment"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["Variables"] = Match.ObjectLike(new Dictionary<string, object>
                {
                    ["NODEFLEET_LAUNCH_TEMPLATE_ID"] = "lt-0workers",
                    ["NODEFLEET_WORKER_SUBNETS"] = "eu-west-1a=subnet-0a,eu-west-1b=subnet-0b",
                }),
            }),
        }));
        template.HasResourceProperties("AWS::Lambda::Function", Match.ObjectLike(new Dictionary<string, object>
        {
            ["Handler"] = "NodeFleet.CollectMetrics::NodeFleet.CollectMetrics.Function::FunctionHandler",
            ["VpcConfig"] = Match.ObjectLike(new Dictionary<string, object> { ["SubnetIds"] = new[] { "subnet-0a", "subnet-0b" } }),
            ["Environment"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["Variables"] = Match.ObjectLike(new Dictionary<string, object>
                {
                    ["NODEFLEET_KUBE_API_URL"] = "https://10.0.0.10:6443",
                    ["NODEFLEET_KUBE_TOKEN_PARAMETER"] = "/k3s/nodefleet-token",
                    ["NODEFLEET_KUBE_CA_PARAMETER"] = "k3s-ca",
                }),
            }),
        }));
        var text = json.RootElement.GetRawText();
        // Names with and without the leading slash both become the parameter's ARN.
        Assert.Contains(":ssm:us-east-1:123456789012:parameter/k3s/nodefleet-token", text, StringComparison.Ordinal);
        Assert.Contains(":ssm:us-east-1:123456789012:parameter/k3s-ca", text, StringComparison.Ordinal);
        Assert.DoesNotContain("secretsmanager", text, StringComparison.Ordinal);
        Assert.Contains("arn:aws:iam::123456789012:role/k3s-worker", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ExistingCluster_Incomplete_NamesEveryMissingKey()
    {
        var partial = new Dictionary<string, object> { ["nodefleet:existing.vpcId"] = "vpc-0abc", ["nodefleet:existing.kubeApiUrl"] = "ftp://x" };

        var error = Assert.Throws<InvalidSettingsException>(() => SynthesizedTemplate.Synthesize(partial));

        Assert.Contains("nodefleet:existing.subnets: required", error.Errors);
        Assert.Contains("nodefleet:existing.launchTemplateId: required", error.Errors);
        Assert.Contains("nodefleet:existing.kubeCaParameterName: required", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("nodefleet:existing.kubeApiUrl: 'ftp://x' is not an http(s) URL", StringComparison.Ordinal));
    }
}
