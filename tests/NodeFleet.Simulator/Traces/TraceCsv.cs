using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace NodeFleet.Simulator.Traces;

/// <summary>
/// Reads and writes traces as CSV.
/// <para>Format:</para>
/// <list type="bullet">
/// <item>UTF-8 text. Blank lines and lines whose first non-blank character is <c>#</c> are ignored.</item>
/// <item>The first other line is the header, exactly
/// <c>time_seconds,deployment,replicas,cpu_request_millis,memory_request_mib,cpu_use_millis</c>.</item>
/// <item>Each following line is one row of six comma-separated fields (spaces around a field are ignored):
/// <c>time_seconds</c>, seconds since the trace's start (a number ≥ 0, decimals allowed, e.g. <c>90</c> or <c>90.5</c>);
/// <c>deployment</c>, its name (1–63 characters of <c>a-z</c>, <c>0-9</c>, <c>-</c> and <c>.</c>, starting and ending with a letter or digit);
/// <c>replicas</c>, the number of pods (whole number ≥ 0);
/// <c>cpu_request_millis</c>, the CPU each pod requests in millicores (whole number &gt; 0);
/// <c>memory_request_mib</c>, the memory each pod requests in MiB (whole number &gt; 0);
/// <c>cpu_use_millis</c>, the CPU each pod actually uses in millicores (whole number ≥ 0).</item>
/// <item>Times never decrease and the first row's time is 0. Rows with the same time form one point of the trace.
/// A deployment keeps its latest values until a later row changes them, so a row is needed only when something changes;
/// the same deployment twice at the same time is an error.</item>
/// <item>The last time in the file is the trace's end, so a trace has rows at two distinct times at least.</item>
/// </list>
/// <para>Example: <c>web</c> runs 4 pods from the start, 8 from the fifth minute; the trace ends at 10 minutes.</para>
/// <code>
/// time_seconds,deployment,replicas,cpu_request_millis,memory_request_mib,cpu_use_millis
/// 0,web,4,500,512,250
/// 0,worker,2,1000,1024,550
/// 300,web,8,500,512,260
/// 600,web,8,500,512,260
/// </code>
/// <para>Every error is a <see cref="TraceFormatException"/> whose message starts with <c>line N: </c>
/// (the 1-based line in the file) and says what is wrong and what was expected.</para>
/// </summary>
public static partial class TraceCsv
{
    /// <summary>The header line every trace file starts with.</summary>
    public const string Header = "time_seconds,deployment,replicas,cpu_request_millis,memory_request_mib,cpu_use_millis";

    /// <summary>What a deployment name must look like, for error messages (the rule of Kubernetes DNS subdomain labels).</summary>
    internal const string DeploymentNameRule = "must be 1–63 characters of a-z, 0-9, '-' and '.', starting and ending with a letter or digit";

    private const int Columns = 6;

    // TimeSpan holds at most this many seconds; larger times cannot be represented.
    private static readonly decimal MaxSeconds = TimeSpan.MaxValue.Ticks / (decimal)TimeSpan.TicksPerSecond;

