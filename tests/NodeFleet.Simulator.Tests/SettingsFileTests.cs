using NodeFleet.Core.Settings;
using NodeFleet.Simulator.Simulation;

namespace NodeFleet.Simulator.Tests;

public sealed class SettingsFileTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), $"nodefleet-settings-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(path);

    private SimulationOptions Apply(string json)
    {
        File.WriteAllText(path, json);
        return SettingsFile.Apply(path, new SimulationOptions());
    }

    [Fact]
    public void Apply_CdkJson_ReadsTheNodeFleetContextAndSkipsTheRest()
    {
        var options = Apply("""
            {"app": "dotnet run", "context": {"@aws-cdk/core:newStyleStackSynthesis": true,
              "nodefleet:headroom": "10%", "nodefleet:scaleDownWindow": "7m", "nodefleet:scheduleRate": "1m",
              "nodefleet:spotShare": "50%", "nodefleet:keyPairName": "ops"}}
            """);

        Assert.Equal(0.10, options.Settings.Headroom);
        Assert.Equal(TimeSpan.FromMinutes(7), options.Settings.ScaleDownWindow);
        Assert.Equal(TimeSpan.FromMinutes(1), options.NodeFleetTick);
        Assert.Equal(0.5, options.SpotShare);
        Assert.Equal(ScalingSettings.Defaults.MinNodes, options.Settings.MinNodes);
    }

    [Fact]
    public void Apply_CdkJsonWithFastPathTimings_SetsAlertmanagersTimings()
    {
        var options = Apply("""
            {"context": {"nodefleet:fastPathGroupWait": "5s", "nodefleet:fastPathGroupInterval": "30s", "nodefleet:fastPathRepeatInterval": "10m"}}
            """);

        Assert.Equal(TimeSpan.FromSeconds(5), options.FastPathGroupWait);
        Assert.Equal(TimeSpan.FromSeconds(30), options.FastPathGroupInterval);
        Assert.Equal(TimeSpan.FromMinutes(10), options.FastPathRepeatInterval);
    }

    [Fact]
    public void Apply_CdkJsonWithTheWorkflowsWaits_PollsAndTimesOutDrainsAsDeployed()
    {
        var options = Apply("""
            {"context": {"nodefleet:readyPollInterval": "10s", "nodefleet:drainPollInterval": "5s", "nodefleet:drainTimeout": "2m"}}
            """);

        Assert.Equal(TimeSpan.FromSeconds(10), options.ReadyPoll);
        Assert.Equal(TimeSpan.FromSeconds(5), options.DrainPoll);
        Assert.Equal(TimeSpan.FromMinutes(2), options.DrainTimeout);
    }

    [Fact]
    public void Apply_NoFastPathTimings_KeepsTheCatalogDefaults()
    {
        var options = Apply("""{"minNodes": "3"}""");

        Assert.Equal(SettingsCatalog.FastPathGroupWait.Default, options.FastPathGroupWait);
        Assert.Equal(SettingsCatalog.FastPathGroupInterval.Default, options.FastPathGroupInterval);
        Assert.Equal(SettingsCatalog.FastPathRepeatInterval.Default, options.FastPathRepeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(15), options.FastPathGroupInterval);
        Assert.Equal(TimeSpan.FromSeconds(SettingsCatalog.DrainPollSeconds.Default), options.DrainPoll);
        Assert.Equal(SettingsCatalog.DrainTimeout.Default, options.DrainTimeout);
    }

    [Fact]
    public void Apply_FlatFileWithATypo_NamesTheUnknownKey()
    {
        var error = Assert.Throws<FormatException>(() => Apply("""{"minNodes": "3", "scaleDownWindw": "5m"}"""));

        Assert.Contains("unknown setting(s) scaleDownWindw", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_ValuesOverAFilesValues_TheGivenValueWins()
    {
        File.WriteAllText(path, """{"context": {"nodefleet:headroom": "10%", "nodefleet:minNodes": "3", "nodefleet:keyPairName": "ops"}}""");
        var values = new Dictionary<string, string>(SettingsFile.Read(path), StringComparer.Ordinal) { ["headroom"] = "50%" };

        var options = SettingsFile.Apply(values, new SimulationOptions(), "--sweep headroom=50%");

        Assert.Equal(0.5, options.Settings.Headroom);
        Assert.Equal(3, options.Settings.MinNodes);
    }

    [Theory]
    [InlineData("headroom", "2x", "--sweep headroom=2x: headroom: '2x' is not a number")]
    [InlineData("scheduleRate", "90s", "--sweep scheduleRate=90s: scheduleRate '90s' is not a whole number of minutes")]
    [InlineData("headroomm", "1%", "--sweep headroomm=1%: unknown setting(s) headroomm")]
    public void Apply_BadValue_NamesTheSourceAndTheSetting(string key, string value, string expected)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal) { [key] = value };

        var error = Assert.ThrowsAny<Exception>(() => SettingsFile.Apply(values, new SimulationOptions(), $"--sweep {key}={value}"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"minNodes": "12"}""", "minNodes (12) must not exceed maxNodes (10)")]
    [InlineData("""{"scheduleRate": "90s"}""", "scheduleRate '90s' is not a whole number of minutes")]
    [InlineData("""{"spotShare": "150%"}""", "spotShare '150%' is not between 0% and 100%")]
    [InlineData("""["minNodes"]""", "expected a JSON object of settings")]
    [InlineData("""{"fastPathGroupInterval": "2s"}""", "fastPathGroupInterval: '2s' must be at least 5s")]
    [InlineData("""{"drainPollInterval": "1.5s"}""", "drainPollInterval: ")]
    public void Apply_BadValue_IsRefusedNamingIt(string json, string expected)
    {
        var error = Assert.ThrowsAny<Exception>(() => Apply(json));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
