using System.Text;
using NodeFleet.Simulator.Traces;

namespace NodeFleet.Simulator.Tests.Traces;

public class TraceCsvTests
{
    private const string Header = "time_seconds,deployment,replicas,cpu_request_millis,memory_request_mib,cpu_use_millis";

    public static TheoryData<string, string> InvalidFiles => new()
    {
        { "", "line 1: no header: the file is empty or only comments" },
        { "# only\n\n# comments\n", "line 3: no header: the file is empty or only comments" },
        { "time,deployment,replicas\n0,web,1,500,512,250\n", "line 1: header \"time,deployment,replicas\" is not the expected \"time_seconds," },
        { $"# a trace\n{Header}\n", "line 2: no rows after the header" },
        { $"{Header}\n0,web,1,500,512\n", "line 2: 5 columns, expected 6: time_seconds,deployment," },
        { $"{Header}\n0,web,1,500,512,250,9\n", "line 2: 7 columns, expected 6" },
        { $"{Header}\nsoon,web,1,500,512,250\n", "line 2: time_seconds \"soon\" must be a number ≥ 0 (seconds since the trace's start" },
        { $"{Header}\n-5,web,1,500,512,250\n", "line 2: time_seconds \"-5\" must be a number ≥ 0" },
        { $"{Header}\n1e3,web,1,500,512,250\n", "line 2: time_seconds \"1e3\" must be a number ≥ 0" },
        { $"{Header}\n99999999999999,web,1,500,512,250\n", "line 2: time_seconds \"99999999999999\" is too large, expected at most 922337203685.4775807" },
        { $"{Header}\n60,web,1,500,512,250\n120,web,1,500,512,250\n", "line 2: the first row's time_seconds is 60, expected 0: a trace starts at time 0" },
        { $"{Header}\n0,web,1,500,512,250\n60,web,2,500,512,250\n30,web,3,500,512,250\n", "line 4: time_seconds 30 is before the previous row's 60; times must never decrease" },
        { $"{Header}\n0,Web,1,500,512,250\n", "line 2: deployment \"Web\" must be 1–63 characters of a-z, 0-9, '-' and '.'" },
        { $"{Header}\n0,web-,1,500,512,250\n", "line 2: deployment \"web-\" must be 1–63 characters" },
        { $"{Header}\n0,,1,500,512,250\n", "line 2: deployment \"\" must be 1–63 characters" },
        { $"{Header}\n0,{new string('a', 64)},1,500,512,250\n", $"line 2: deployment \"{new string('a', 64)}\" must be 1–63 characters" },
        { $"{Header}\n0,web,-3,500,512,250\n", "line 2: replicas \"-3\" must be a whole number ≥ 0" },
        { $"{Header}\n0,web,2.5,500,512,250\n", "line 2: replicas \"2.5\" must be a whole number ≥ 0" },
        { $"{Header}\n0,web,3000000000,500,512,250\n", "line 2: replicas \"3000000000\" is too large, expected at most 2147483647" },
        { $"{Header}\n0,web,1,0,512,250\n", "line 2: cpu_request_millis \"0\" must be a whole number > 0" },
        { $"{Header}\n0,web,1,500,lots,250\n", "line 2: memory_request_mib \"lots\" must be a whole number > 0" },
        { $"{Header}\n0,web,1,500,512,-1\n", "line 2: cpu_use_millis \"-1\" must be a whole number ≥ 0" },
        { $"{Header}\n0,web,1,500,512,250\n0,api,1,500,512,250\n0,web,2,500,512,250\n60,web,2,500,512,250\n", "line 4: deployment \"web\" appears twice at time_seconds 0 (first on line 2)" },
        { $"{Header}\n0,web,1,500,512,250\n60,web,1,500,512,250\n60,web,2,500,512,250\n", "line 4: deployment \"web\" appears twice at time_seconds 60 (first on line 3)" },
        { $"{Header}\n0,web,1,500,512,250\n0,api,1,500,512,250\n# end\n", "line 3: every row is at time_seconds 0; a trace needs two distinct times at least" },
        { $"# counted\n\n{Header}\n\n0,web,1,500,512,250\n# still counted\n60,web,x,500,512,250\n", "line 7: replicas \"x\" must be a whole number ≥ 0" },
    };

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public void Parse_InvalidFile_ThrowsNamingLineAndProblem(string csv, string expectedPrefix)
    {
        using var reader = new StringReader(csv);

        var error = Assert.Throws<TraceFormatException>(() => TraceCsv.Parse("bad", reader));

        Assert.StartsWith(expectedPrefix, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ValidFile_CarriesValuesForwardAndEndsAtLastTime()
    {
        const string csv = """
            # two services; web scales, worker changes its CPU use once

            time_seconds,deployment,replicas,cpu_request_millis,memory_request_mib,cpu_use_millis
            0,web,4,500,512,250
            0, worker ,2,1000,1024,550
            60,web,8,500,512,260
            90.5,worker,2,1000,1024,600
            # the end
            600,web,8,500,512,260
            """;
        using var reader = new StringReader(csv);

        var trace = TraceCsv.Parse("small", reader);

        Assert.Equal("small", trace.Name);
        Assert.Equal(TimeSpan.FromSeconds(600), trace.Duration);
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(90.5), TimeSpan.FromSeconds(600)], trace.Points.Select(p => p.At));
        var web4 = new DeploymentDemand("web", 4, 500, 512, 250);
        var web8 = new DeploymentDemand("web", 8, 500, 512, 260);
        var worker550 = new DeploymentDemand("worker", 2, 1000, 1024, 550);
        var worker600 = new DeploymentDemand("worker", 2, 1000, 1024, 600);
        Assert.Equal([web4, worker550], trace.Points[0].Deployments);
        Assert.Equal([web8, worker550], trace.Points[1].Deployments);
        Assert.Equal([web8, worker600], trace.Points[2].Deployments);
        Assert.Equal([web8, worker600], trace.Points[3].Deployments);
    }

