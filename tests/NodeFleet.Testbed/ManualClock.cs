namespace NodeFleet.Testbed;

/// <summary>A clock a test moves by hand, shared by the model (pods' exits) and the code under test.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref ticks), TimeSpan.Zero);

    public DateTimeOffset Advance(TimeSpan by) => new(Interlocked.Add(ref ticks, by.Ticks), TimeSpan.Zero);
}
