using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Tests.Settings;

/// <summary>The README's settings table is the operator's reference: it must list every setting as the code has it.</summary>
public class ReadmeSettingsTableTests
{
    private static string ReadmeText()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NodeFleet.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        return File.ReadAllText(Path.Combine(dir.FullName, "README.md"));
    }

    [Fact]
    public void Readme_SettingsTable_ListsEverySettingWithItsVariableAndDefault()
    {
        var rows = ReadmeText().Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToList();

        foreach (var d in SettingsCatalog.Scaling)
        {
            var row = rows.SingleOrDefault(r => r.StartsWith($"| `{d.Key}` |", StringComparison.Ordinal));
            Assert.True(row is not null, $"README has no settings row for {d.Key}");
            Assert.Contains($"`{d.EnvironmentVariable}`", row, StringComparison.Ordinal);
            var expectedDefault = d.DefaultValue.Length == 0 ? "(unset)" : $"`{d.DefaultValue}`";
            Assert.Contains($"| {expectedDefault} |", row, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Readme_SettingsTables_HaveOneRowPerDeploymentAndFunctionSetting_WithItsDefault()
    {
        var rows = ReadmeText().Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToList();

        foreach (var setting in SettingsCatalog.Platform)
        {
            var name = setting.ContextKey is { } key ? $"{SettingsCatalog.ContextPrefix}{key}" : setting.EnvironmentVariable!;
            var matching = rows.Where(r => r.StartsWith($"| `{name}` |", StringComparison.Ordinal)).ToList();
            Assert.True(matching.Count == 1, $"README has {matching.Count} rows for {name}, not one");
            var row = matching[0];
            var expectedDefault = setting.Required ? "required" : setting.DefaultText.Length == 0 ? null : $"`{setting.DefaultText}`";
            if (expectedDefault is not null)
            {
                Assert.Contains($"| {expectedDefault} |", row, StringComparison.Ordinal);
            }

            if (setting.ContextKey is not null && setting.EnvironmentVariable is { } variable)
            {
                Assert.Contains($"`{variable}`", row, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Readme_SettingsRows_NameOnlySettingsTheCatalogHas()
    {
        var known = SettingsCatalog.Platform.Select(s => s.ContextKey is { } key ? $"{SettingsCatalog.ContextPrefix}{key}" : s.EnvironmentVariable!)
            .Concat(SettingsCatalog.Scaling.Select(d => d.Key)).ToHashSet();
        var named = ReadmeText().Split('\n')
            .Where(l => l.StartsWith("| `nodefleet:", StringComparison.Ordinal) || l.StartsWith("| `NODEFLEET_", StringComparison.Ordinal) || l.StartsWith("| `AWS_", StringComparison.Ordinal))
            .Select(l => l.Split('`')[1]);

        Assert.All(named, n => Assert.Contains(n, known));
    }
}
