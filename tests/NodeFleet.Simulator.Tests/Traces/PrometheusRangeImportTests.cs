using NodeFleet.Simulator.Traces;

namespace NodeFleet.Simulator.Tests.Traces;

public class PrometheusRangeImportTests
{
    private const string WebReplicas = """{"metric":{"deployment":"web","measure":"replicas"},"values":[[1700000000,"2"],[1700000060,"3"]]}""";
    private const string WebCpu = """{"metric":{"deployment":"web","measure":"cpu_request_millis"},"values":[[1700000000,"500"]]}""";

    public static TheoryData<string, string> InvalidAnswers => new()
    {
        { """{"status":"success","data":""", "$: malformed JSON: " },
        { "[]", "$: an array of 0, expected an object" },
        { """{"data":{}}""", "$.status: missing, expected a string" },
        { """{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}""", "$.status: \"error\" (bad_data: invalid parameter \"query\": 1:5: parse error)" },
        { """{"status":"pending","data":{}}""", "$.status: \"pending\", expected \"success\"" },
        { """{"status":"success"}""", "$.data: missing, expected an object" },
        { """{"status":"success","data":{"resultType":"vector","result":[]}}""", "$.data.resultType: \"vector\", expected \"matrix\"" },
        { """{"status":"success","data":{"resultType":"matrix","result":{}}}""", "$.data.result: an object, expected an array" },
        { Matrix(""), "$.data.result: no series" },
        { Matrix($"{WebReplicas},7"), "$.data.result[1]: 7, expected an object" },
        { Matrix($"{WebReplicas},{WebCpu},{{\"values\":[]}}"), "$.data.result[2].metric: missing, expected an object" },
        { Matrix($$"""{{WebReplicas}},{{WebCpu}},{"metric":{"deployment":"web"},"values":[[1700000000,"1"]]}"""), "$.data.result[2].metric: no \"measure\" label" },
        { Matrix($$"""{{WebReplicas}},{"metric":{"measure":"replicas","pod":"web-1"},"values":[[1700000000,"1"]]}"""), "$.data.result[1].metric: no \"deployment\" label" },
        { Matrix("""{"metric":{"deployment":"Web","measure":"replicas"},"values":[[1700000000,"1"]]}"""), "$.data.result[0].metric.deployment: \"Web\" must be 1–63 characters" },
        { Matrix("""{"metric":{"deployment":"web","measure":"cpu"},"values":[[1700000000,"1"]]}"""), "$.data.result[0].metric.measure: \"cpu\", expected one of replicas, cpu_request_millis, memory_request_mib, cpu_use_millis" },
        { Matrix("""{"metric":{"deployment":"web","measure":7},"values":[[1700000000,"1"]]}"""), "$.data.result[0].metric.measure: 7, expected a string" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"}}"""), "$.data.result[0].values: missing, expected an array" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[]}"""), "$.data.result[0].values: no samples" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[[1700000000,"1"],[1700000060,2]]}"""), "$.data.result[0].values[1]: an array of 2, expected [<unix seconds>, \"<value>\"]" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[[1700000000]]}"""), "$.data.result[0].values[0]: an array of 1, expected [<unix seconds>, \"<value>\"]" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[[1e300,"1"]]}"""), "$.data.result[0].values[0][0]: 1e300 is not a Unix time in seconds" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[[1700000060,"1"],[1700000000,"2"]]}"""), "$.data.result[0].values[1][0]: 1700000000 is not after the previous sample's time" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[[1700000000,"1"],[1700000060,"NaN"]]}"""), "$.data.result[0].values[1][1]: \"NaN\" is not a finite number" },
        { Matrix("""{"metric":{"deployment":"web","measure":"cpu_use_millis"},"values":[[1700000000,"+Inf"]]}"""), "$.data.result[0].values[0][1]: \"+Inf\" is not a finite number" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[[1700000000,"many"]]}"""), "$.data.result[0].values[0][1]: \"many\" is not a number" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[[1700000000,"-1"]]}"""), "$.data.result[0].values[0][1]: \"-1\" for replicas, expected a number ≥ 0" },
        { Matrix("""{"metric":{"deployment":"web","measure":"cpu_request_millis"},"values":[[1700000000,"0"]]}"""), "$.data.result[0].values[0][1]: \"0\" for cpu_request_millis, expected a number > 0" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[[1700000000,"3e9"]]}"""), "$.data.result[0].values[0][1]: \"3e9\" is too large for replicas" },
        { Matrix($$"""{{WebReplicas}},{{WebCpu}},{"metric":{"deployment":"web","measure":"replicas","pod":"x"},"values":[[1700000000,"1"]]}"""), "$.data.result[2].metric: a second \"replicas\" series for deployment \"web\" (the first is $.data.result[0])" },
        { Matrix(WebReplicas), "$.data.result: deployment \"web\" has no \"cpu_request_millis\" series (required; memory_request_mib and cpu_use_millis are optional)" },
        { Matrix("""{"metric":{"deployment":"web","measure":"cpu_request_millis"},"values":[[1700000000,"1"]]}"""), "$.data.result: deployment \"web\" has no \"replicas\" series" },
        { Matrix("""{"metric":{"deployment":"web","measure":"replicas"},"values":[[1700000000,"1"]]},{"metric":{"deployment":"web","measure":"cpu_request_millis"},"values":[[1700000000,"1"]]}"""), "$.data.result: every sample is at one time; a trace needs two distinct times at least" },
    };

    [Theory]
    [MemberData(nameof(InvalidAnswers))]
    public void Parse_InvalidAnswer_ThrowsNamingJsonLocation(string json, string expectedPrefix)
    {
        var error = Assert.Throws<TraceFormatException>(() => PrometheusRangeImport.Parse("bad", json));

        Assert.StartsWith(expectedPrefix, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ValidAnswer_CarriesValuesForwardAndFillsDefaults()
    {
        // web has all four measures, memory missing its last samples; api appears a minute in, with only the required two.
        const string json = """
            {
              "status": "success",
              "data": {
                "resultType": "matrix",
                "result": [
                  {"metric": {"deployment": "web", "measure": "replicas"},
                   "values": [[1700000000, "2.6"], [1700000060, "4"], [1700000120, "4"], [1700000180.5, "5"]]},
                  {"metric": {"deployment": "web", "measure": "cpu_request_millis"},
                   "values": [[1700000000, "250.2"], [1700000060, "250.2"], [1700000120, "250.2"], [1700000180.5, "250.2"]]},
                  {"metric": {"deployment": "web", "measure": "memory_request_mib"},
                   "values": [[1700000000, "511.1"], [1700000060, "511.1"]]},
                  {"metric": {"deployment": "web", "measure": "cpu_use_millis"},
                   "values": [[1700000000, "120.4"], [1700000060, "140.6"], [1700000120, "130"]]},
                  {"metric": {"deployment": "api", "measure": "replicas", "namespace": "default"},
                   "values": [[1700000060, "3"], [1700000120, "5"]]},
                  {"metric": {"deployment": "api", "measure": "cpu_request_millis", "namespace": "default"},
                   "values": [[1700000060, "1e+03"], [1700000120, "1000"]]}
                ]
              }
            }
            """;

        var trace = PrometheusRangeImport.Parse("cluster", json);

        Assert.Equal("cluster", trace.Name);
        Assert.Equal(TimeSpan.FromSeconds(180.5), trace.Duration);
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(180.5)], trace.Points.Select(p => p.At));
        Assert.Equal(
            [new DeploymentDemand("api", 0, 1000, 256, 500), new DeploymentDemand("web", 3, 251, 512, 120)],
            trace.Points[0].Deployments);
        Assert.Equal(
            [new DeploymentDemand("api", 3, 1000, 256, 500), new DeploymentDemand("web", 4, 251, 512, 141)],
            trace.Points[1].Deployments);
        Assert.Equal(
            [new DeploymentDemand("api", 5, 1000, 256, 500), new DeploymentDemand("web", 4, 251, 512, 130)],
            trace.Points[2].Deployments);
        Assert.Equal(
            [new DeploymentDemand("api", 5, 1000, 256, 500), new DeploymentDemand("web", 5, 251, 512, 130)],
            trace.Points[3].Deployments);
    }

    [Fact]
    public void Load_SavedAnswer_IsNamedAfterTheFileAndWritesAsCsv()
    {
        var path = Path.Combine(Path.GetTempPath(), $"prometheus-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, Matrix($"{WebReplicas},{WebCpu}"));
        try
        {
            var trace = PrometheusRangeImport.Load(path);

            Assert.Equal(Path.GetFileNameWithoutExtension(path), trace.Name);
            Assert.Equal(
                "time_seconds,deployment,replicas,cpu_request_millis,memory_request_mib,cpu_use_millis\n0,web,2,500,256,250\n60,web,3,500,256,250\n",
                TraceCsvTests.ToCsv(trace).ReplaceLineEndings("\n"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Matrix(string series) => $$$"""{"status":"success","data":{"resultType":"matrix","result":[{{{series}}}]}}""";
}
