namespace NodeFleet.Core.Contracts;

/// <summary>
/// The fast path's contract, one source for the stack and the local testbed. Prometheus evaluates
/// <c>scripts/alerting/pending-pods.rules.yml</c> every 10 s; Alertmanager on the master
/// (<c>scripts/alerting/alertmanager.yml</c>) publishes <see cref="AlertmanagerMessage"/> to one SNS
/// topic, signed with the master's role (the only thing that role may publish to; ordinary pods
/// cannot reach the instance role); the topic delivers raw to an SQS queue, and an EventBridge Pipe
/// drops messages that name no firing alert (<see cref="PipeFilterPattern"/>) and starts the state
/// machine with <see cref="PipeInputTemplate"/> for each message (as a one-element array: the Pipe's batch).
/// Alertmanager is the rate limit: one notification per <c>group_interval</c> at most while pods
/// keep becoming unschedulable, one per <c>repeat_interval</c> while the same pods stay pending.
/// </summary>
public static class FastPath
{
    /// <summary>The <c>source</c> of a fast-path trigger.</summary>
    public const string Source = "nodefleet.alertmanager";

    /// <summary>The <c>detail-type</c> of a fast-path trigger.</summary>
    public const string DetailType = "Pending Pods";

    /// <summary>The alert the rule raises, one per unschedulable pod; Alertmanager groups them by this name.</summary>
    public const string AlertName = "NodeFleetPendingPods";

    /// <summary>The SNS message Alertmanager renders (a Go template): how many pods the group names as firing.</summary>
    public const string AlertmanagerMessage = """{"firing":{{ len .Alerts.Firing }}}""";

    /// <summary>The Pipe's filter: a message with no firing alert starts nothing.</summary>
    public const string PipeFilterPattern = """{"body":{"firing":[{"numeric":[">",0]}]}}""";

    /// <summary>The Pipe's input template for each SQS message (its body is the JSON above, which Pipes parses).</summary>
    public const string PipeInputTemplate = """{"source":"nodefleet.alertmanager","detail-type":"Pending Pods","time":"<aws.pipes.event.ingestion-time>","detail":<$.body>}""";

    /// <summary>How often the rule is evaluated (the rule file says the same; a test keeps them in step).</summary>
    public static readonly TimeSpan RuleEvaluationInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most executions the fast path starts in an hour: one per group interval while the set of
    /// pending pods keeps changing (a pod that stays pending adds nothing after its first notification).
    /// </summary>
    public static int MaxExecutionsPerHour(TimeSpan groupInterval) => PerHour(groupInterval, nameof(groupInterval));

    /// <summary>The executions an hour costs while the same pods stay pending all hour: the first notification, then one per repeat interval.</summary>
    public static int ExecutionsPerHourWhilePending(TimeSpan repeatInterval) => PerHour(repeatInterval, nameof(repeatInterval));

    private static int PerHour(TimeSpan interval, string name) =>
        interval > TimeSpan.Zero ? (int)Math.Ceiling(TimeSpan.FromHours(1) / interval) : throw new ArgumentOutOfRangeException(name, "must be positive");
}
