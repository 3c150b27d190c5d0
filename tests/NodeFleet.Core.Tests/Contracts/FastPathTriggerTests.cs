using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Errors;

namespace NodeFleet.Core.Tests.Contracts;

public class FastPathTriggerTests
{
    private static Trigger Parse(string json) => Trigger.Parse(JsonDocument.Parse(json).RootElement, new EventOrigin("123456789012", "us-east-1"));

    /// <summary>What the Pipe's input template makes of Alertmanager's message (its body), as the testbed's local pipe renders it too.</summary>
    private static string Rendered(string body, string at = "2026-12-02T10:00:05Z") =>
        FastPath.PipeInputTemplate.Replace("<aws.pipes.event.ingestion-time>", at, StringComparison.Ordinal).Replace("<$.body>", body, StringComparison.Ordinal);

    [Fact]
    public void Parse_ThePipesBatchOfOneRenderedMessage_IsAPendingPodsTrigger()
    {
        var trigger = Parse($"[{Rendered("""{"firing":3}""")}]");

        Assert.Equal(TriggerKind.PendingPods, trigger.Kind);
        Assert.Equal(3, trigger.PendingPods);
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 10, 0, 5, TimeSpan.Zero), trigger.Time);
        Assert.False(trigger.IsInterruption); // measured and decided like a tick
    }

    [Fact]
    public void Parse_ABatchOfSeveral_IsOneTriggerWithTheLargestCountAndTheEarliestTime()
    {
        var trigger = Parse($"[{Rendered("""{"firing":2}""", "2026-12-02T10:00:09Z")},{Rendered("""{"firing":5}""", "2026-12-02T10:00:04Z")}]");

        Assert.Equal((TriggerKind.PendingPods, 5), (trigger.Kind, trigger.PendingPods));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 10, 0, 4, TimeSpan.Zero), trigger.Time);
    }

    [Fact]
    public void Parse_OneEventOutsideABatch_IsAPendingPodsTriggerToo()
    {
        Assert.Equal(TriggerKind.PendingPods, Parse(Rendered("""{"firing":1}""")).Kind);
    }

    [Theory]
    [InlineData("""[{"detail-type":"Scheduled Event","source":"aws.events"}]""", "must hold only 'Pending Pods' events")]
    [InlineData("""[42]""", "$[0] is a JSON Number")]
    [InlineData("""{"detail-type":"Pending Pods","source":"someone.else","detail":{"firing":1}}""", "must come from source 'nodefleet.alertmanager'")]
    [InlineData("""{"detail-type":"Pending Pods","source":"nodefleet.alertmanager","detail":{"firing":0}}""", "$.detail.firing")]
    [InlineData("""{"detail-type":"Pending Pods","source":"nodefleet.alertmanager","detail":{"firing":"3"}}""", "$.detail.firing")]
    [InlineData("""{"detail-type":"Pending Pods","source":"nodefleet.alertmanager"}""", "$.detail.firing")]
    public void Parse_MalformedFastPathInput_IsRefusedByName(string json, string expected)
    {
        var error = Assert.Throws<InvalidInputException>(() => Parse(json));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PipeInputTemplate_RenderedWithAMessageAlertmanagerSends_IsValidJson()
    {
        // The template's only unquoted path is the body, which Alertmanager's message makes a JSON object.
        using var document = JsonDocument.Parse(Rendered("""{"firing":12}"""));

        Assert.Equal(FastPath.DetailType, document.RootElement.GetProperty("detail-type").GetString());
        Assert.Equal(FastPath.Source, document.RootElement.GetProperty("source").GetString());
    }

    [Theory]
    [InlineData(15, 240)]
    [InlineData(30, 120)]
    [InlineData(7, 515)]
    public void MaxExecutionsPerHour_GroupInterval_BoundsTheFastPath(int seconds, int expected)
    {
        Assert.Equal(expected, FastPath.MaxExecutionsPerHour(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void ExecutionsPerHourWhilePending_RepeatInterval_IsOnePerInterval()
    {
        Assert.Equal(12, FastPath.ExecutionsPerHourWhilePending(TimeSpan.FromMinutes(5)));
    }
}
