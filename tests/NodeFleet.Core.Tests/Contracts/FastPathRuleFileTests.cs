using System.Text.RegularExpressions;
using NodeFleet.Core.Contracts;
using NodeFleet.Core.Settings;

namespace NodeFleet.Core.Tests.Contracts;

/// <summary>scripts/alerting/pending-pods.rules.yml and FastPath state the same facts: the file is what Prometheus loads, the constants what the code relies on.</summary>
public class FastPathRuleFileTests
{
    private static string RuleFile()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NodeFleet.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        return File.ReadAllText(Path.Combine(dir.FullName, "scripts", "alerting", "pending-pods.rules.yml"));
    }

    [Fact]
    public void RuleFile_Interval_IsFastPathsRuleEvaluationInterval()
    {
        var text = RuleFile();

        var intervals = Regex.Matches(text, @"^\s*interval:\s*(\S+)\s*$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();

        var interval = Assert.Single(intervals);
        Assert.Equal(FastPath.RuleEvaluationInterval, SettingValue.Duration(interval));
    }

    [Fact]
    public void RuleFile_TheOnlyAlert_IsFastPathsAlertName_WithNoForDelay()
    {
        var text = RuleFile();

        var alerts = Regex.Matches(text, @"^\s*-\s*alert:\s*(\S+)\s*$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal([FastPath.AlertName], alerts);
        // A `for:` would hold each alert pending for that long before Alertmanager hears of it.
        Assert.DoesNotMatch(new Regex(@"^\s*for:", RegexOptions.Multiline), text);
    }
}
