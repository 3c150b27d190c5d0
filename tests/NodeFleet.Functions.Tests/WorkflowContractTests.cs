using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Serialization;
using NodeFleet.Core.Workflow;

namespace NodeFleet.Functions.Tests;

/// <summary>
/// Keeps the state machine, functions/steps.json and the C# contracts in step: every Task's
/// request and slot are typed, every error name is an exception class a step throws, and every
/// named exception is listed by the steps that throw it.
/// </summary>
public class WorkflowContractTests
{
    private static readonly JsonElement States = LoadStates();

    private static JsonElement LoadStates()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "NodeFleet.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "statemachines", "autoscaler.asl.json")));
        return document.RootElement.GetProperty("States").Clone();
    }

    private static IEnumerable<(string Name, JsonElement State, StepDefinition Step)> Tasks() =>
        States.EnumerateObject()
            .Where(s => s.Value.GetProperty("Type").GetString() == "Task")
            .Select(s => (s.Name, s.Value, StepCatalog.Get(s.Value.GetProperty("Resource").GetString()!.TrimStart('$', '{').Replace("FunctionArn}", "", StringComparison.Ordinal))));

    /// <summary>Every exception class of NodeFleet's assemblies, by name: the error names a step can raise.</summary>
    private static readonly Dictionary<string, Type> Exceptions = StepCatalog.All
        .Select(s => Assembly.Load(s.Handler.Split("::")[0]))
        .SelectMany(a => a.GetReferencedAssemblies().Where(r => r.Name!.StartsWith("NodeFleet.", StringComparison.Ordinal)).Select(Assembly.Load).Append(a))
        .Distinct()
        .SelectMany(a => a.GetTypes())
        .Where(t => typeof(Exception).IsAssignableFrom(t) && !t.IsAbstract)
        .ToDictionary(t => t.Name);

    private static JsonTypeInfo Contract(string typeName)
    {
        var type = typeof(WorkflowState).Assembly.GetType($"NodeFleet.Core.Contracts.{typeName}")
            ?? throw new InvalidOperationException($"steps.json names {typeName}, which is not a type in NodeFleet.Core.Contracts");
        return NodeFleetJsonContext.Default.GetTypeInfo(type) ?? throw new InvalidOperationException($"{typeName} is not in NodeFleetJsonContext");
    }

    [Fact]
    public void Handlers_AsTheLambdaRuntimeResolvesThem_Exist()
    {
        foreach (var step in StepCatalog.All)
        {
            var parts = step.Handler.Split("::");
            var type = Assembly.Load(parts[0]).GetType(parts[1]);
            Assert.True(type is not null, $"{step.Name}: {step.Handler} names no type");
            Assert.NotNull(type.GetConstructor(Type.EmptyTypes));
            Assert.Equal(typeof(Task<Stream>), type.GetMethod(parts[2], [typeof(Stream)])?.ReturnType);
        }
    }

    [Fact]
    public void ErrorNames_InStepsJson_AreExceptionClasses_AndEveryExceptionClassIsListed()
    {
        var listed = StepCatalog.All.SelectMany(s => s.Retries.Concat(s.Throws)).ToHashSet();

        Assert.True(listed.All(Exceptions.ContainsKey), "not exception classes: " + string.Join(", ", listed.Where(name => !Exceptions.ContainsKey(name))));
        Assert.True(Exceptions.Keys.All(listed.Contains), "thrown by no step in steps.json: " + string.Join(", ", Exceptions.Keys.Where(name => !listed.Contains(name))));
        Assert.All(StepCatalog.All, s => Assert.Empty(s.Retries.Intersect(s.Throws)));
    }

    [Fact]
    public void ErrorEquals_InTheStateMachine_NameExceptionClassesTheStepThrows()
    {
        foreach (var (name, state, step) in Tasks())
        {
            var named = state.GetProperty("Retry").EnumerateArray()
                .SelectMany(r => r.GetProperty("ErrorEquals").EnumerateArray().Select(e => e.GetString()!))
                .Where(e => !e.StartsWith("Lambda.", StringComparison.Ordinal) && !e.StartsWith("States.", StringComparison.Ordinal))
                .ToList();
            Assert.True(named.All(Exceptions.ContainsKey), $"{name} retries {string.Join(", ", named.Where(e => !Exceptions.ContainsKey(e)))}, which no exception class is named");
            Assert.True(named.ToHashSet().SetEquals(step.Retries), $"{name} retries [{string.Join(", ", named)}]; {step.Name} lists [{string.Join(", ", step.Retries)}]");
            var catches = state.GetProperty("Catch").EnumerateArray().SelectMany(c => c.GetProperty("ErrorEquals").EnumerateArray().Select(e => e.GetString())).ToList();
            Assert.True(catches.SequenceEqual(["States.ALL"]), $"{name}: what is not retried must reach the failure path");
        }
    }

    [Fact]
    public void Parameters_OfEachTask_AreItsStepsRequest()
    {
        foreach (var (name, state, step) in Tasks())
        {
            var request = Contract(step.Request);
            var sent = state.GetProperty("Parameters").EnumerateObject().Select(p => p.Name.EndsWith(".$", StringComparison.Ordinal) ? p.Name[..^2] : p.Name).ToHashSet();
            var known = request.Properties.Select(p => p.Name).ToHashSet();
            var required = request.Properties.Where(p => p.IsRequired).Select(p => p.Name);
            Assert.True(sent.IsSubsetOf(known), $"{name} sends [{string.Join(", ", sent.Except(known))}], which {step.Request} does not have");
            Assert.True(required.All(sent.Contains), $"{name} does not send [{string.Join(", ", required.Where(r => !sent.Contains(r)))}], which {step.Request} requires");
        }
    }

    [Fact]
    public void ResultPath_OfEachTask_IsAWorkflowStateSlotOfItsStepsResultType()
    {
        var slots = Contract(nameof(WorkflowState)).Properties.ToDictionary(p => p.Name);
        foreach (var (name, state, step) in Tasks().Where(t => t.Name is not "CollectMetrics" and not "Decide"))
        {
            var slot = state.GetProperty("ResultPath").GetString()![2..];
            Assert.True(slots.TryGetValue(slot, out var property), $"{name} writes $.{slot}, which WorkflowState does not declare");
            Assert.True(Nullable.GetUnderlyingType(property.PropertyType) is null && property.PropertyType.Name == step.Result,
                $"{name} writes a {step.Result} into $.{slot}, declared as {property.PropertyType.Name}");
        }
    }

    [Fact]
    public void DecideResultSelector_CreatesExactlyTheWorkflowStateSlots()
    {
        var created = States.GetProperty("Decide").GetProperty("ResultSelector").EnumerateObject()
            .Select(p => p.Name.EndsWith(".$", StringComparison.Ordinal) ? p.Name[..^2] : p.Name).ToHashSet();

        Assert.True(created.SetEquals(Contract(nameof(WorkflowState)).Properties.Select(p => p.Name)), string.Join(", ", created));
    }

    /// <summary>One AWS call at its worst: every attempt (the SDK's retries included) at its timeout, plus the SDK's retry delays.</summary>
    private static readonly TimeSpan AwsCallWorst = (Aws.AwsCalls.SdkRetries + 1) * Aws.AwsEndpoint.AttemptTimeout + Aws.AwsCalls.MaxRetryDelays;

    private static TimeSpan WorstCase(StepBudget budget) =>
        budget.AwsCalls * AwsCallWorst
        + budget.KubernetesCalls * Core.Settings.SettingsCatalog.KubeTimeout.Default
        + budget.PrometheusQueries * Core.Settings.SettingsCatalog.PrometheusTimeout.Default
        + TimeSpan.FromSeconds(budget.DeadlineSeconds);

    public static TheoryData<string> StepNames() => [.. StepCatalog.All.Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(StepNames))]
    public void Budget_WorstCaseOfTheStepsCalls_FitsItsLambdaTimeout(string name)
    {
        var step = StepCatalog.Get(name);

        var worst = WorstCase(step.Budget);

        Assert.True(worst <= TimeSpan.FromSeconds(step.TimeoutSeconds),
            $"{name}: its calls may take {worst.TotalSeconds} s ({step.Budget.How}), more than its {step.TimeoutSeconds} s timeout: a slow dependency would end in a silent Lambda timeout instead of a named, retried error");
        Assert.InRange(step.TimeoutSeconds, 1, 900); // Lambda's limit
    }

    [Fact]
    public void Budget_LaunchNodesDeadline_IsTheLaunchBudgetItRunsUnder()
    {
        Assert.Equal(NodeFleet.LaunchNodes.Function.LaunchBudget, TimeSpan.FromSeconds(StepCatalog.Get("LaunchNodes").Budget.DeadlineSeconds));
    }
}
