namespace NodeFleet.Simulator.Traces;

/// <summary>One deployment's demand from a trace point on: how many pods, what each requests and burns.</summary>
public sealed record DeploymentDemand(string Deployment, int Replicas, long CpuRequestMillis, long MemoryRequestMiB, long CpuUseMillis);

/// <summary>
/// The demand from <see cref="At"/> (time since the trace's start) until the next point. Every
/// deployment the trace has seen so far is listed, with its latest values.
/// </summary>
public sealed record TracePoint(TimeSpan At, IReadOnlyList<DeploymentDemand> Deployments);

/// <summary>
/// A wave of pods a trace reports on by itself: the pods of <paramref name="Deployments"/> that became
/// unschedulable from <paramref name="From"/> until <paramref name="Until"/> (times since the trace's start).
/// </summary>
public sealed record TraceWave(string Name, TimeSpan From, TimeSpan Until, IReadOnlyList<string> Deployments);

/// <summary>A workload over time: points in time order, the first at zero; the trace ends at <see cref="Duration"/>.</summary>
public sealed record Trace(string Name, IReadOnlyList<TracePoint> Points, TimeSpan Duration)
{
    /// <summary>Waves whose waits the report gives one by one (none for most traces).</summary>
    public IReadOnlyList<TraceWave> Waves { get; init; } = [];

    /// <summary>The demand in force at <paramref name="at"/>.</summary>
    public TracePoint At(TimeSpan at)
    {
        int low = 0, high = Points.Count - 1;
        while (low < high)
        {
            var mid = (low + high + 1) / 2;
            if (Points[mid].At <= at)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        return Points[low];
    }
}

/// <summary>A trace that cannot be read, with where: the line of a CSV file or the JSON path of an export.</summary>
public sealed class TraceFormatException(string message) : Exception(message);
