using Amazon.CDK;
using Constructs;

namespace NodeFleet.Cdk;

public sealed class NodeFleetStackProps : StackProps
{
    public required DeploymentSettings Settings { get; init; }
}

/// <summary>
/// The deployment, composed of one construct per concern (functions, workflow, cluster,
/// alarms) as those land; the stack itself stays thin.
/// </summary>
public sealed class NodeFleetStack : Stack
{
    public NodeFleetStack(Construct scope, string id, NodeFleetStackProps props)
        : base(scope, id, props)
    {
        ArgumentNullException.ThrowIfNull(props);
        Amazon.CDK.Tags.Of(this).Add("nodefleet:cluster", props.Settings.Scaling.ClusterName);
    }
}
