using System.Text;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Ports;
using NodeFleet.TerminateNode;
using NSubstitute;

namespace NodeFleet.Functions.Tests.TerminateNode;

public class FunctionTests
{
    private readonly IComputeFleet fleet = Substitute.For<IComputeFleet>();

    private Function Create() => new(fleet, new FixedClock(States.Now), TextWriter.Null);

    [Fact]
    public async Task FunctionHandler_InstanceIds_TerminatesEachOnce()
    {
        var output = StreamJson.Read(await Create().FunctionHandler(StreamJson.From("""{"instanceIds":["i-1","i-2","i-1"]}""")));

        await fleet.Received(1).TerminateAsync(Arg.Is<IReadOnlyList<string>>(ids => ids.SequenceEqual(new[] { "i-1", "i-2" })), Arg.Any<CancellationToken>());
        Assert.Equal("Terminated i-1, i-2", output.GetProperty("summary").GetString());
    }

    [Theory]
    [InlineData("""{"instanceIds":["i-1","node-3"]}""", "'node-3'")]
    [InlineData("""{"instanceIds":[""]}""", "''")]
    [InlineData("""{"instanceIds":"i-1"}""", "$.instanceIds")]
    [InlineData("""{}""", "instanceIds")]
    public async Task FunctionHandler_BadIds_TerminatesNothing(string input, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Create().FunctionHandler(new MemoryStream(Encoding.UTF8.GetBytes(input))));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        await fleet.DidNotReceiveWithAnyArgs().TerminateAsync(default!, default);
    }
}
