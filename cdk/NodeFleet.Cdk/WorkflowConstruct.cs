using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;

namespace NodeFleet.Cdk;

public sealed record WorkflowProps
{
    public required DeploymentSettings Settings { get; init; }
    public required string RepositoryRoot { get; init; }
    public required FunctionsConstruct Functions { get; init; }
}

/// <summary>
/// The state machine from <c>statemachines/autoscaler.asl.json</c> (DefinitionBody.FromFile with
/// DefinitionSubstitutions, never the CDK DSL), logging to a log group without execution data,
/// traced, and started by the schedule and by the EC2 events NodeFleet handles.
/// </summary>
public sealed class WorkflowConstruct : Construct
{
    public WorkflowConstruct(Construct scope, string id, WorkflowProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;
        var substitutions = props.Functions.Functions.ToDictionary(f => $"{f.Key}FunctionArn", f => f.Value.FunctionArn);
        substitutions["ReadyPollSeconds"] = settings.ReadyPollSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        substitutions["DrainPollSeconds"] = settings.DrainPollSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

        StateMachine = new StateMachine(this, "StateMachine", new StateMachineProps
        {
            StateMachineName = $"nodefleet-{settings.Scaling.ClusterName}",
            StateMachineType = StateMachineType.STANDARD,
            DefinitionBody = DefinitionBody.FromFile(Path.Combine(props.RepositoryRoot, "statemachines", "autoscaler.asl.json")),
            DefinitionSubstitutions = substitutions,
            TracingEnabled = true,
            Logs = new LogOptions
            {
                Destination = new LogGroup(this, "Logs", new Amazon.CDK.AWS.Logs.LogGroupProps { Retention = RetentionDays.ONE_MONTH, RemovalPolicy = RemovalPolicy.DESTROY }),
                Level = LogLevel.ERROR,
                IncludeExecutionData = false,
            },
        });
        foreach (var function in props.Functions.Functions.Values)
        {
            function.GrantInvoke(StateMachine);
        }

        var target = new SfnStateMachine(StateMachine);
        Schedule = new Rule(this, "Schedule", new RuleProps
        {
            Description = "NodeFleet tick",
            Schedule = Amazon.CDK.AWS.Events.Schedule.Rate(Duration.Minutes(settings.ScheduleRate.TotalMinutes)),
            Targets = [target],
        });
        Interruptions = new Rule(this, "Interruptions", new RuleProps
        {
            Description = "Spot interruption warnings and rebalance recommendations",
            EventPattern = new EventPattern
            {
                Source = ["aws.ec2"],
                DetailType = ["EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation"],
            },
            Targets = [target],
        });
        StateChanges = new Rule(this, "StateChanges", new RuleProps
        {
            Description = "Instances stopping or terminating (Decide ignores those that are not managed workers)",
            EventPattern = new EventPattern
            {
                Source = ["aws.ec2"],
                DetailType = ["EC2 Instance State-change Notification"],
                Detail = new Dictionary<string, object> { ["state"] = new[] { "stopping", "stopped", "shutting-down", "terminated" } },
            },
            Targets = [target],
        });
    }

    public StateMachine StateMachine { get; }
    public Rule Schedule { get; }
    public Rule Interruptions { get; }
    public Rule StateChanges { get; }
}

public sealed record ObservabilityProps
{
    public required DeploymentSettings Settings { get; init; }
    public required WorkflowConstruct Workflow { get; init; }
    public required NotificationsConstruct Notifications { get; init; }
}

/// <summary>A dashboard from the Embedded Metric Format metrics the steps log, and the alarms an operator needs.</summary>
public sealed class ObservabilityConstruct : Construct
{
    public ObservabilityConstruct(Construct scope, string id, ObservabilityProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var cluster = props.Settings.Scaling.ClusterName;
        var machine = props.Workflow.StateMachine;
        Metric Emf(string name, string statistic) => new(new MetricProps
        {
            Namespace = "NodeFleet",
            MetricName = name,
            DimensionsMap = new Dictionary<string, string> { ["Cluster"] = cluster },
            Statistic = statistic,
            Period = Duration.Minutes(5),
        });

        var dashboard = new Dashboard(this, "Dashboard", new DashboardProps { DashboardName = $"NodeFleet-{cluster}" });
        dashboard.AddWidgets(
            new GraphWidget(new GraphWidgetProps { Title = "Executions", Left = [machine.MetricStarted(), machine.MetricSucceeded(), machine.MetricFailed()] }),
            new GraphWidget(new GraphWidgetProps { Title = "Decisions", Left = [Emf("DecisionScaleUp", "Sum"), Emf("DecisionScaleDown", "Sum"), Emf("DecisionReplace", "Sum"), Emf("DecisionNone", "Sum")] }),
            new GraphWidget(new GraphWidgetProps { Title = "Workers", Left = [Emf("ManagedWorkers", "Maximum"), Emf("ReadyManagedWorkers", "Maximum"), Emf("LaunchingWorkers", "Maximum")] }),
            new GraphWidget(new GraphWidgetProps { Title = "Unschedulable pods", Left = [Emf("UnschedulablePods", "Maximum")] }));

        var notify = new Amazon.CDK.AWS.CloudWatch.Actions.SnsAction(props.Notifications.Topic);
        FailedExecutions = new Alarm(this, "FailedExecutions", new AlarmProps
        {
            AlarmDescription = "A NodeFleet execution failed: open it in the Step Functions console",
            Metric = machine.MetricFailed(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" }),
            Threshold = 1,
            EvaluationPeriods = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });
        AtMaximum = new Alarm(this, "AtMaximum", new AlarmProps
        {
            AlarmDescription = $"NodeFleet wanted more nodes than maxNodes ({props.Settings.Scaling.MaxNodes}) allows for 15 minutes",
            Metric = Emf("AtMaximum", "Minimum"),
            Threshold = 1,
            EvaluationPeriods = 3,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });
        // An execution holds the lease for its whole run: one running longer than the lease means
        // the lease expired under it (another execution may have taken over).
        LeaseOverrun = new Alarm(this, "LeaseOverrun", new AlarmProps
        {
            AlarmDescription = "A NodeFleet execution ran longer than its lease",
            Metric = machine.MetricTime(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Maximum" }),
            Threshold = props.Settings.LeaseDuration.TotalMilliseconds,
            EvaluationPeriods = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });
        foreach (var alarm in new[] { FailedExecutions, AtMaximum, LeaseOverrun })
        {
            alarm.AddAlarmAction(notify);
        }
    }

    public Alarm FailedExecutions { get; }
    public Alarm AtMaximum { get; }
    public Alarm LeaseOverrun { get; }
}
