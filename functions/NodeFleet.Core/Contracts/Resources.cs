using System.Text.Json.Serialization;

namespace NodeFleet.Core.Contracts;

/// <summary>
/// An amount of schedulable resources: CPU in millicores, memory in bytes, and pod slots.
/// Used both for capacity (allocatable) and for demand (requests).
/// </summary>
public readonly record struct Resources
{
    /// <summary>Every member is required in JSON: a missing one must not silently read as zero.</summary>
    [JsonConstructor]
    public Resources(long cpuMillis, long memoryBytes, int pods)
    {
        CpuMillis = cpuMillis;
        MemoryBytes = memoryBytes;
        Pods = pods;
    }

    public long CpuMillis { get; init; }

    public long MemoryBytes { get; init; }

    public int Pods { get; init; }

    public static Resources Zero => default;

    public static Resources operator +(Resources a, Resources b) =>
        new(a.CpuMillis + b.CpuMillis, a.MemoryBytes + b.MemoryBytes, a.Pods + b.Pods);

    public static Resources operator -(Resources a, Resources b) =>
        new(a.CpuMillis - b.CpuMillis, a.MemoryBytes - b.MemoryBytes, a.Pods - b.Pods);

    public Resources Times(int count) => new(CpuMillis * count, MemoryBytes * count, Pods * count);

    /// <summary>Scales CPU and memory by a fraction (pod slots are not a utilisation target).</summary>
    public Resources Scaled(double fraction) => Scaled(fraction, fraction);

    /// <summary>Scales CPU and memory each by its own fraction (pod slots unchanged).</summary>
    public Resources Scaled(double cpuFraction, double memoryFraction) =>
        new((long)Math.Floor(CpuMillis * cpuFraction), (long)Math.Floor(MemoryBytes * memoryFraction), Pods);

    public Resources AtLeastZero() => new(Math.Max(0, CpuMillis), Math.Max(0, MemoryBytes), Math.Max(0, Pods));

    public bool FitsIn(Resources capacity) =>
        CpuMillis <= capacity.CpuMillis && MemoryBytes <= capacity.MemoryBytes && Pods <= capacity.Pods;

    /// <summary>How many copies of this demand fit into <paramref name="capacity"/>.</summary>
    public int CopiesThatFit(Resources capacity)
    {
        if (!FitsIn(capacity))
        {
            return 0;
        }

        var byCpu = CpuMillis > 0 ? capacity.CpuMillis / CpuMillis : long.MaxValue;
        var byMemory = MemoryBytes > 0 ? capacity.MemoryBytes / MemoryBytes : long.MaxValue;
        var byPods = Pods > 0 ? capacity.Pods / Pods : long.MaxValue;
        return (int)Math.Min(int.MaxValue, Math.Min(byCpu, Math.Min(byMemory, byPods)));
    }

    /// <summary>The larger of the CPU and memory shares of <paramref name="capacity"/> this demand takes.</summary>
    public double DominantShareOf(Resources capacity) => Math.Max(
        capacity.CpuMillis > 0 ? (double)CpuMillis / capacity.CpuMillis : 0,
        capacity.MemoryBytes > 0 ? (double)MemoryBytes / capacity.MemoryBytes : 0);

    public override string ToString() =>
        $"{CpuMillis}m CPU, {MemoryBytes / (1024 * 1024)}Mi memory, {Pods} pods";
}
