using System.Net;
using System.Text;

namespace NodeFleet.Testbed;

/// <summary>A canned response the proxy returns instead of (or after) forwarding.</summary>
public sealed record Fault(int Status, string Body, bool ForwardFirst = false);

/// <summary>
/// An HTTP proxy on a loopback port in front of moto_server, which cannot return errors on
/// demand. A rule sees each request's parameters (the form of the Query and EC2 protocols; for
/// the JSON protocols only <c>Action</c>, the operation <c>X-Amz-Target</c> names) and may answer
/// with a fault instead; with <see cref="Fault.ForwardFirst"/> the request still reaches moto (its
/// effect happens) and the caller gets the fault, as when a response is lost.
/// Requests are handled one at a time, which also gives moto the atomicity of conditional
/// writes that DynamoDB guarantees and moto's threaded server does not. And it gives moto EC2's
/// idempotency, which moto lacks: a CreateFleet whose ClientToken already reached EC2 gets the
/// first answer again and launches nothing (the SDKs retry with the same token).
/// </summary>
public sealed class FaultProxy : IDisposable
{
    private readonly LoopbackHttpServer server;
    private readonly HttpClient upstream = new() { Timeout = TimeSpan.FromSeconds(8) };
    private readonly Uri target;
    private Func<IReadOnlyDictionary<string, string>, Fault?> rule;
    private readonly Dictionary<string, (int Status, string Body)> answeredTokens = new(StringComparer.Ordinal);

    public FaultProxy(Uri target, Func<IReadOnlyDictionary<string, string>, Fault?> rule)
    {
        this.target = target;
        this.rule = rule;
        server = new LoopbackHttpServer(HandleAsync);
    }

    public Uri Url => server.Url;

    /// <summary>Replaces the rule; requests already in flight keep the old one.</summary>
    public Func<IReadOnlyDictionary<string, string>, Fault?> Rule
    {
        get => rule;
        set => rule = value;
    }

    /// <summary>Every request's parameters, in order (retries of the SDKs included).</summary>
    public List<IReadOnlyDictionary<string, string>> Requests { get; } = [];

    private async Task HandleAsync(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var isForm = context.Request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal) == true;
        var form = (isForm ? body : "").Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");
        if (context.Request.Headers["X-Amz-Target"] is { } operation)
        {
            form["Action"] = operation[(operation.LastIndexOf('.') + 1)..];
        }

        lock (Requests)
        {
            Requests.Add(form);
        }

        var fault = rule(form);
        var token = form.GetValueOrDefault("Action") == "CreateFleet" ? form.GetValueOrDefault("ClientToken") : null;
        int status;
        string responseBody;
        if ((fault is null || fault.ForwardFirst) && token is not null && answeredTokens.TryGetValue(token, out var first))
        {
            (status, responseBody) = first;
        }
        else if (fault is null || fault.ForwardFirst)
        {
            using var forward = new HttpRequestMessage(new HttpMethod(context.Request.HttpMethod), new Uri(target, context.Request.RawUrl))
            {
                Content = new StringContent(body, Encoding.UTF8),
            };
            forward.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(context.Request.ContentType ?? "application/octet-stream");
            foreach (var name in context.Request.Headers.AllKeys.Where(k => k is not null && k.StartsWith("X-Amz", StringComparison.OrdinalIgnoreCase) || k == "Authorization"))
            {
                forward.Headers.TryAddWithoutValidation(name!, context.Request.Headers[name]);
            }

            using var response = await upstream.SendAsync(forward);
            status = (int)response.StatusCode;
            responseBody = await response.Content.ReadAsStringAsync();
            if (token is not null && response.IsSuccessStatusCode)
            {
                answeredTokens[token] = (status, responseBody);
            }
        }
        else
        {
            status = 0;
            responseBody = "";
        }

        if (fault is not null)
        {
            (status, responseBody) = (fault.Status, fault.Body);
        }

