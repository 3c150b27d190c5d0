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
}
