namespace NodeFleet.Core.Ports;

/// <summary>Tells people what NodeFleet did (SNS for email and AWS Chatbot; an optional Slack webhook).</summary>
public interface INotifier
{
    /// <summary>Publishes and returns the message id.</summary>
    Task<string> PublishAsync(Notification notification, CancellationToken cancellationToken);
}

public enum NotificationKind
{
    ScaleUp,
    ScaleDown,
    Failure,
    Interruption,
    DryRun,

    /// <summary>Left-overs put right: orphans terminated, ghost nodes deleted, stray cordons lifted.</summary>
    Reconcile,

    /// <summary>Pending pods that no new node could host (by owner, with the reason): nothing is launched for them.</summary>
    NoScaleUp,
}

/// <summary>What happened, why, and the worker count before and after.</summary>
public sealed record Notification(
    NotificationKind Kind,
    string ClusterName,
    string Title,
    string Reason,
    int NodesBefore,
    int NodesAfter,
    IReadOnlyDictionary<string, string> Figures);
