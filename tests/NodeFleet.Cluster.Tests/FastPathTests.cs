using System.Text.Json;
using NodeFleet.Core.Contracts;
using NodeFleet.Testbed;

namespace NodeFleet.Cluster.Tests;

/// <summary>
/// The testbed's fast path, part by part: the Pipe's filter and template as the contract states
/// them, Alertmanager's config as the testbed renders it (checked by amtool), and then the real chain:
/// Prometheus' rule fires for an unschedulable pod, Alertmanager 0.25 publishes to moto's SNS,
/// the queue delivers raw, and the local Pipe starts one execution of the real workflow.
/// </summary>
public sealed class FastPathContractTests
{
    [Fact]
    public void PipeFilterPattern_Parsed_IsOneNumericGreaterThanZeroOnBodyFiring()
    {
        // Arrange
        using var pattern = JsonDocument.Parse(FastPath.PipeFilterPattern);

        // Act
        var body = Assert.Single(pattern.RootElement.EnumerateObject());
        var firing = Assert.Single(body.Value.EnumerateObject());
        var matcher = Assert.Single(firing.Value.EnumerateArray());
        var numeric = Assert.Single(matcher.EnumerateObject());

        // Assert: the one comparison LocalPipe's filter must implement (PipeFilterTests below checks it does).
        Assert.Equal("body", body.Name);
        Assert.Equal("firing", firing.Name);
        Assert.Equal("numeric", numeric.Name);
        Assert.Equal(">", numeric.Value[0].GetString());
        Assert.Equal(0, numeric.Value[1].GetDouble());
        Assert.Equal(2, numeric.Value.GetArrayLength());
    }

    [Theory]
    [InlineData("""{"firing":1}""", true)]
    [InlineData("""{"firing":12}""", true)]
    [InlineData("""{"firing":0.5}""", true)]
    [InlineData("""{"firing":0}""", false)]
    [InlineData("""{"firing":-1}""", false)]
    [InlineData("""{"firing":"3"}""", false)]
    [InlineData("""{"firing":null}""", false)]
    [InlineData("""{"pending":3}""", false)]
    [InlineData("""[1]""", false)]
    [InlineData("""firing 3""", false)]
    public void PipeFilter_ContractPattern_KeepsOnlyAPositiveNumber(string body, bool kept)
    {
        // Arrange
        var pipeEvent = LocalPipe.PipeEvent(body);

        // Act
        var matches = PipeFilter.Matches(FastPath.PipeFilterPattern, pipeEvent);

        // Assert
        Assert.Equal(kept, matches);
    }

    [Fact]
    public void PipeFilter_AMatcherItDoesNotImplement_IsRefused()
    {
        // Arrange
        var pipeEvent = LocalPipe.PipeEvent("""{"firing":1}""");

        // Act
        var refused = Record.Exception(() => PipeFilter.Matches("""{"body":{"firing":[{"exists":true}]}}""", pipeEvent));

        // Assert
        Assert.IsType<NotSupportedException>(refused);
    }

    [Fact]
    public void PipeTemplate_ContractTemplateInTheBatchArray_ParsesAsAPendingPodsTrigger()
    {
        // Arrange
        var ingested = new DateTimeOffset(2026, 12, 2, 10, 0, 3, 250, TimeSpan.Zero);

        // Act
        var rendered = "[" + PipeTemplate.Render(FastPath.PipeInputTemplate, LocalPipe.PipeEvent("""{"firing":3}"""), ingested) + "]";
        using var input = JsonDocument.Parse(rendered);
        var trigger = Trigger.Parse(input.RootElement, new EventOrigin(LocalEnvironment.Account, LocalEnvironment.Region));

        // Assert
        Assert.Equal("2026-12-02T10:00:03.250Z", input.RootElement[0].GetProperty("time").GetString());
        Assert.Equal(TriggerKind.PendingPods, trigger.Kind);
        Assert.Equal(3, trigger.PendingPods);
        Assert.Equal(ingested, trigger.Time);
    }

    [Fact]
    public void PipeTemplate_UnknownPlaceholder_IsRefused()
    {
        // Arrange
        var pipeEvent = LocalPipe.PipeEvent("""{"firing":1}""");

        // Act
        var refused = Record.Exception(() => PipeTemplate.Render("""{"id":"<aws.pipes.event.id>"}""", pipeEvent, DateTimeOffset.UtcNow));

        // Assert
        Assert.IsType<NotSupportedException>(refused);
    }

