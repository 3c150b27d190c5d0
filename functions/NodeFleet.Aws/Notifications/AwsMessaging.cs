using System.Text.Json.Nodes;

namespace NodeFleet.Aws.Notifications;

/// <summary>SNS Publish, the one SNS operation NodeFleet calls.</summary>
public interface ISnsApi
{
    /// <summary>Publishes; with <paramref name="perProtocol"/> the message is SNS's JSON structure with a "default" key. Returns the message id.</summary>
    Task<string> PublishAsync(string topicArn, string subject, string message, bool perProtocol, CancellationToken cancellationToken);
}

/// <summary>Secrets Manager GetSecretValue, read at run time so no secret sits in configuration.</summary>
public interface ISecretsApi
{
    Task<string> GetSecretStringAsync(string secretId, CancellationToken cancellationToken);
}

/// <summary>A Slack incoming webhook.</summary>
public interface ISlackWebhook
{
    Task PostAsync(Uri webhook, string json, CancellationToken cancellationToken);
}

public sealed class SnsApi(AwsQueryClient query) : ISnsApi
{
    public const string Service = "sns";

    public static SnsApi Create(AwsEndpoint endpoint) =>
        new(new AwsQueryClient(endpoint.HttpClientFor(Service), endpoint.UriFor(Service), Service, "2010-03-31"));

    public async Task<string> PublishAsync(string topicArn, string subject, string message, bool perProtocol, CancellationToken cancellationToken)
    {
        var p = new List<KeyValuePair<string, string>> { new("TopicArn", topicArn), new("Subject", subject), new("Message", message) };
        if (perProtocol)
        {
            p.Add(new("MessageStructure", "json"));
        }

        var xml = await query.CallAsync("Publish", p, cancellationToken).ConfigureAwait(false);
        var result = xml.Elements().FirstOrDefault(e => e.Name.LocalName == "PublishResult");
        return query.Required(result ?? xml, "MessageId", "Publish response");
    }
}

public sealed class SecretsApi(AwsJsonClient json) : ISecretsApi
{
    public const string Service = "secretsmanager";

    public static SecretsApi Create(AwsEndpoint endpoint) =>
        new(new AwsJsonClient(endpoint.HttpClientFor(Service), endpoint.UriFor(Service), Service, "secretsmanager"));

    public async Task<string> GetSecretStringAsync(string secretId, CancellationToken cancellationToken)
    {
        var response = await json.CallAsync("GetSecretValue", new JsonObject { ["SecretId"] = secretId }, cancellationToken).ConfigureAwait(false);
        return response["SecretString"]?.GetValue<string>()
            ?? throw new AwsMalformedResponseException(Service, $"GetSecretValue of {secretId} has no SecretString (binary secrets are not supported)", 200);
    }
}

public sealed class SlackWebhook(HttpClient http) : ISlackWebhook
{
    public async Task PostAsync(Uri webhook, string json, CancellationToken cancellationToken)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        // The URL is a secret: the operation name stands for it in any message.
        var response = await AwsCalls.RunAsync("slack", "the Slack webhook POST",
            () => http.PostAsync(webhook, content, cancellationToken), cancellationToken).ConfigureAwait(false);

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                // The URL is a secret: never put it in a message.
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw AwsErrorClassifier.Classify("slack", (int)response.StatusCode, $"Http{(int)response.StatusCode}", $"the Slack webhook refused the message: {body}", null);
            }
        }
    }
}
