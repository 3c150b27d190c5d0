using NodeFleet.Core.Contracts;
using NodeFleet.Core.Policy;
using static NodeFleet.Core.Tests.Fixtures;

namespace NodeFleet.Core.Tests.Policy;

public class BinPackerTests
{
    [Fact]
    public void PackWithNewBins_OpenBinsFirst_ThenNewOnes()
    {
        var open = new[] { new Resources(1000, 4 * GiB, 110) };

        var result = BinPacker.PackWithNewBins([Pods(6, 500, 100)], open, Shape);

        Assert.Equal(1, result.NewBins); // two pods in the open bin, four in one new bin
        Assert.Equal(6, result.PlaceablePods);
    }

    [Fact]
    public void PackWithNewBins_PodLargerThanShapeInAnyDimension_IsUnplaceable()
    {
        var result = BinPacker.PackWithNewBins([Pods(1, 2001, 1), Pods(1, 1, 7681), Pods(1, 2000, 7680)], [], Shape);

        Assert.Equal(2, result.UnplaceablePods);
        Assert.Equal(1, result.NewBins);
        Assert.Equal(2, result.Unplaceable.Count);
    }

    [Fact]
    public void PackWithNewBins_NoPods_OpensNothing()
    {
        var result = BinPacker.PackWithNewBins([], [], Shape);

        Assert.Equal(0, result.NewBins);
    }

    [Fact]
    public void PackWithNewBins_BeyondNewBinLimit_StopsAndSaysSo()
    {
        var result = BinPacker.PackWithNewBins([Pods(100, 1500, 100), Pods(3, 9000, 100)], [], Shape, maxNewBins: 11);

        Assert.Equal(11, result.NewBins);
        Assert.True(result.Truncated);
        Assert.Equal(100, result.PlaceablePods);
        Assert.Equal(3, result.UnplaceablePods); // classification goes on past the limit
    }
}
