using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace NodeFleet.Testbed;

/// <summary>
/// core/v1 PodSpec in Kubernetes' JSON shape: the fields the scheduler reads are typed, every other
/// field is kept as given (<see cref="Extra"/>), so the API serves back exactly what was created.
/// Parse one with <see cref="Parse"/> (the manifest's <c>spec</c>) or build it in C#.
/// </summary>
public sealed record PodSpec
{
    public IReadOnlyList<ContainerSpec> Containers { get; init; } = [];

    /// <summary>Run in order before the containers; one with <c>restartPolicy: Always</c> is a sidecar that keeps running.</summary>
    public IReadOnlyList<ContainerSpec>? InitContainers { get; init; }

    /// <summary>The RuntimeClass' overhead, added to the requests.</summary>
    public IReadOnlyDictionary<string, Quantity>? Overhead { get; init; }

    public IReadOnlyDictionary<string, string>? NodeSelector { get; init; }

    public AffinitySpec? Affinity { get; init; }

    public IReadOnlyList<TolerationSpec>? Tolerations { get; init; }

    public IReadOnlyList<SpreadConstraintSpec>? TopologySpreadConstraints { get; init; }

    public IReadOnlyList<VolumeSpec>? Volumes { get; init; }

    public long? TerminationGracePeriodSeconds { get; init; }

    /// <summary>Set by the Priority admission plugin from <see cref="PriorityClassName"/>; the scheduling queue takes higher first.</summary>
    public int? Priority { get; init; }

