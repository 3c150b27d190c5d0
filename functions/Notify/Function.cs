using NodeFleet.Aws;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Workflow;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.Notify;

/// <summary>Tells people what the execution did, why, and the worker count before and after (<see cref="NotificationComposer"/>).</summary>
public sealed class Function
{
    private readonly INotifier notifier;
    private readonly string clusterName;
    private readonly StepLog log;

    public Function()
        : this(RealAdapters())
    {
    }

    private Function((INotifier Notifier, string ClusterName) real)
        : this(real.Notifier, real.ClusterName, TimeProvider.System, Console.Out)
    {
    }

    public Function(INotifier notifier, string clusterName, TimeProvider clock, TextWriter logOutput)
    {
        this.notifier = notifier;
        this.clusterName = clusterName;
        log = new StepLog(logOutput, clock, "Notify");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.NotifyRequest).ConfigureAwait(false);
        var notification = NotificationComposer.Compose(request, clusterName);
        var messageId = await notifier.PublishAsync(notification, CancellationToken.None).ConfigureAwait(false);
        log.Info($"Notified {notification.Kind}: {notification.Title}", new Dictionary<string, object?> { ["messageId"] = messageId });
        return StepJson.Write(new StepResult { Summary = $"{notification.Kind}: {notification.Title}", Ids = [messageId] }, NodeFleetJsonContext.Default.StepResult);
    }

    private static (INotifier, string) RealAdapters()
    {
        var settings = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable, SettingsCatalog.TopicArn);
        return (AwsAdapters.Notifier(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable), settings), settings.ClusterName);
    }
}