    [Fact]
    public void Parse_DeploymentFirstSeenLater_JoinsFromThenOn()
    {
        var csv = $"{Header}\n0,web,4,500,512,250\n120,batch,8,1000,1024,600\n180,web,5,500,512,250\n";
        using var reader = new StringReader(csv);

        var trace = TraceCsv.Parse("later", reader);

        Assert.Equal(["web"], trace.Points[0].Deployments.Select(d => d.Deployment));
        Assert.Equal(["web", "batch"], trace.Points[1].Deployments.Select(d => d.Deployment));
        Assert.Equal(new DeploymentDemand("batch", 8, 1000, 1024, 600), trace.At(TimeSpan.FromMinutes(3)).Deployments[1]);
    }

    [Fact]
    public void Load_FileWithByteOrderMark_IsNamedAfterTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"trace-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, $"{Header}\n0,web,4,500,512,250\n60,web,5,500,512,250\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        try
        {
            var trace = TraceCsv.Load(path);

            Assert.Equal(Path.GetFileNameWithoutExtension(path), trace.Name);
            Assert.Equal(TimeSpan.FromMinutes(1), trace.Duration);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Write_Trace_WritesEveryDeploymentFirstThenOnlyChanges()
    {
        var web = new DeploymentDemand("web", 4, 500, 512, 250);
        var worker = new DeploymentDemand("worker", 2, 1000, 1024, 550);
        var trace = new Trace("t", [
            new TracePoint(TimeSpan.Zero, [web, worker]),
            new TracePoint(TimeSpan.FromSeconds(1.25), [web with { Replicas = 5 }, worker]),
            new TracePoint(TimeSpan.FromMinutes(2), [web with { Replicas = 5 }, worker]),
        ], TimeSpan.FromMinutes(2));
        using var writer = new StringWriter();

        TraceCsv.Write(trace, writer);

        Assert.Equal(
            $"{Header}\n0,web,4,500,512,250\n0,worker,2,1000,1024,550\n1.25,web,5,500,512,250\n120,web,5,500,512,250\n",
            writer.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Write_TraceEndingAfterItsLastPoint_KeepsTheEnd()
    {
        var trace = new Trace("t", [
            new TracePoint(TimeSpan.Zero, [new DeploymentDemand("web", 4, 500, 512, 250)]),
            new TracePoint(TimeSpan.FromMinutes(1), [new DeploymentDemand("web", 5, 500, 512, 250)]),
        ], TimeSpan.FromMinutes(10));

        var read = RoundTrip(trace);

        Assert.Equal(TimeSpan.FromMinutes(10), read.Duration);
        Assert.Equal(read.Points[1].Deployments, read.Points[2].Deployments);
    }

    [Fact]
    public void Write_PointOmittingADeployment_Throws()
    {
        var trace = new Trace("t", [
            new TracePoint(TimeSpan.Zero, [new DeploymentDemand("web", 4, 500, 512, 250), new DeploymentDemand("api", 1, 500, 512, 250)]),
            new TracePoint(TimeSpan.FromMinutes(1), [new DeploymentDemand("web", 5, 500, 512, 250)]),
        ], TimeSpan.FromMinutes(1));
        using var writer = new StringWriter();

        var error = Assert.Throws<ArgumentException>(() => TraceCsv.Write(trace, writer));

        Assert.Contains("omits deployment \"api\"", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> BuiltInNames => [.. BuiltInTraces.Names];

    [Theory]
    [MemberData(nameof(BuiltInNames))]
    public void Write_ThenParse_RoundTripsBuiltInTrace(string name)
    {
        var trace = BuiltInTraces.Get(name);

        var read = RoundTrip(trace);

        AssertSameTrace(trace, read);
    }

    /// <summary>Records compare their lists by reference, so traces are compared point by point.</summary>
    internal static void AssertSameTrace(Trace expected, Trace actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Duration, actual.Duration);
        Assert.Equal(expected.Points.Select(p => p.At), actual.Points.Select(p => p.At));
        for (var i = 0; i < expected.Points.Count; i++)
        {
            Assert.Equal(expected.Points[i].Deployments, actual.Points[i].Deployments);
        }
    }

    internal static string ToCsv(Trace trace)
    {
        using var writer = new StringWriter();
        TraceCsv.Write(trace, writer);
        return writer.ToString();
    }

    private static Trace RoundTrip(Trace trace)
    {
        using var reader = new StringReader(ToCsv(trace));
        return TraceCsv.Parse(trace.Name, reader);
    }
}
