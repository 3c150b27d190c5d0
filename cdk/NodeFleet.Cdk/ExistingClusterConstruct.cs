using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Constructs;

namespace NodeFleet.Cdk;

/// <summary>
/// An existing cluster given in context: its VPC and subnets are imported and the nodes' security
/// group gains ingress from NodeFleet's cluster steps on the API and Prometheus ports. No
/// endpoints are added: the VPC has its own routing (a NAT, or endpoints whose private DNS a
/// second one would collide with), and its subnets must reach DynamoDB and SSM (Parameter Store).
/// </summary>
public sealed class ExistingClusterConstruct : Construct, IClusterResources
{
    public ExistingClusterConstruct(Construct scope, string id, ExistingCluster existing)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(existing);
        Vpc = Amazon.CDK.AWS.EC2.Vpc.FromVpcAttributes(this, "Vpc", new VpcAttributes
        {
            VpcId = existing.VpcId,
            AvailabilityZones = existing.Subnets.Select(s => s.Zone).ToArray(),
            PublicSubnetIds = existing.Subnets.Select(s => s.SubnetId).ToArray(),
        });
        var functions = new SecurityGroup(this, "FunctionsSecurityGroup", new SecurityGroupProps { Vpc = Vpc, Description = "NodeFleet's cluster steps", AllowAllOutbound = true });
        Functions = functions;
        var nodes = SecurityGroup.FromSecurityGroupId(this, "Nodes", existing.NodesSecurityGroupId, new SecurityGroupImportOptions { Mutable = true });
        nodes.AddIngressRule(functions, Port.Tcp(existing.KubeApiUrl.Port), "NodeFleet to the Kubernetes API");
        nodes.AddIngressRule(functions, Port.Tcp(existing.PrometheusUrl.Port), "NodeFleet to Prometheus");

        KubeToken = SecureParameter.Named(Stack.Of(this), existing.KubeTokenParameterName);
        KubeCa = SecureParameter.Named(Stack.Of(this), existing.KubeCaParameterName);
        KubeApiUrl = existing.KubeApiUrl.ToString().TrimEnd('/');
        PrometheusUrl = existing.PrometheusUrl.ToString().TrimEnd('/');
        LaunchTemplateId = existing.LaunchTemplateId;
        LaunchTemplateVersion = existing.LaunchTemplateVersion;
        WorkerRoleArn = existing.WorkerRoleArn;
        WorkerSubnets = string.Join(",", existing.Subnets.Select(s => $"{s.Zone}={s.SubnetId}"));
        WorkerSubnetIds = [.. existing.Subnets.Select(s => s.SubnetId)];
    }

    public IVpc Vpc { get; }
    public ISecurityGroup Functions { get; }
    public SecureParameter KubeToken { get; }
    public SecureParameter KubeCa { get; }
    public string KubeApiUrl { get; }
    public string PrometheusUrl { get; }
    public string LaunchTemplateId { get; }
    public string LaunchTemplateVersion { get; }
    public string WorkerRoleArn { get; }
    public string WorkerSubnets { get; }
    public IReadOnlyList<string> WorkerSubnetIds { get; }

    /// <summary>Its master is the operator's: they grant it sns:Publish on the alerts topic and install scripts/alerting/ themselves.</summary>
    public IAlertingHost? AlertingHost => null;
}
