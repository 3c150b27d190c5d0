using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Notify;
using NSubstitute;

namespace NodeFleet.Functions.Tests.Notify;

public class FunctionTests
{
    [Fact]
    public async Task FunctionHandler_Publishes_AndReturnsTheMessageId()
    {
        var notifier = Substitute.For<INotifier>();
        notifier.PublishAsync(Arg.Any<Notification>(), Arg.Any<CancellationToken>()).Returns("msg-1");
        var request = new NotifyRequest
        {
            Decision = States.ScaleUp(),
            Recorded = new RecordResult { Outcome = OutcomeKind.ScaledUp, Summary = "ok" },
            Launch = new LaunchOutcome
            {
                LaunchId = "launch-tick-42", Requested = 2, StartedAt = States.Now,
                Instances = Enumerable.Range(1, 2).Select(i => new LaunchedInstance { InstanceId = $"i-{i}", Zone = "us-east-1a", InstanceType = "t3.large", CapacityType = CapacityType.Spot }).ToList(),
            },
        };

        var output = StreamJson.Read(await new Function(notifier, "prod", new FixedClock(States.Now), TextWriter.Null).FunctionHandler(States.Json(request)));

        Assert.Equal("msg-1", output.GetProperty("ids")[0].GetString());
        await notifier.Received(1).PublishAsync(Arg.Is<Notification>(n => n.Title == "Added 2 worker(s)" && n.Reason.Contains("pods pending") && n.ClusterName == "prod"), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task FunctionHandler_FailureBeforeADecision_NotifiesTheErrorMessage()
    {
        var notifier = Substitute.For<INotifier>();
        notifier.PublishAsync(Arg.Any<Notification>(), Arg.Any<CancellationToken>()).Returns("msg-2");

        await new Function(notifier, "prod", new FixedClock(States.Now), TextWriter.Null).FunctionHandler(
            StreamJson.From("""{"decision":null,"recorded":null,"launch":null,"drain":null,"error":{"Error":"MetricsUnavailableException","Cause":"{\"errorType\":\"MetricsUnavailableException\",\"errorMessage\":\"Prometheus could not be reached\",\"stackTrace\":[\"at X\"]}"}}"""));

        await notifier.Received(1).PublishAsync(Arg.Is<Notification>(n => n.Kind == NotificationKind.Failure && n.Reason.StartsWith("Prometheus could not be reached") && !n.Reason.Contains("stackTrace")), Arg.Any<CancellationToken>());
    }
}
