using System.Globalization;
using Constructs;
using NodeFleet.Core.Settings;

namespace NodeFleet.Cdk;

/// <summary>Everything the deployment is configured with, read once from cdk.json context and validated at synth.</summary>
public sealed record DeploymentSettings
{
    public required string StackName { get; init; }

    public required ScalingSettings Scaling { get; init; }

    /// <summary>
    /// Reads <c>nodefleet:*</c> context keys. Every malformed or impossible value is reported at
    /// once, named by its context key, before anything is synthesized.
    /// </summary>
    public static DeploymentSettings FromContext(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var scaling = SettingsCatalog.Load(
            d => ContextString(node, SettingsCatalog.ContextPrefix + d.Key),
            d => SettingsCatalog.ContextPrefix + d.Key);
        return new DeploymentSettings
        {
            StackName = ContextString(node, "nodefleet:stackName") ?? $"NodeFleet-{scaling.ClusterName}",
            Scaling = scaling,
        };
    }

    // Context values arrive as JSON (numbers, booleans) from cdk.json and as strings from -c.
    private static string? ContextString(Node node, string key) => node.TryGetContext(key) switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };
}
