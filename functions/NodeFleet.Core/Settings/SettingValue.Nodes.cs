using System.Text.RegularExpressions;
using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Settings;

/// <summary>Node labels and taints as k3s' <c>--node-label</c> and <c>--node-taint</c> take them, with the API's name rules.</summary>
public static partial class SettingValue
{
    /// <summary>Labels NodeFleet's user data sets itself: a setting may not set them to something else.</summary>
    private static readonly string[] OwnLabels =
    [
        WorkerTemplates.ManagedLabel, WorkerTemplates.ClusterLabel, WorkerTemplates.CapacityTypeLabel,
        WorkerTemplates.ZoneLabel, WorkerTemplates.InstanceTypeLabel, WorkerTemplates.HostnameLabel,
        WorkerTemplates.ArchitectureLabel, WorkerTemplates.OsLabel,
    ];

    /// <summary><c>team=web,gpu=false</c>: label keys and values as the API validates them.</summary>
    public static IReadOnlyDictionary<string, string> NodeLabels(string text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            if (at < 0)
            {
                throw new FormatException($"'{pair}' is not of the form key=value");
            }

            var (key, value) = (pair[..at], pair[(at + 1)..]);
            LabelKey(key);
            LabelValueOrEmpty(value, key);
            if (OwnLabels.Contains(key))
            {
                throw new FormatException($"'{key}' is set by NodeFleet's worker user data; it cannot be configured");
            }

            if (!labels.TryAdd(key, value))
            {
                throw new FormatException($"label {key} is listed twice");
            }
        }

        return labels;
    }

    /// <summary><c>dedicated=gpu:NoSchedule,spot:NoExecute</c>: key[=value]:effect, the effect NoSchedule, PreferNoSchedule or NoExecute.</summary>
    public static IReadOnlyList<NodeTaint> NodeTaints(string text)
    {
        var taints = new List<NodeTaint>();
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.LastIndexOf(':');
            if (colon < 0)
            {
                throw new FormatException($"'{entry}' is not of the form key[=value]:effect");
            }

            var effect = entry[(colon + 1)..];
            if (effect is not ("NoSchedule" or "PreferNoSchedule" or "NoExecute"))
            {
                throw new FormatException($"taint '{entry}': the effect must be NoSchedule, PreferNoSchedule or NoExecute (got '{effect}')");
            }

            var keyValue = entry[..colon];
            var at = keyValue.IndexOf('=', StringComparison.Ordinal);
            var key = at < 0 ? keyValue : keyValue[..at];
            var value = at < 0 ? null : keyValue[(at + 1)..];
            LabelKey(key);
            if (value is not null)
            {
                LabelValueOrEmpty(value, key);
            }

            if (taints.Any(t => t.Key == key && t.Effect == effect))
            {
                throw new FormatException($"taint {key}:{effect} is listed twice");
            }

            taints.Add(new NodeTaint { Key = key, Value = value, Effect = effect });
        }

        return taints;
    }

    public static string FormatLabels(IReadOnlyDictionary<string, string> labels) =>
        string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    public static string FormatTaints(IReadOnlyList<NodeTaint> taints) =>
        string.Join(",", taints.Select(t => t.Value is null ? $"{t.Key}:{t.Effect}" : $"{t.Key}={t.Value}:{t.Effect}"));

    /// <summary>A qualified name with an optional DNS-subdomain prefix, as label and taint keys are.</summary>
    private static void LabelKey(string key)
    {
        var slash = key.LastIndexOf('/');
        var (prefix, name) = slash < 0 ? (null, key) : (key[..slash], key[(slash + 1)..]);
        if (name.Length is 0 or > 63 || !QualifiedName().IsMatch(name))
        {
            throw new FormatException($"'{key}' is not a valid label key: the name part must be 1 to 63 characters, alphanumeric, '-', '_' or '.', starting and ending alphanumeric");
        }

        if (prefix is not null && (prefix.Length is 0 or > 253 || !DnsSubdomain().IsMatch(prefix)))
        {
            throw new FormatException($"'{key}' is not a valid label key: the prefix must be a DNS subdomain");
        }
    }

    private static void LabelValueOrEmpty(string value, string key)
    {
        if (value.Length > 63 || (value.Length > 0 && !QualifiedName().IsMatch(value)))
        {
            throw new FormatException($"'{value}' is not a valid value for {key}: at most 63 characters, alphanumeric, '-', '_' or '.', starting and ending alphanumeric");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$")]
    private static partial Regex QualifiedName();

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();
}
