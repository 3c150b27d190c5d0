using System.Text.Json;
using System.Text.Json.Serialization;

namespace NodeFleet.Core.Workflow;

/// <summary>
/// NodeFleet's steps as <c>functions/steps.json</c> lists them: the one source the CDK app
/// (functions, environment, IAM), the local invoke host (handlers) and the workflow tests (the
/// state machine's Retry lists, requests and result slots) read.
/// </summary>
public static class StepCatalog
{
    private static readonly Lazy<IReadOnlyList<StepDefinition>> Loaded = new(Load);

    public static IReadOnlyList<StepDefinition> All => Loaded.Value;

    public static StepDefinition Get(string name) =>
        All.FirstOrDefault(s => s.Name == name) ?? throw new ArgumentOutOfRangeException(nameof(name), name, $"no step named {name} (known: {string.Join(", ", All.Select(s => s.Name))})");

    private static List<StepDefinition> Load()
    {
        using var stream = typeof(StepCatalog).Assembly.GetManifestResourceStream("NodeFleet.steps.json")
            ?? throw new InvalidOperationException("NodeFleet.Core was built without functions/steps.json");
        return JsonSerializer.Deserialize(stream, StepCatalogJsonContext.Default.StepCatalogFile)!.Steps;
    }
}

public sealed record StepDefinition
{
    public required string Name { get; init; }

    /// <summary>One line: what the step does.</summary>
    public required string Does { get; init; }

    /// <summary>The Lambda handler: assembly::type::method.</summary>
    public required string Handler { get; init; }

    /// <summary>The request type (in NodeFleet.Core.Contracts) its Parameters shape.</summary>
    public required string Request { get; init; }

    /// <summary>The result type (in NodeFleet.Core.Contracts) it returns.</summary>
    public required string Result { get; init; }

    /// <summary>The Lambda function's timeout; <see cref="Budget"/> must fit in it.</summary>
    public required int TimeoutSeconds { get; init; }

    /// <summary>The calls the step makes one after another, from which its worst case is computed.</summary>
    public required StepBudget Budget { get; init; }

    /// <summary>Runs in the VPC, next to the cluster (the cluster steps).</summary>
    public required bool Vpc { get; init; }

    /// <summary>Safe to run twice: the state machine then also retries <c>Lambda.Unknown</c>.</summary>
    public required bool Idempotent { get; init; }

    /// <summary>Transient errors the state machine retries (besides Lambda's own).</summary>
    public required IReadOnlyList<string> Retries { get; init; }

    /// <summary>Named errors that are not retried: the Catch takes them to the failure path.</summary>
    public required IReadOnlyList<string> Throws { get; init; }

    /// <summary>Environment variables the stack sets (besides the scaling settings every step receives).</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    /// <summary>Variables left out when their value is not deployed (e.g. no Slack webhook).</summary>
    // A setter, not init: the JSON source generator would overwrite an init-only default with null
    // when the member is absent (dotnet/runtime#84484).
    public IReadOnlyList<string> OptionalEnvironment { get; set; } = [];

    public required IReadOnlyList<IamStatement> Iam { get; init; }
}

/// <summary>
/// A step's calls in the worst case, one after another (calls made in parallel count once, the
/// longest): each AWS call at its attempts' timeouts plus the SDK's retry delays, each Kubernetes
/// call and Prometheus query at its timeout, and <see cref="DeadlineSeconds"/> for work without a
/// fixed number of calls, which runs under that overall deadline.
/// </summary>
public sealed record StepBudget
{
    public required int AwsCalls { get; init; }
    public required int KubernetesCalls { get; init; }
    public required int PrometheusQueries { get; init; }
    public required int DeadlineSeconds { get; init; }

    /// <summary>How the calls were counted.</summary>
    public required string How { get; init; }
}

/// <summary>One IAM statement of a step's role; <c>${...}</c> are the stack's values.</summary>
public sealed record IamStatement
{
    public required IReadOnlyList<string> Actions { get; init; }
    public required IReadOnlyList<string> Resources { get; init; }
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, JsonElement>>? Conditions { get; init; }

    /// <summary>Left out when one of its values is not deployed.</summary>
    public bool Optional { get; init; }
}

internal sealed record StepCatalogFile
{
    public required List<StepDefinition> Steps { get; init; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, RespectRequiredConstructorParameters = true, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(StepCatalogFile))]
internal sealed partial class StepCatalogJsonContext : JsonSerializerContext;