    /// <summary>Reads a trace from CSV text; see the class comment for the format.</summary>
    /// <exception cref="TraceFormatException">The text is not a valid trace; nothing is returned half-read.</exception>
    public static Trace Parse(string name, TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(reader);

        var lineNumber = 0;
        var headerSeen = false;
        var lastRowLine = 0;
        var points = new List<TracePoint>();
        var latest = new Dictionary<string, DeploymentDemand>(StringComparer.Ordinal);
        var order = new List<string>(); // deployments in first-seen order, so points list them stably
        var linesAtCurrentTime = new Dictionary<string, int>(StringComparer.Ordinal);
        TimeSpan? currentTime = null;

        while (reader.ReadLine() is { } raw)
        {
            lineNumber++;
            var line = (lineNumber == 1 ? raw.TrimStart('\uFEFF') : raw).Trim(); // a BOM survives when the caller's reader did not strip it
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (!headerSeen)
            {
                if (!string.Equals(line, Header, StringComparison.Ordinal))
                {
                    throw Error(lineNumber, $"header \"{line}\" is not the expected \"{Header}\"");
                }

                headerSeen = true;
                continue;
            }

            var fields = line.Split(',');
            if (fields.Length != Columns)
            {
                throw Error(lineNumber, $"{Count(fields.Length)} columns, expected {Count(Columns)}: {Header}");
            }

            var at = ParseTime(fields[0].Trim(), lineNumber);
            var demand = ParseDemand(fields, lineNumber);

            if (currentTime is not { } current)
            {
                if (at != TimeSpan.Zero)
                {
                    throw Error(lineNumber, $"the first row's time_seconds is {FormatSeconds(at)}, expected 0: a trace starts at time 0");
                }
            }
            else if (at < current)
            {
                throw Error(lineNumber, $"time_seconds {FormatSeconds(at)} is before the previous row's {FormatSeconds(current)}; times must never decrease");
            }
            else if (at > current)
            {
                points.Add(Snapshot(current, order, latest));
                linesAtCurrentTime.Clear();
            }

            if (linesAtCurrentTime.TryGetValue(demand.Deployment, out var firstLine))
            {
                throw Error(lineNumber, $"deployment \"{demand.Deployment}\" appears twice at time_seconds {FormatSeconds(at)} (first on line {Count(firstLine)})");
            }

            linesAtCurrentTime.Add(demand.Deployment, lineNumber);
            if (!latest.ContainsKey(demand.Deployment))
            {
                order.Add(demand.Deployment);
            }

            latest[demand.Deployment] = demand;
            currentTime = at;
            lastRowLine = lineNumber;
        }

        if (!headerSeen)
        {
            throw Error(Math.Max(1, lineNumber), $"no header: the file is empty or only comments, expected \"{Header}\"");
        }

        if (currentTime is not { } end)
        {
            throw Error(lineNumber, "no rows after the header; a trace needs rows at two distinct times at least");
        }

        points.Add(Snapshot(end, order, latest));
        if (points.Count < 2)
        {
            throw Error(lastRowLine, $"every row is at time_seconds {FormatSeconds(end)}; a trace needs two distinct times at least, the last one being its end");
        }

        return new Trace(name, points, end);
    }

