using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Tests.Settings;

public class CapacitySplitTests
{
    [Theory]
    [InlineData(0, 0.7, 0)]
    [InlineData(1, 0.7, 1)]
    [InlineData(2, 0.7, 1)]
    [InlineData(3, 0.7, 2)]
    [InlineData(4, 0.7, 3)]
    [InlineData(5, 0.7, 4)] // 3.5 rounds away from zero
    [InlineData(10, 0.7, 7)]
    [InlineData(1, 0.5, 1)]
    [InlineData(1, 0.4, 0)]
    [InlineData(3, 0, 0)]
    [InlineData(3, 1, 3)]
    public void SpotCount_LaunchOfCount_RoundsTheShareHalfAwayFromZero(int count, double spotShare, int spot)
    {
        Assert.Equal(spot, CapacitySplit.SpotCount(count, spotShare));
    }

    [Theory]
    [InlineData(-1, 0.7)]
    [InlineData(1, -0.1)]
    [InlineData(1, 1.1)]
    public void SpotCount_OutOfRange_Throws(int count, double spotShare)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CapacitySplit.SpotCount(count, spotShare));
    }
}
