using System.Globalization;
using System.Text.RegularExpressions;

namespace NodeFleet.Core.Settings;

/// <summary>Parsers for setting values as written in cdk.json context and environment variables.</summary>
public static partial class SettingValue
{
    public static int WholeNumber(string text) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"'{text}' is not a whole number");

    public static double Number(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new FormatException($"'{text}' is not a number");

    /// <summary>A fraction written as <c>0.7</c> or <c>70%</c>. A bare number above 1 is refused, not guessed at.</summary>
    public static double Fraction(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.EndsWith('%'))
        {
            return Number(trimmed[..^1].TrimEnd()) / 100.0;
        }

        var value = Number(trimmed);
        return value <= 1
            ? value
            : throw new FormatException($"'{text}' is not a fraction: write 0.70 or 70%");
    }

    public static bool Boolean(string text) => text.Trim().ToUpperInvariant() switch
    {
        "TRUE" or "1" or "YES" => true,
        "FALSE" or "0" or "NO" => false,
        _ => throw new FormatException($"'{text}' is not true or false"),
    };

    /// <summary>A duration: <c>90</c> (seconds), <c>90s</c>, <c>5m</c>, <c>1h30m</c>.</summary>
    public static TimeSpan Duration(string text)
    {
        var trimmed = text.Trim();
        if (long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        var match = DurationPattern().Match(trimmed);
        if (!match.Success || trimmed.Length == 0)
        {
            throw new FormatException($"'{text}' is not a duration like 90s, 5m or 1h30m");
        }

        long Part(string name) => match.Groups[name].Success
            ? long.Parse(match.Groups[name].Value, CultureInfo.InvariantCulture)
            : 0;

        return TimeSpan.FromHours(Part("h")) + TimeSpan.FromMinutes(Part("m")) + TimeSpan.FromSeconds(Part("s"));
    }

    /// <summary>The shortest form <see cref="Duration"/> reads back: 5m, 90s, 1h30m.</summary>
    /// <summary><c>us-east-1a=subnet-0abc,us-east-1b=subnet-0def</c>.</summary>
    public static IReadOnlyList<(string Zone, string SubnetId)> ZoneSubnets(string text)
    {
        var result = new List<(string, string)>();
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0 || !parts[1].StartsWith("subnet-", StringComparison.Ordinal))
            {
                throw new FormatException($"'{pair}' is not of the form zone=subnet-id");
            }

            if (result.Any(r => r.Item1 == parts[0]))
            {
                throw new FormatException($"zone {parts[0]} is listed twice");
            }

            result.Add((parts[0], parts[1]));
        }

        return result.Count > 0 ? result : throw new FormatException("lists no subnet");
    }

    /// <summary>An absolute http(s) URL, normalised to end in a slash (a base address).</summary>
    public static Uri HttpUrl(string text) =>
        Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new FormatException($"'{text}' is not an http(s) URL");

    public static string FormatDuration(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var text = (value.Days * 24 + value.Hours > 0 ? $"{value.Days * 24 + value.Hours}h" : "")
            + (value.Minutes > 0 ? $"{value.Minutes}m" : "")
            + (value.Seconds > 0 ? $"{value.Seconds}s" : "");
        return text;
    }

    [GeneratedRegex(@"^(?:(?<h>\d+)h)?(?:(?<m>\d+)m)?(?:(?<s>\d+)s)?$")]
    private static partial Regex DurationPattern();
}
