using System.Globalization;
using System.Text.RegularExpressions;

namespace NodeFleet.Core.Kubernetes;

/// <summary>Kubernetes resource quantities: <c>500m</c>, <c>2</c>, <c>0.5</c> CPU; <c>512Mi</c>, <c>1G</c>, <c>1e9</c> bytes.</summary>
public static partial class Quantity
{
    public static long CpuMillis(string text) => (long)Math.Ceiling(Value(text) * 1000 - 1e-9);

    public static long Bytes(string text) => (long)Math.Ceiling(Value(text) - 1e-9);

    public static double Value(string text)
    {
        var match = Pattern().Match(text.Trim());
        if (!match.Success)
        {
            throw new FormatException($"'{text}' is not a Kubernetes quantity");
        }

        var number = double.Parse(match.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        var factor = match.Groups["s"].Value switch
        {
            "" => 1d,
            "n" => 1e-9,
            "u" => 1e-6,
            "m" => 1e-3,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            "P" => 1e15,
            "E" => 1e18,
            "Ki" => 1024d,
            "Mi" => 1024d * 1024,
            "Gi" => 1024d * 1024 * 1024,
            "Ti" => 1024d * 1024 * 1024 * 1024,
            "Pi" => 1024d * 1024 * 1024 * 1024 * 1024,
            "Ei" => 1024d * 1024 * 1024 * 1024 * 1024 * 1024,
            var s => throw new FormatException($"'{text}': unknown suffix '{s}'"),
        };
        return number * factor;
    }

    [GeneratedRegex(@"^(?<n>[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)(?<s>[a-zA-Z]*)$")]
    private static partial Regex Pattern();
}
