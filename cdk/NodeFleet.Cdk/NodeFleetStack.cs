using Amazon.CDK;
using Constructs;

namespace NodeFleet.Cdk;

public sealed class NodeFleetStackProps : StackProps
{
    public required DeploymentSettings Settings { get; init; }

    /// <summary>The repository root: functions/, statemachines/ and scripts/ are read from it.</summary>
    public required string RepositoryRoot { get; init; }
}

/// <summary>The deployment, composed of one construct per concern; the stack itself stays thin.</summary>
public sealed class NodeFleetStack : Stack
{
    public NodeFleetStack(Construct scope, string id, NodeFleetStackProps props)
        : base(scope, id, props)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;
        Amazon.CDK.Tags.Of(this).Add("nodefleet:cluster", settings.Scaling.ClusterName);

        Cluster = settings.Existing is { } existing
            ? new ExistingClusterConstruct(this, "Cluster", existing)
            : new ClusterConstruct(this, "Cluster", new ClusterProps { Settings = settings, RepositoryRoot = props.RepositoryRoot });
        var state = new StateConstruct(this, "State");
        var notifications = new NotificationsConstruct(this, "Notifications", new NotificationsProps { Settings = settings });
        Functions = new FunctionsConstruct(this, "Functions", new FunctionsProps
        {
            Settings = settings, RepositoryRoot = props.RepositoryRoot, Cluster = Cluster, State = state, Notifications = notifications,
        });
        Workflow = new WorkflowConstruct(this, "Workflow", new WorkflowProps { Settings = settings, RepositoryRoot = props.RepositoryRoot, Functions = Functions });
        FastPath = new FastPathConstruct(this, "FastPath", new FastPathProps
        {
            Settings = settings, RepositoryRoot = props.RepositoryRoot, StateMachine = Workflow.StateMachine, Host = Cluster.AlertingHost,
        });
        _ = new ObservabilityConstruct(this, "Observability", new ObservabilityProps { Settings = settings, Workflow = Workflow, Notifications = notifications });

        _ = new CfnOutput(this, "StateMachineArn", new CfnOutputProps { Value = Workflow.StateMachine.StateMachineArn });
        _ = new CfnOutput(this, "TopicArn", new CfnOutputProps { Value = notifications.Topic.TopicArn });
        _ = new CfnOutput(this, "AlertsTopicArn", new CfnOutputProps { Value = FastPath.Topic.TopicArn, Description = "Alertmanager's SNS topic (the fast path); only the master's role may publish to it" });
        _ = new CfnOutput(this, "StateTable", new CfnOutputProps { Value = state.Table.TableName });
    }

    public IClusterResources Cluster { get; }
    public FunctionsConstruct Functions { get; }
    public WorkflowConstruct Workflow { get; }
    public FastPathConstruct FastPath { get; }
}
