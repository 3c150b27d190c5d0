using System.Globalization;

namespace NodeFleet.Testbed;

/// <summary>EC2 events as EventBridge delivers them to the state machine, from EC2 in the testbed's account and region.</summary>
public static class Ec2Events
{
    public const string SpotWarning = "EC2 Spot Instance Interruption Warning";
    public const string Rebalance = "EC2 Instance Rebalance Recommendation";
    public const string StateChange = "EC2 Instance State-change Notification";

    /// <param name="time">When EC2 raised it (default now): its age decides whether NodeFleet acts on it.</param>
    public static Dictionary<string, object> Of(string detailType, string instanceId, DateTimeOffset? time = null, string? state = null) => new()
    {
        ["version"] = "0",
        ["id"] = Guid.NewGuid().ToString(),
        ["detail-type"] = detailType,
        ["source"] = "aws.ec2",
        ["account"] = LocalEnvironment.Account,
        ["time"] = (time ?? DateTimeOffset.UtcNow).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        ["region"] = LocalEnvironment.Region,
        ["resources"] = new[] { $"arn:aws:ec2:{LocalEnvironment.Region}:{LocalEnvironment.Account}:instance/{instanceId}" },
        ["detail"] = state is null
            ? new Dictionary<string, object> { ["instance-id"] = instanceId, ["instance-action"] = "terminate" }
            : new Dictionary<string, object> { ["instance-id"] = instanceId, ["state"] = state },
    };
}
