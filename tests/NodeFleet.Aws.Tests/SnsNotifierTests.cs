using System.Net;
using System.Text;
using System.Text.Json;
using NodeFleet.Aws.Notifications;
using NodeFleet.Core.Ports;

namespace NodeFleet.Aws.Tests;

[Collection(MotoServerGroup.Name)]
public class SnsNotifierTests(MotoServer moto)
{
    private static readonly Notification ScaleUp = new(
        NotificationKind.ScaleUp, "prod", "Added 2 worker(s)",
        "Scale up by 2: 9 unschedulable pod(s) need 2 more node(s)", 3, 5,
        new Dictionary<string, string> { ["unschedulablePods"] = "9", ["cpu"] = "52%" });

    private (string Topic, string Queue) TopicWithQueue()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..10];
        var topic = moto.Cli("sns", "create-topic", "--name", name).GetProperty("TopicArn").GetString()!;
        var queueUrl = moto.Cli("sqs", "create-queue", "--queue-name", name).GetProperty("QueueUrl").GetString()!;
        var queueArn = moto.Cli("sqs", "get-queue-attributes", "--queue-url", queueUrl, "--attribute-names", "QueueArn")
            .GetProperty("Attributes").GetProperty("QueueArn").GetString()!;
        moto.Cli("sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint", queueArn);
        return (topic, queueUrl);
    }

    private SnsNotifier Notifier(string topic, string? slackSecret = null) => new(
        SnsApi.Create(moto.Endpoint), topic, SecretsApi.Create(moto.Endpoint), slackSecret, new SlackWebhook(new HttpClient()));

    [Fact]
    public async Task PublishAsync_ScaleUp_IsDeliveredWithWhatWhyAndCounts()
    {
        var (topic, queue) = TopicWithQueue();

        var messageId = await Notifier(topic).PublishAsync(ScaleUp, default);

        var received = moto.Cli("sqs", "receive-message", "--queue-url", queue, "--max-number-of-messages", "1");
        using var envelope = JsonDocument.Parse(received.GetProperty("Messages")[0].GetProperty("Body").GetString()!);
        Assert.Equal(messageId, envelope.RootElement.GetProperty("MessageId").GetString());
        Assert.Equal("[NodeFleet prod] Added 2 worker(s) (3 -> 5 workers)", envelope.RootElement.GetProperty("Subject").GetString());
        var text = envelope.RootElement.GetProperty("Message").GetString()!;
        Assert.Contains("Why: Scale up by 2: 9 unschedulable pod(s)", text, StringComparison.Ordinal);
        Assert.Contains("Workers: 3 -> 5", text, StringComparison.Ordinal);
    }

    [Fact]
    public void SnsMessage_PerProtocol_CarriesChatbotCustomNotificationForHttps()
    {
        using var message = JsonDocument.Parse(NotificationFormat.SnsMessage(ScaleUp));
        using var chatbot = JsonDocument.Parse(message.RootElement.GetProperty("https").GetString()!);

        Assert.Equal(message.RootElement.GetProperty("default").GetString(), message.RootElement.GetProperty("email").GetString());
        Assert.Equal("1.0", chatbot.RootElement.GetProperty("version").GetString());
        Assert.Equal("custom", chatbot.RootElement.GetProperty("source").GetString());
        var content = chatbot.RootElement.GetProperty("content");
        Assert.Equal("client-markdown", content.GetProperty("textType").GetString());
        Assert.Contains("Added 2 worker(s)", content.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Contains("3 → 5", content.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("ScaleUp", chatbot.RootElement.GetProperty("metadata").GetProperty("eventType").GetString());
    }

    [Fact]
    public async Task PublishAsync_WithSlackWebhookSecret_PostsToTheWebhookReadAtRunTime()
    {
        var (topic, _) = TopicWithQueue();
        using var slack = new HttpListener();
        var url = $"http://127.0.0.1:{MotoServer.FreePort()}/services/T000/B000/XXXX/";
        slack.Prefixes.Add(url);
        slack.Start();
        var posted = Task.Run(async () =>
        {
            var context = await slack.GetContextAsync();
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            context.Response.StatusCode = 200;
            context.Response.Close();
            return body;
        });
        var secret = "slack-" + Guid.NewGuid().ToString("N")[..8];
        // Passed as JSON: the CLI would fetch a parameter that looks like an http:// URL.
        moto.Cli("secretsmanager", "create-secret", "--cli-input-json", JsonSerializer.Serialize(new Dictionary<string, string> { ["Name"] = secret, ["SecretString"] = url }));

        await Notifier(topic, secret).PublishAsync(ScaleUp, default);

        using var json = JsonDocument.Parse(await posted.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("Added 2 worker(s)", json.RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_SlackSecretMissing_NamesTheError()
    {
        var (topic, _) = TopicWithQueue();

        var error = await Assert.ThrowsAsync<AwsInvalidRequestException>(() => Notifier(topic, "no-such-secret").PublishAsync(ScaleUp, default));

        Assert.Equal("ResourceNotFoundException", error.Code);
    }

    [Fact]
    public async Task PublishAsync_UnknownTopic_NamesTheError()
    {
        var error = await Assert.ThrowsAnyAsync<AwsException>(() => Notifier("arn:aws:sns:us-east-1:123456789012:missing").PublishAsync(ScaleUp, default));

        Assert.Equal("NotFound", error.Code);
    }

    [Theory]
    [InlineData("Scaled up", "[NodeFleet prod] Scaled up (3 -> 5 workers)")]
    [InlineData("Ünïcode → arrows", "[NodeFleet prod] ?n?code ? arrows (3 -> 5 workers)")]
    public void Subject_IsAsciiOneLineUnder100(string title, string expected)
    {
        Assert.Equal(expected, NotificationFormat.Subject(ScaleUp with { Title = title }));
        Assert.True(NotificationFormat.Subject(ScaleUp with { Title = new string('x', 300) }).Length < 100);
    }

    [Fact]
    public async Task SlackWebhook_Refusing_ErrorNeverCarriesTheWebhookUrl()
    {
        using var slack = new HttpListener();
        var url = $"http://127.0.0.1:{MotoServer.FreePort()}/services/T000/B000/SECRETPART/";
        slack.Prefixes.Add(url);
        slack.Start();
        _ = Task.Run(async () =>
        {
            var context = await slack.GetContextAsync();
            context.Response.StatusCode = 404;
            await context.Response.OutputStream.WriteAsync("no_service"u8.ToArray());
            context.Response.Close();
        });

        var error = await Assert.ThrowsAnyAsync<AwsException>(() => new SlackWebhook(new HttpClient()).PostAsync(new Uri(url), "{}", default));

        Assert.Contains("no_service", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETPART", error.ToString(), StringComparison.Ordinal);
    }
}
