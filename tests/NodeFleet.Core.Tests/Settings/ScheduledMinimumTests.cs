using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Tests.Settings;

public class ScheduledMinimumTests
{
    private static readonly DateTimeOffset Monday = new(2026, 11, 16, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("Mon-Fri 08:00-18:00=4", 0, 8, 0, 4)]
    [InlineData("Mon-Fri 08:00-18:00=4", 0, 18, 0, 0)]   // the end is exclusive
    [InlineData("Mon-Fri 08:00-18:00=4", 5, 12, 0, 0)]   // Saturday
    [InlineData("Sat-Mon 00:00-24:00=3", 6, 23, 59, 3)]  // a range that wraps the week
    [InlineData("Mon 08:00-10:00=3; Mon 09:00-11:00=5", 0, 9, 30, 5)] // overlapping: the highest wins
    [InlineData("tue,thu 10:00-11:00=2", 3, 10, 15, 2)]
    public void ActiveMinimum_AtTime_IsTheHighestActiveWindow(string text, int dayOffset, int hour, int minute, int expected)
    {
        var at = Monday.AddDays(dayOffset).AddHours(hour).AddMinutes(minute);

        Assert.Equal(expected, ScheduledMinimum.ActiveMinimum(ScheduledMinimum.ParseList(text), at));
    }

    [Theory]
    [InlineData("Mon-Fri 08:00-18:00", "not of the form")]
    [InlineData("Mon-Fri 18:00-08:00=3", "must end after it starts")]
    [InlineData("Funday 08:00-09:00=3", "'Funday' is not a day")]
    [InlineData("Mon 8-9=3", "not a time")]
    [InlineData("Mon 08:00-25:00=3", "not a time")]
    [InlineData("Mon 08:00-09:00=x", "not a node count")]
    public void Parse_Malformed_SaysWhatIsWrong(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => ScheduledMinimum.ParseList(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_RoundTrips()
    {
        var windows = ScheduledMinimum.ParseList("Mon-Fri 08:00-18:30=4");

        Assert.Equal("Mon,Tue,Wed,Thu,Fri 08:00-18:30=4", windows[0].ToString());
        Assert.Equivalent(windows, ScheduledMinimum.ParseList(windows[0].ToString()));
    }
}
