using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using NodeFleet.Aws.Notifications;

namespace NodeFleet.Aws.Tests;

/// <summary>
/// moto does not check signatures, so a wrong one would first show in real AWS. This captures the
/// request our handler signs (SNS Publish, a hand-written client) and has botocore (the AWS CLI's
/// signer) sign the same request.
/// </summary>
public class SigV4HandlerTests
{
    private const string Script = """
        import json, sys, botocore.auth, botocore.awsrequest, botocore.credentials
        r = json.load(sys.stdin)
        req = botocore.awsrequest.AWSRequest(method="POST", url=r["url"], data=r["body"].encode(),
            headers={"Content-Type": r["contentType"], "X-Amz-Date": r["date"], "X-Amz-Content-SHA256": r["sha"]})
        req.context["timestamp"] = r["date"]
        auth = botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), "sns", "us-east-1")
        canonical = auth.canonical_request(req)
        print(auth.signature(auth.string_to_sign(req, canonical), req))
        """;

    [Fact]
    public async Task Sign_QueryRequest_MatchesBotocoresSignature()
    {
        using var listener = new HttpListener();
        var url = new Uri($"http://127.0.0.1:{MotoServer.FreePort()}/");
        listener.Prefixes.Add(url.ToString());
        listener.Start();
        var captured = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers;
            var response = Encoding.UTF8.GetBytes("<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>");
            await context.Response.OutputStream.WriteAsync(response);
            context.Response.Close();
            return (Body: body, Authorization: headers["Authorization"]!, Date: headers["X-Amz-Date"]!, Sha: headers["X-Amz-Content-SHA256"]!, ContentType: headers["Content-Type"]!);
        });
        var endpoint = MotoServer.EndpointAt(url) with { Credentials = new Amazon.Runtime.BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY") };
        var api = SnsApi.Create(endpoint);

        await api.PublishAsync("arn:aws:sns:us-east-1:123456789012:prod", "[NodeFleet prod west] Added 1", "Why: 1 pod & more", false, default);
        var request = await captured.WaitAsync(TimeSpan.FromSeconds(10));

        var ours = request.Authorization[(request.Authorization.IndexOf("Signature=", StringComparison.Ordinal) + 10)..];
        Assert.Equal(Botocore(url, request.Body, request.ContentType, request.Date, request.Sha), ours);
        Assert.Contains("Credential=AKIDEXAMPLE/", request.Authorization, StringComparison.Ordinal);
        Assert.Contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date", request.Authorization, StringComparison.Ordinal);
    }

    private static string Botocore(Uri url, string body, string contentType, string date, string sha)
    {
        var info = new ProcessStartInfo("python3", ["-c", Script]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var python = Process.Start(info)!;
        python.StandardInput.Write(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["url"] = url.ToString(), ["body"] = body, ["contentType"] = contentType, ["date"] = date, ["sha"] = sha,
        }));
        python.StandardInput.Close();
        var signature = python.StandardOutput.ReadToEnd().Trim();
        var error = python.StandardError.ReadToEnd();
        python.WaitForExit();
        return python.ExitCode == 0 ? signature : throw new InvalidOperationException("botocore failed: " + error);
    }
}
