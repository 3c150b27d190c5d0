namespace NodeFleet.Functions.Tests;

/// <summary>A clock that reads a set time, for handlers that take a <see cref="TimeProvider"/>.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
