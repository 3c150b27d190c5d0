using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Settings;
using NodeFleet.Hosting;

namespace NodeFleet.Decide;

/// <summary>
/// The Decide step: reads the workflow state (snapshot and remembered fleet state), applies the
/// scaling policy and returns the <see cref="Decision"/>. It touches nothing; the state machine acts on the result.
/// </summary>
public sealed class Function
{
    private readonly ScalingSettings settings;
    private readonly TimeProvider clock;
    private readonly StepLog log;

    /// <summary>Used by the Lambda runtime: settings from environment variables, the system clock, stdout logs.</summary>
    public Function()
        : this(SettingsCatalog.FromEnvironment(Environment.GetEnvironmentVariable), TimeProvider.System, Console.Out)
    {
    }

    public Function(ScalingSettings settings, TimeProvider clock, TextWriter logOutput)
    {
        this.settings = settings.EnsureValid();
        this.clock = clock;
        log = new StepLog(logOutput, clock, "Decide");
    }

    public async Task<Stream> FunctionHandler(Stream input)
    {
        var request = await StepJson.ReadAsync(input, NodeFleetJsonContext.Default.DecideRequest).ConfigureAwait(false);
        var (snapshot, fleet) = ContractValidation.RequireDecideInput(request);
        var decision = ScalingPolicy.Decide(request.Observation.Trigger, snapshot, fleet, settings, clock.GetUtcNow(), request.Observation.Inventory);
        LogDecision(decision);
        return StepJson.Write(decision, NodeFleetJsonContext.Default.Decision);
    }

    private void LogDecision(Decision decision)
    {
        var f = decision.Figures;
        log.Metrics(
            decision.Reason,
            settings.ClusterName,
            new Dictionary<string, double>
            {
                ["Decisions"] = 1,
                [$"Decision{decision.Action}"] = 1,
                ["NodesToAdd"] = decision.NodesToAdd,
                ["ReadyManagedWorkers"] = f.ReadyManagedWorkers,
                ["ManagedWorkers"] = f.ManagedWorkers,
                ["LaunchingWorkers"] = f.LaunchingWorkers,
                ["UnschedulablePods"] = f.UnschedulablePods,
                ["AtMaximum"] = decision.ReasonCode == DecisionReason.AtMaximum ? 1 : 0,
                ["NotReadyWorkers"] = f.NotReadyWorkers,
                ["OrphansFound"] = decision.Reconcile?.Orphans.Count ?? 0,
                ["GhostNodesFound"] = decision.Reconcile?.Ghosts.Count ?? 0,
                ["StrayCordonsFound"] = decision.Reconcile?.StrayCordons.Count ?? 0,
                ["RepairsHeld"] = decision.ReasonCode == DecisionReason.RepairsHeld ? 1 : 0,
            },
            new Dictionary<string, object?>
            {
                ["action"] = decision.Action.ToString(),
                ["route"] = decision.Route.ToString(),
                ["reasonCode"] = decision.ReasonCode.ToString(),
                ["dryRun"] = decision.DryRun,
                ["nodeToRemove"] = decision.NodeToRemove?.Name,
                ["alsoEmpty"] = decision.AlsoEmpty.Count,
                ["cpuNow"] = f.CpuNow,
                ["memoryNow"] = f.MemoryNow,
            });
    }
}
