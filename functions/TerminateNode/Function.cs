using NodeFleet.Aws;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Serialization;
using NodeFleet.Hosting;

namespace NodeFleet.TerminateNode;

/// <summary>
/// Terminates the given instances: the drained node, or instances that never joined. Only this
/// cluster's managed workers; anything else (the control plane above all) is refused whole.
/// </summary>
public sealed class Function
{
    private readonly IComputeFleet fleet;
    private readonly StepLog log;

    public Function()
        : this(RealFleet(), TimeProvider.System, Console.Out)
    {
    }

    public Function(IComputeFleet fleet, TimeProvider clock, TextWriter logOutput)
    {
        this.fleet = fleet;
        log = new StepLog(logOutput, clock, "TerminateNode");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.TerminateRequest).ConfigureAwait(false);
        var bad = request.InstanceIds.Where(id => string.IsNullOrWhiteSpace(id) || !id.StartsWith("i-", StringComparison.Ordinal)).ToList();
        if (bad.Count > 0)
        {
            throw new InvalidInputException($"Invalid input: $.instanceIds holds values that are not instance ids: {string.Join(", ", bad.Select(b => $"'{b}'"))}");
        }

        var ids = request.InstanceIds.Distinct().ToList();
        await fleet.TerminateAsync(ids, CancellationToken.None).ConfigureAwait(false);
        var summary = ids.Count == 0 ? "Nothing to terminate" : $"Terminated {string.Join(", ", ids)}";
        log.Info(summary, new Dictionary<string, object?> { ["instanceIds"] = string.Join(",", ids) });
        return StepJson.Write(new Core.Contracts.StepResult { Summary = summary, Ids = ids }, NodeFleetJsonContext.Default.StepResult);
    }

    private static IComputeFleet RealFleet()
    {
        var settings = FleetSettings.FromEnvironment(Environment.GetEnvironmentVariable);
        return AwsAdapters.ComputeFleet(AwsEndpoint.FromEnvironment(Environment.GetEnvironmentVariable), settings);
    }
}
