using System.Text;
using System.Text.Json.Nodes;
using NodeFleet.Core.Ports;

namespace NodeFleet.Aws.Notifications;

/// <summary>
/// The forms a notification takes: a subject and plain text for email, AWS Chatbot's custom
/// notification JSON for Slack or Teams through Chatbot, and a Slack incoming-webhook message.
/// Each says what happened, why, and the worker count before and after.
/// </summary>
public static class NotificationFormat
{
    /// <summary>SNS subjects are ASCII, one line, under 100 characters.</summary>
    public static string Subject(Notification n)
    {
        var subject = $"[NodeFleet {n.ClusterName}] {n.Title} ({n.NodesBefore} -> {n.NodesAfter} workers)";
        var ascii = new string(subject.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
        return ascii.Length <= 99 ? ascii : ascii[..96] + "...";
    }

    public static string PlainText(Notification n)
    {
        var text = new StringBuilder()
            .AppendLine($"NodeFleet, cluster {n.ClusterName}: {n.Title}")
            .AppendLine()
            .AppendLine($"Why: {n.Reason}")
            .AppendLine($"Workers: {n.NodesBefore} -> {n.NodesAfter}");
        if (n.Figures.Count > 0)
        {
            text.AppendLine().AppendLine("Figures:");
            foreach (var (key, value) in n.Figures)
            {
                text.AppendLine($"  {key}: {value}");
            }
        }

        return text.ToString();
    }

    public static string ChatbotJson(Notification n) => new JsonObject
    {
        ["version"] = "1.0",
        ["source"] = "custom",
        ["content"] = new JsonObject
        {
            ["textType"] = "client-markdown",
            ["title"] = $"{Emoji(n.Kind)} NodeFleet {n.ClusterName}: {n.Title}",
            ["description"] = $"*Why:* {n.Reason}\n*Workers:* {n.NodesBefore} → {n.NodesAfter}"
                + (n.Figures.Count > 0 ? "\n" + string.Join(" · ", n.Figures.Select(f => $"{f.Key} {f.Value}")) : ""),
        },
        ["metadata"] = new JsonObject
        {
            ["threadId"] = $"nodefleet-{n.ClusterName}",
            ["summary"] = $"NodeFleet {n.ClusterName}: {n.Title}",
            ["eventType"] = n.Kind.ToString(),
            ["additionalContext"] = new JsonObject(n.Figures.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)JsonValue.Create(f.Value)))),
        },
    }.ToJsonString();

    public static string SlackJson(Notification n) => new JsonObject
    {
        ["text"] = $"{Emoji(n.Kind)} *NodeFleet {n.ClusterName}: {n.Title}*\n*Why:* {n.Reason}\n*Workers:* {n.NodesBefore} → {n.NodesAfter}",
    }.ToJsonString();

    /// <summary>SNS's per-protocol message: plain text by default and for email, Chatbot JSON for https (Chatbot's subscription).</summary>
    public static string SnsMessage(Notification n)
    {
        var plain = PlainText(n);
        return new JsonObject
        {
            ["default"] = plain,
            ["email"] = plain,
            ["https"] = ChatbotJson(n),
        }.ToJsonString();
    }

    private static string Emoji(NotificationKind kind) => kind switch
    {
        NotificationKind.ScaleUp => ":arrow_up:",
        NotificationKind.ScaleDown => ":arrow_down:",
        NotificationKind.Failure => ":x:",
        NotificationKind.Interruption => ":zap:",
        NotificationKind.Reconcile => ":broom:",
        _ => ":information_source:",
    };
}

/// <summary>Publishes to the SNS topic and, when a webhook secret is configured, to Slack directly.</summary>
public sealed class SnsNotifier(ISnsApi sns, string topicArn, ISecretsApi secrets, string? slackWebhookSecret, ISlackWebhook slack) : INotifier
{
    public async Task<string> PublishAsync(Notification notification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var messageId = await sns.PublishAsync(topicArn, NotificationFormat.Subject(notification), NotificationFormat.SnsMessage(notification), perProtocol: true, cancellationToken).ConfigureAwait(false);
        if (slackWebhookSecret is not null)
        {
            var url = (await secrets.GetSecretStringAsync(slackWebhookSecret, cancellationToken).ConfigureAwait(false)).Trim();
            if (!Uri.TryCreate(url, UriKind.Absolute, out var webhook) || webhook.Scheme is not ("https" or "http"))
            {
                throw new InvalidOperationException($"The secret {slackWebhookSecret} does not hold a webhook URL");
            }

            await slack.PostAsync(webhook, NotificationFormat.SlackJson(notification), cancellationToken).ConfigureAwait(false);
        }

        return messageId;
    }
}