    public string? PriorityClassName { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>How the API writes and reads pod JSON: camelCase names, absent fields left out.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>A spec from its JSON (<c>spec</c> of a Pod manifest, or a DaemonSet's template spec).</summary>
    public static PodSpec Parse(string json) => JsonSerializer.Deserialize<PodSpec>(json, JsonOptions) ?? throw new JsonException("the spec is null");

    public static PodSpec Parse(JsonNode json) => json.Deserialize<PodSpec>(JsonOptions) ?? throw new JsonException("the spec is null");

    public JsonObject ToJson() => (JsonObject)JsonSerializer.SerializeToNode(this, JsonOptions)!;

    /// <summary>One container named <paramref name="name"/> requesting <paramref name="cpuMillis"/> and <paramref name="memoryBytes"/>.</summary>
    public static ContainerSpec Container(long cpuMillis, long memoryBytes, string name = "app") => new()
    {
        Name = name,
        Image = name + ":1",
        Resources = new ResourcesSpec { Requests = new Dictionary<string, Quantity> { ["cpu"] = Quantity.Millis(cpuMillis), ["memory"] = Quantity.Bytes(memoryBytes) } },
    };

    /// <summary>
    /// CPU and memory as the scheduler counts them (the Kubernetes documentation's "Resource
    /// management for pods" and "Sidecar containers"): the app containers and every sidecar run
    /// together; each ordinary init container runs alone beside the sidecars started before it; the
    /// pod needs the larger of the two, plus its overhead.
    /// </summary>
    public (long CpuMillis, long MemoryBytes) Requests()
    {
        long Sum(Func<ContainerSpec, long> of, IEnumerable<ContainerSpec> containers) => containers.Sum(of);
        (long Cpu, long Memory) running = (Sum(c => c.CpuMillis, Containers), Sum(c => c.MemoryBytes, Containers));
        (long Cpu, long Memory) sidecars = (0, 0);
        (long Cpu, long Memory) initPeak = (0, 0);
        foreach (var init in InitContainers ?? [])
        {
            if (init.IsSidecar)
            {
                sidecars = (sidecars.Cpu + init.CpuMillis, sidecars.Memory + init.MemoryBytes);
                initPeak = (Math.Max(initPeak.Cpu, sidecars.Cpu), Math.Max(initPeak.Memory, sidecars.Memory));
            }
            else
            {
                initPeak = (Math.Max(initPeak.Cpu, sidecars.Cpu + init.CpuMillis), Math.Max(initPeak.Memory, sidecars.Memory + init.MemoryBytes));
            }
        }

        var overheadCpu = Overhead is not null && Overhead.TryGetValue("cpu", out var oc) ? oc.ToMillis() : 0;
        var overheadMemory = Overhead is not null && Overhead.TryGetValue("memory", out var om) ? om.ToWhole() : 0;
        return (
            Math.Max(running.Cpu + sidecars.Cpu, initPeak.Cpu) + overheadCpu,
            Math.Max(running.Memory + sidecars.Memory, initPeak.Memory) + overheadMemory);
    }

    /// <summary>The host ports the pod holds for its lifetime: the app containers' and the sidecars' (an ordinary init container's port is released when it exits).</summary>
    public IEnumerable<PortSpec> HostPorts() =>
        (InitContainers ?? []).Where(c => c.IsSidecar).Concat(Containers)
            .SelectMany(c => c.Ports ?? [])
            .Where(p => p.HostPort is > 0);
}

public sealed record ContainerSpec
{
    public string? Name { get; init; }

    public string? Image { get; init; }

    public ResourcesSpec? Resources { get; init; }

    public IReadOnlyList<PortSpec>? Ports { get; init; }

    /// <summary>Only on init containers: <c>Always</c> makes it a sidecar.</summary>
    public string? RestartPolicy { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Extra { get; init; }

    [JsonIgnore]
    public bool IsSidecar => RestartPolicy == "Always";

    [JsonIgnore]
    public long CpuMillis => Resources?.Requests is { } r && r.TryGetValue("cpu", out var q) ? q.ToMillis() : 0;

    [JsonIgnore]
    public long MemoryBytes => Resources?.Requests is { } r && r.TryGetValue("memory", out var q) ? q.ToWhole() : 0;
}

public sealed record ResourcesSpec
{
    public IReadOnlyDictionary<string, Quantity>? Requests { get; init; }

    public IReadOnlyDictionary<string, Quantity>? Limits { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Extra { get; init; }
}

public sealed record PortSpec
{
    public int ContainerPort { get; init; }

    public int? HostPort { get; init; }

    /// <summary>TCP (the API's default), UDP or SCTP.</summary>
    public string? Protocol { get; init; }

    /// <summary>Empty (or 0.0.0.0) binds every address of the node.</summary>
    [JsonPropertyName("hostIP")]
    public string? HostIp { get; init; }

    public string? Name { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Extra { get; init; }
}

public sealed record AffinitySpec
{
    public NodeAffinitySpec? NodeAffinity { get; init; }

    public PodAffinitySpec? PodAffinity { get; init; }

    public PodAffinitySpec? PodAntiAffinity { get; init; }
}

public sealed record NodeAffinitySpec
{
    public NodeSelectorSpec? RequiredDuringSchedulingIgnoredDuringExecution { get; init; }

    /// <summary>Preferred terms: they only score nodes, so the testbed's scheduler keeps them without reading them.</summary>
    public JsonElement? PreferredDuringSchedulingIgnoredDuringExecution { get; init; }
}

/// <summary>Terms ORed; a term's requirements ANDed.</summary>
public sealed record NodeSelectorSpec
{
    public IReadOnlyList<NodeSelectorTermSpec> NodeSelectorTerms { get; init; } = [];
}

public sealed record NodeSelectorTermSpec
{
    public IReadOnlyList<NodeRequirementSpec>? MatchExpressions { get; init; }

    /// <summary>Over node fields; Kubernetes defines only <c>metadata.name</c>.</summary>
    public IReadOnlyList<NodeRequirementSpec>? MatchFields { get; init; }
}

/// <summary>In, NotIn, Exists, DoesNotExist, Gt, Lt.</summary>
public sealed record NodeRequirementSpec
{
    public required string Key { get; init; }

    public required string Operator { get; init; }

    public IReadOnlyList<string>? Values { get; init; }
}

public sealed record PodAffinitySpec
{
    public IReadOnlyList<AffinityTermSpec>? RequiredDuringSchedulingIgnoredDuringExecution { get; init; }

    /// <summary>Preferred terms: they only score nodes.</summary>
    public JsonElement? PreferredDuringSchedulingIgnoredDuringExecution { get; init; }
}

/// <summary>A pod (anti-)affinity term: pods the selector matches, in the namespaces given, in the node's topology domain.</summary>
public sealed record AffinityTermSpec
{
    public LabelSelectorSpec? LabelSelector { get; init; }

    public IReadOnlyList<string>? Namespaces { get; init; }

    public LabelSelectorSpec? NamespaceSelector { get; init; }

    public required string TopologyKey { get; init; }
}

/// <summary>matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist), all ANDed; empty selects everything.</summary>
public sealed record LabelSelectorSpec
{
    public IReadOnlyDictionary<string, string>? MatchLabels { get; init; }

    public IReadOnlyList<NodeRequirementSpec>? MatchExpressions { get; init; }
}

public sealed record TolerationSpec
{
    public string? Key { get; init; }

    /// <summary>Equal (the default) or Exists.</summary>
    public string? Operator { get; init; }

    public string? Value { get; init; }

    /// <summary>Empty tolerates every effect.</summary>
    public string? Effect { get; init; }

    public long? TolerationSeconds { get; init; }
}

public sealed record SpreadConstraintSpec
{
    public int MaxSkew { get; init; }

    public required string TopologyKey { get; init; }

    /// <summary>DoNotSchedule filters nodes; ScheduleAnyway only scores them.</summary>
    public required string WhenUnsatisfiable { get; init; }

    public LabelSelectorSpec? LabelSelector { get; init; }

    public int? MinDomains { get; init; }

    public IReadOnlyList<string>? MatchLabelKeys { get; init; }

    /// <summary>Honor (the default) or Ignore.</summary>
    public string? NodeAffinityPolicy { get; init; }

    /// <summary>Ignore (the default) or Honor.</summary>
    public string? NodeTaintsPolicy { get; init; }
}

public sealed record VolumeSpec
{
    public required string Name { get; init; }

    public ClaimSourceSpec? PersistentVolumeClaim { get; init; }

    public JsonElement? EmptyDir { get; init; }

    public JsonElement? HostPath { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Extra { get; init; }
}

public sealed record ClaimSourceSpec
{
    public required string ClaimName { get; init; }

    public bool? ReadOnly { get; init; }
}

/// <summary>
/// A resource quantity as written (<c>250m</c>, <c>0.5</c>, <c>64Mi</c>, <c>1e3</c>; JSON numbers
/// too, as YAML's <c>cpu: 1</c> arrives), read exactly and rounded up as the API rounds requests.
/// </summary>
[JsonConverter(typeof(QuantityConverter))]
public readonly record struct Quantity(string Text)
{
    private static readonly (string Suffix, decimal Factor)[] Suffixes =
    [
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40), ("Pi", 1L << 50), ("Ei", 1L << 60),
        ("n", 0.000000001m), ("u", 0.000001m), ("m", 0.001m), ("k", 1e3m), ("M", 1e6m), ("G", 1e9m), ("T", 1e12m), ("P", 1e15m), ("E", 1e18m),
    ];

    public static Quantity Millis(long millis) => new(millis % 1000 == 0 ? (millis / 1000).ToString(CultureInfo.InvariantCulture) : $"{millis}m");

    public static Quantity Bytes(long bytes) => new(bytes % (1 << 20) == 0 && bytes > 0 ? $"{bytes >> 20}Mi" : bytes.ToString(CultureInfo.InvariantCulture));

    /// <summary>The exact value; a malformed quantity is a <see cref="FormatException"/> naming it.</summary>
    public decimal Value
    {
        get
        {
            var text = Text.Trim();
            foreach (var (suffix, factor) in Suffixes)
            {
                if (text.EndsWith(suffix, StringComparison.Ordinal) && Number(text[..^suffix.Length]) is { } number)
                {
                    return number * factor;
                }
            }

            var e = text.IndexOfAny(['e', 'E']);
            if (e > 0 && Number(text[..e]) is { } mantissa && int.TryParse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent) && Math.Abs(exponent) <= 18)
            {
                return mantissa * (decimal)Math.Pow(10, exponent);
            }

            return Number(text) ?? throw new FormatException($"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (got '{Text}')");
        }
    }

    /// <summary>In thousandths, rounded up (the scheduler's MilliValue).</summary>
    public long ToMillis() => (long)decimal.Ceiling(Value * 1000);

    /// <summary>Whole units, rounded up (the scheduler's Value).</summary>
    public long ToWhole() => (long)decimal.Ceiling(Value);

    public override string ToString() => Text;

    private static decimal? Number(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiDigit(c) || c is '.' or '+' or '-')
        && decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    private sealed class QuantityConverter : JsonConverter<Quantity>
    {
        public override Quantity Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                JsonTokenType.Number => reader.GetDecimal().ToString(CultureInfo.InvariantCulture),
                _ => throw new JsonException($"a quantity must be a string or a number, not {reader.TokenType}"),
            };
            var quantity = new Quantity(text);
            try
            {
                _ = quantity.Value;
            }
            catch (FormatException e)
            {
                throw new JsonException(e.Message, e);
            }

            return quantity;
        }

        public override void Write(Utf8JsonWriter writer, Quantity value, JsonSerializerOptions options) => writer.WriteStringValue(value.Text);
    }
}