    [Fact]
    public void RenderAlertmanagerConfig_TheRepositoryFile_PassesAmtoolWithTheMessageIntact()
    {
        // Arrange
        var template = File.ReadAllText(Path.Combine(LocalEnvironment.RepositoryRoot, "scripts", "alerting", "alertmanager.yml"));
        var file = Path.GetTempFileName();

        try
        {
            // Act
            var text = LocalEnvironment.RenderAlertmanagerConfig(template, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15), TimeSpan.FromMinutes(5),
                new Uri("http://127.0.0.1:5000/"), "arn:aws:sns:us-east-1:123456789012:alerts", "us-east-1");
            File.WriteAllText(file, text);
            var check = Tool.Run("amtool", ["check-config", file]);

            // Assert: amtool parsed it, and the message survives YAML's single quotes unchanged.
            Assert.Contains("SUCCESS", check, StringComparison.Ordinal);
            Assert.Contains($"message: '{FastPath.AlertmanagerMessage}'", text, StringComparison.Ordinal);
            Assert.Contains("group_wait: 1s", text, StringComparison.Ordinal);
            Assert.Contains("repeat_interval: 300s", text, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("""{"firing":1}""", """{"firing":1}""")]
    [InlineData("it's", "it''s")]
    [InlineData("''", "''''")]
    public void YamlSingleQuoted_Text_DoublesEveryQuote(string text, string expected)
    {
        // Act
        var quoted = LocalEnvironment.YamlSingleQuoted(text);

        // Assert
        Assert.Equal(expected, quoted);
    }

    [Fact]
    public void Duration_WholeAndFractionalSeconds_AsPrometheusWritesThem()
    {
        // Act
        var durations = new[] { TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(1500) }.Select(LocalEnvironment.Duration);

        // Assert
        Assert.Equal(["1s", "300s", "1500ms"], durations);
    }
}

/// <summary>A testbed with the fast path on, the timings as deployed, for the adapter-level chain.</summary>
public sealed class FastPathTestbed : LocalEnvironment, IAsyncLifetime
{
    public FastPathTestbed() => FastPath = true;

    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}

public sealed class FastPathChainTests(FastPathTestbed cloud) : IClassFixture<FastPathTestbed>
{
    [Fact]
    public async Task PendingPodsRule_AnUnschedulablePod_AlertmanagerPublishesAndThePipeStartsOneExecution()
    {
        // Arrange: the minimum of two workers, and a pod that selects a label no node has (so the execution it starts does not launch).
        cloud.Model.Add(TestNode.ControlPlane());
        cloud.AddWorker("w1", TimeSpan.FromHours(1));
        cloud.AddWorker("w2", TimeSpan.FromHours(1));
        await cloud.WaitForAsync("count(kube_node_info)", 3, TimeSpan.FromSeconds(60));
        var before = cloud.Pipe.Executions.Count;

        // Act
        cloud.Model.Add(new TestPod
        {
            Namespace = "ml", Name = "trainer-0", OwnerName = "trainer", Phase = "Pending", CpuMillis = 500, MemoryBytes = 256L << 20,
            Spec = new PodSpec { NodeSelector = new Dictionary<string, string> { ["gpu"] = "true" } },
        });
        cloud.Model.Schedule();
        // Scrape (2 s), the rule's 10 s evaluation, group_wait (1 s), SNS, SQS: well within a minute.
        var started = await Until(() => cloud.Pipe.Executions.Skip(before).FirstOrDefault(), TimeSpan.FromSeconds(60), () => string.Join("; ", cloud.Pipe.Errors));
        var run = await started.Run;
        // The same pod stays pending: nothing more until repeat_interval (5 m); two group intervals show none came.
        await Task.Delay(cloud.AlertGroupInterval * 2);

        // Assert
        Assert.Equal("""{"firing":1}""", started.MessageBody);
        using var input = JsonDocument.Parse(started.Input);
        var trigger = Trigger.Parse(input.RootElement, new EventOrigin(LocalEnvironment.Account, LocalEnvironment.Region));
        Assert.Equal(TriggerKind.PendingPods, trigger.Kind);
        Assert.Equal(1, trigger.PendingPods);
        Assert.Equal(JsonValueKind.Array, input.RootElement.ValueKind);
        Assert.True(run.GetProperty("status").GetString() == "SUCCEEDED", run.GetRawText());
        Assert.Equal(before + 1, cloud.Pipe.Executions.Count);
        cloud.Model.RemovePod("ml", "trainer-0");
    }

    [Fact]
    public async Task LocalPipe_AMessageWithNoFiringAlert_StartsNone()
    {
        // Arrange
        var before = cloud.Pipe.Executions.Count;
        var dropped = cloud.Pipe.Dropped.Count;

        // Act: what Alertmanager would send for a group with nothing firing, straight to the topic.
        cloud.Aws("sns", "publish", "--topic-arn", cloud.AlertsTopicArn, "--message", """{"firing":0}""");
        await Until(() => cloud.Pipe.Dropped.Count > dropped ? cloud.Pipe.Dropped[^1] : null, TimeSpan.FromSeconds(30), () => string.Join("; ", cloud.Pipe.Errors));

        // Assert
        Assert.Equal("""{"firing":0}""", cloud.Pipe.Dropped[^1]);
        Assert.Equal(before, cloud.Pipe.Executions.Count);
    }

    private static async Task<T> Until<T>(Func<T?> probe, TimeSpan timeout, Func<string> context)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (probe() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"nothing within {timeout.TotalSeconds} s ({context()})");
            await Task.Delay(100);
        }
    }
}