    /// <summary>Reads a trace file; the trace is named after the file, without its extension.</summary>
    /// <exception cref="TraceFormatException">The file is not a valid trace.</exception>
    public static Trace Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Parse(Path.GetFileNameWithoutExtension(path), reader);
    }

    /// <summary>
    /// Writes <paramref name="trace"/> as CSV that <see cref="Parse"/> reads back into an equal trace: every deployment
    /// at the first point, then at each point the deployments that changed. A point where nothing changed still gets one
    /// row (its first deployment, unchanged) so that its time, and the trace's end, survive; if the trace ends after its
    /// last point, a row of that kind marks the end.
    /// </summary>
    /// <exception cref="ArgumentException">The trace has no points, ends before its last point, or a point omits a deployment listed before.</exception>
    public static void Write(Trace trace, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(writer);
        if (trace.Points.Count == 0)
        {
            throw new ArgumentException($"trace \"{trace.Name}\" has no points", nameof(trace));
        }

        var lastPoint = trace.Points[^1];
        if (trace.Duration < lastPoint.At)
        {
            throw new ArgumentException($"trace \"{trace.Name}\" ends at {FormatSeconds(trace.Duration)} s, before its last point at {FormatSeconds(lastPoint.At)} s", nameof(trace));
        }

        writer.WriteLine(Header);
        var previous = new Dictionary<string, DeploymentDemand>(StringComparer.Ordinal);
        foreach (var point in trace.Points)
        {
            // A CSV row cannot remove a deployment: writing such a point would silently keep its old values.
            var listed = point.Deployments.Select(d => d.Deployment).ToHashSet(StringComparer.Ordinal);
            var omitted = previous.Keys.FirstOrDefault(n => !listed.Contains(n));
            if (omitted is not null)
            {
                throw new ArgumentException($"trace \"{trace.Name}\": the point at {FormatSeconds(point.At)} s omits deployment \"{omitted}\" listed before; every point lists every deployment seen so far", nameof(trace));
            }

            var changed = point.Deployments.Where(d => !previous.TryGetValue(d.Deployment, out var before) || before != d).ToList();
            if (changed.Count == 0 && point.Deployments.Count > 0)
            {
                changed.Add(point.Deployments[0]);
            }

            foreach (var demand in changed)
            {
                WriteRow(writer, point.At, demand);
            }

            foreach (var demand in point.Deployments)
            {
                previous[demand.Deployment] = demand;
            }
        }

        if (trace.Duration > lastPoint.At && lastPoint.Deployments.Count > 0)
        {
            WriteRow(writer, trace.Duration, lastPoint.Deployments[0]);
        }
    }

    /// <summary>Whether <paramref name="name"/> is a deployment name a trace accepts (see <see cref="DeploymentNameRule"/>).</summary>
    internal static bool IsDeploymentName(string name) => name.Length <= 63 && DeploymentNamePattern().IsMatch(name);

    private static TimeSpan ParseTime(string text, int lineNumber)
    {
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
        {
            throw Error(lineNumber, $"time_seconds \"{text}\" must be a number ≥ 0 (seconds since the trace's start, decimals allowed)");
        }

        if (seconds > MaxSeconds)
        {
            throw Error(lineNumber, $"time_seconds \"{text}\" is too large, expected at most {FormatSeconds(TimeSpan.MaxValue)}");
        }

        return TimeSpan.FromTicks((long)decimal.Round(seconds * TimeSpan.TicksPerSecond));
    }

    private static DeploymentDemand ParseDemand(string[] fields, int lineNumber)
    {
        var deployment = fields[1].Trim();
        if (!IsDeploymentName(deployment))
        {
            throw Error(lineNumber, $"deployment \"{deployment}\" {DeploymentNameRule}");
        }

        var replicas = ParseWhole(fields[2], "replicas", allowZero: true, lineNumber);
        if (replicas > int.MaxValue)
        {
            throw Error(lineNumber, $"replicas \"{fields[2].Trim()}\" is too large, expected at most {Count(int.MaxValue)}");
        }

        return new DeploymentDemand(
            deployment,
            (int)replicas,
            ParseWhole(fields[3], "cpu_request_millis", allowZero: false, lineNumber),
            ParseWhole(fields[4], "memory_request_mib", allowZero: false, lineNumber),
            ParseWhole(fields[5], "cpu_use_millis", allowZero: true, lineNumber));
    }

    private static long ParseWhole(string field, string column, bool allowZero, int lineNumber)
    {
        var text = field.Trim();
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || (!allowZero && value == 0))
        {
            throw Error(lineNumber, $"{column} \"{text}\" must be a whole number {(allowZero ? "≥ 0" : "> 0")}");
        }

        return value;
    }

    private static TracePoint Snapshot(TimeSpan at, List<string> order, Dictionary<string, DeploymentDemand> latest) =>
        new(at, order.Select(n => latest[n]).ToArray());

    private static void WriteRow(TextWriter writer, TimeSpan at, DeploymentDemand demand) =>
        writer.WriteLine(string.Join(
            ',',
            FormatSeconds(at),
            demand.Deployment,
            Count(demand.Replicas),
            Count(demand.CpuRequestMillis),
            Count(demand.MemoryRequestMiB),
            Count(demand.CpuUseMillis)));

    // Exact to the tick, so that Write and Parse round-trip.
    private static string FormatSeconds(TimeSpan at) =>
        (at.Ticks / (decimal)TimeSpan.TicksPerSecond).ToString("0.#######", CultureInfo.InvariantCulture);

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static TraceFormatException Error(int lineNumber, string message) => new($"line {Count(lineNumber)}: {message}");

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex DeploymentNamePattern();
}
