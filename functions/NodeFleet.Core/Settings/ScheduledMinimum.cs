using System.Globalization;

namespace NodeFleet.Core.Settings;

/// <summary>
/// A raised minimum for a weekly time window in UTC, e.g. <c>Mon-Fri 08:00-18:00=4</c>:
/// from 08:00 to 18:00 UTC on weekdays keep at least 4 workers.
/// </summary>
public sealed record ScheduledMinimum(IReadOnlySet<DayOfWeek> Days, TimeSpan Start, TimeSpan End, int MinNodes)
{
    private static readonly string[] DayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

    public bool IsActiveAt(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return Days.Contains(utc.DayOfWeek) && utc.TimeOfDay >= Start && utc.TimeOfDay < End;
    }

    /// <summary>The highest scheduled minimum active at <paramref name="time"/>, or 0.</summary>
    public static int ActiveMinimum(IEnumerable<ScheduledMinimum> windows, DateTimeOffset time) =>
        windows.Where(w => w.IsActiveAt(time)).Select(w => w.MinNodes).DefaultIfEmpty(0).Max();

    /// <summary>
    /// Parses <c>DAYS HH:MM-HH:MM=N</c> entries separated by <c>;</c>. DAYS is a comma list of
    /// days or day ranges (<c>Mon-Fri</c>, <c>Sat,Sun</c>). A window may not wrap midnight: write two.
    /// </summary>
    public static IReadOnlyList<ScheduledMinimum> ParseList(string text)
    {
        var result = new List<ScheduledMinimum>();
        foreach (var raw in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result.Add(Parse(raw));
        }

        return result;
    }

    public static ScheduledMinimum Parse(string entry)
    {
        var equals = entry.Split('=', StringSplitOptions.TrimEntries);
        var parts = equals[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (equals.Length != 2 || parts.Length != 2)
        {
            throw new FormatException($"'{entry}' is not of the form 'Mon-Fri 08:00-18:00=4'");
        }

        if (!int.TryParse(equals[1], NumberStyles.None, CultureInfo.InvariantCulture, out var min) || min < 0)
        {
            throw new FormatException($"'{entry}': '{equals[1]}' is not a node count");
        }

        var times = parts[1].Split('-');
        if (times.Length != 2)
        {
            throw new FormatException($"'{entry}': '{parts[1]}' is not a time range like 08:00-18:00");
        }

        var start = ParseTime(entry, times[0]);
        var end = ParseTime(entry, times[1]);
        if (end <= start)
        {
            throw new FormatException($"'{entry}': the window must end after it starts (split a window that wraps midnight in two)");
        }

        return new ScheduledMinimum(ParseDays(entry, parts[0]), start, end, min);
    }

    public override string ToString()
    {
        var days = string.Join(",", Days.Order().Select(d => DayNames[(int)d]));
        return $"{days} {Format(Start)}-{Format(End)}={MinNodes}";
    }

    private static string Format(TimeSpan time) =>
        $"{(int)time.TotalHours:00}:{time.Minutes:00}";

    private static TimeSpan ParseTime(string entry, string text)
    {
        var hm = text.Split(':');
        if (hm.Length == 2
            && int.TryParse(hm[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            && int.TryParse(hm[1], NumberStyles.None, CultureInfo.InvariantCulture, out var m)
            && m < 60 && (h < 24 || (h == 24 && m == 0)))
        {
            return new TimeSpan(h, m, 0);
        }

        throw new FormatException($"'{entry}': '{text}' is not a time between 00:00 and 24:00");
    }

    private static HashSet<DayOfWeek> ParseDays(string entry, string text)
    {
        var days = new HashSet<DayOfWeek>();
        foreach (var item in text.Split(','))
        {
            var range = item.Split('-');
            var first = ParseDay(entry, range[0]);
            var last = range.Length == 2 ? ParseDay(entry, range[1]) : first;
            if (range.Length > 2)
            {
                throw new FormatException($"'{entry}': '{item}' is not a day or day range");
            }

            // Ranges wrap the week: Sat-Mon is Sat, Sun, Mon.
            for (var d = (int)first; ; d = (d + 1) % 7)
            {
                days.Add((DayOfWeek)d);
                if (d == (int)last)
                {
                    break;
                }
            }
        }

        return days;
    }

    private static DayOfWeek ParseDay(string entry, string text)
    {
        var index = Array.FindIndex(DayNames, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
        return index >= 0
            ? (DayOfWeek)index
            : throw new FormatException($"'{entry}': '{text}' is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
    }
}