        var bytes = Encoding.UTF8.GetBytes(responseBody);
        context.Response.StatusCode = status;
        context.Response.ContentType = isForm ? "text/xml" : context.Request.ContentType ?? "application/x-amz-json-1.0";
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    /// <summary>A CreateFleet answer in which the spot pool had no capacity and nothing launched.</summary>
    public static string NoSpotCapacity() => """
        <?xml version="1.0" encoding="UTF-8"?>
        <CreateFleetResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><fleetId>fleet-x</fleetId>
        <errorSet><item><launchTemplateAndOverrides><overrides><instanceType>t3.large</instanceType><subnetId>subnet-a</subnetId></overrides></launchTemplateAndOverrides>
        <lifecycle>spot</lifecycle><errorCode>InsufficientInstanceCapacity</errorCode><errorMessage>There is no Spot capacity available that matches your request.</errorMessage></item></errorSet>
        <fleetInstanceSet/></CreateFleetResponse>
        """;

    /// <summary>The subnets a CreateFleet's overrides name (empty for any other request).</summary>
    public static IReadOnlyList<string> CreateFleetSubnets(IReadOnlyDictionary<string, string> form) =>
        form.GetValueOrDefault("Action") != "CreateFleet" ? [] : [.. form.Where(p => p.Key.StartsWith("LaunchTemplateConfigs.", StringComparison.Ordinal) && p.Key.EndsWith(".SubnetId", StringComparison.Ordinal)).Select(p => p.Value).Distinct()];

    /// <summary>
    /// A CreateFleet answer in which every pool the request names (each override's type and
    /// subnet, at the request's capacity type) had no capacity and nothing launched, as EC2 reports it.
    /// </summary>
    public static string NoCapacity(IReadOnlyDictionary<string, string> form)
    {
        ArgumentNullException.ThrowIfNull(form);
        var lifecycle = IsSpotCreateFleet(form) ? "spot" : "on-demand";
        var items = form.Where(p => p.Key.StartsWith("LaunchTemplateConfigs.", StringComparison.Ordinal) && p.Key.EndsWith(".InstanceType", StringComparison.Ordinal))
            .Select(p => (Type: p.Value, Subnet: form.GetValueOrDefault(p.Key[..^".InstanceType".Length] + ".SubnetId", "")))
            .Select(o => $"<item><launchTemplateAndOverrides><overrides><instanceType>{o.Type}</instanceType><subnetId>{o.Subnet}</subnetId></overrides></launchTemplateAndOverrides><lifecycle>{lifecycle}</lifecycle><errorCode>InsufficientInstanceCapacity</errorCode><errorMessage>We currently do not have sufficient {o.Type} capacity in the Availability Zone you requested.</errorMessage></item>");
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateFleetResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-1</requestId><fleetId>fleet-x</fleetId>"
            + $"<errorSet>{string.Concat(items)}</errorSet><fleetInstanceSet/></CreateFleetResponse>";
    }

    /// <summary>Whether a request is a CreateFleet asking for spot capacity.</summary>
    public static bool IsSpotCreateFleet(IReadOnlyDictionary<string, string> form) =>
        form.GetValueOrDefault("Action") == "CreateFleet" && form.GetValueOrDefault("TargetCapacitySpecification.SpotTargetCapacity") is { } s && s != "0";

    /// <summary>An error in the EC2 protocol's shape (XML: Response/Errors/Error with Code and Message, and RequestID).</summary>
    public static string Ec2Error(string code, string message) =>
        $"""<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>proxy-1</RequestID></Response>""";

    /// <summary>
    /// An error in the AWS JSON protocols' shape (DynamoDB, SSM): <c>__type</c> is the error shape's
    /// name, prefixed by its namespace as the services send it, and <c>message</c>.
    /// </summary>
    public static string JsonError(string type, string message) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = type, ["message"] = message });

    public void Dispose()
    {
        server.Dispose();
        upstream.Dispose();
    }
}
