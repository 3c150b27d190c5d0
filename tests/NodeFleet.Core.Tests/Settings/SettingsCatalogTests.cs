using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Tests.Settings;

public class SettingsCatalogTests
{
    [Fact]
    public void FromEnvironment_Nothing_Set_GivesDefaults()
    {
        var settings = SettingsCatalog.FromEnvironment(_ => null);

        Assert.Equal(ScalingSettings.Defaults, settings);
    }

    [Fact]
    public void Catalog_EveryDocumentedDefault_ParsesToTheActualDefault()
    {
        foreach (var definition in SettingsCatalog.Scaling)
        {
            var applied = definition.Apply(ScalingSettings.Defaults, definition.DefaultValue);

            Assert.Equal(definition.Format(ScalingSettings.Defaults), definition.Format(applied));
        }
    }

    [Fact]
    public void ToEnvironment_ThenFromEnvironment_RoundTripsEverySetting()
    {
        var settings = ScalingSettings.Defaults with
        {
            ClusterName = "prod",
            MinNodes = 3,
            MaxNodes = 40,
            MaxStep = 7,
            ScaleUpCpuThreshold = 0.8,
            ScaleUpCpuWindow = TimeSpan.FromSeconds(150),
            ScaleDownWindow = TimeSpan.FromMinutes(90),
            TargetUtilization = 0.65,
            WorkerShape = new(3900, 15000L * 1024 * 1024, 58),
            DryRun = true,
            ScheduledMinimums = ScheduledMinimum.ParseList("Mon-Fri 08:00-18:00=5; Sat 10:00-12:30=4"),
            CustomMetricQuery = "sum(rabbitmq_queue_messages)",
            CustomMetricTargetPerNode = 250.5,
            PredictiveHorizon = TimeSpan.FromMinutes(15),
        };
        var environment = SettingsCatalog.ToEnvironment(settings);

        var read = SettingsCatalog.FromEnvironment(name => environment.GetValueOrDefault(name));

        Assert.Equivalent(settings, read, strict: true);
        Assert.Equal(SettingsCatalog.Scaling.Count, environment.Count);
    }

    [Fact]
    public void FromEnvironment_MalformedValues_ReportsEachWithKeyAndVariable()
    {
        var environment = new Dictionary<string, string>
        {
            ["NODEFLEET_MIN_NODES"] = "two",
            ["NODEFLEET_SCALE_UP_CPU_THRESHOLD"] = "70",
            ["NODEFLEET_SCALE_DOWN_WINDOW"] = "10 minutes",
        };

        var error = Assert.Throws<InvalidSettingsException>(() => SettingsCatalog.FromEnvironment(n => environment.GetValueOrDefault(n)));

        Assert.Equal(3, error.Errors.Count);
        Assert.Contains(error.Errors, e => e.StartsWith("minNodes (NODEFLEET_MIN_NODES): 'two' is not a whole number", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("write 0.70 or 70%", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("scaleDownWindow", StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_KeysAndVariables_AreUnique()
    {
        Assert.Equal(SettingsCatalog.Scaling.Count, SettingsCatalog.Scaling.Select(d => d.Key).Distinct().Count());
        Assert.Equal(SettingsCatalog.Scaling.Count, SettingsCatalog.Scaling.Select(d => d.EnvironmentVariable).Distinct().Count());
    }

    [Theory]
    [InlineData("0.7", 0.7)]
    [InlineData("70%", 0.7)]
    [InlineData("12.5 %", 0.125)]
    [InlineData("1", 1.0)]
    public void Fraction_DecimalOrPercent_Parses(string text, double expected)
    {
        Assert.Equal(expected, SettingValue.Fraction(text), 9);
    }

    [Theory]
    [InlineData("90", 90)]
    [InlineData("90s", 90)]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("2h", 7200)]
    public void Duration_CommonForms_Parse(string text, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), SettingValue.Duration(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("5 min")]
    [InlineData("m")]
    [InlineData("-5m")]
    public void Duration_Malformed_Throws(string text)
    {
        Assert.Throws<FormatException>(() => SettingValue.Duration(text));
    }
}
