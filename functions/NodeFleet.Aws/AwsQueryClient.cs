using System.Net;
using System.Xml;
using System.Xml.Linq;

namespace NodeFleet.Aws;

/// <summary>
/// The AWS Query protocol, for SNS Publish (SNS has no SDK package here): form-encoded POST, XML
/// response. Errors become the named exceptions of <see cref="AwsErrorClassifier"/>; transport
/// failures become <see cref="AwsUnavailableException"/> (<see cref="AwsCalls"/>); a body that is
/// not XML becomes <see cref="AwsMalformedResponseException"/>.
/// </summary>
public sealed class AwsQueryClient(HttpClient http, Uri endpoint, string service, string apiVersion)
{
    public async Task<XElement> CallAsync(string action, IEnumerable<KeyValuePair<string, string>> parameters, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>> { new("Action", action), new("Version", apiVersion) };
        form.AddRange(parameters);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
        request.Content.Headers.ContentType!.CharSet = "utf-8";

        var (response, body) = await AwsCalls.RunAsync(service, action, async () =>
        {
            var answer = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return (answer, await answer.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }, cancellationToken).ConfigureAwait(false);

        using (response)
        {
            var status = (int)response.StatusCode;
            var xml = Parse(body, status, action);
            if (response.IsSuccessStatusCode)
            {
                return xml ?? throw new AwsMalformedResponseException(service, $"{action} returned HTTP {status} with an empty body", status);
            }

            var error = xml?.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error");
            var code = Child(error, "Code");
            if (code is null)
            {
                throw status >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests
                    ? AwsErrorClassifier.Classify(service, status, $"Http{status}", $"{action} failed with HTTP {status}", null)
                    : new AwsMalformedResponseException(service, $"{action} failed with HTTP {status} and no error code", status);
            }

            var requestId = xml!.Descendants().FirstOrDefault(e => e.Name.LocalName is "RequestID" or "RequestId")?.Value;
            throw AwsErrorClassifier.Classify(service, status, code, Child(error, "Message") ?? "(no message)", requestId);
        }
    }

    private XElement? Parse(string body, int status, string action)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            return XElement.Parse(body);
        }
        catch (XmlException e)
        {
            if (status >= 500)
            {
                return null; // a proxy's HTML error page: classified by status above
            }

            throw new AwsMalformedResponseException(service, $"{action} returned HTTP {status} with a body that is not XML: {e.Message}", status, e);
        }
    }

    /// <summary>The text of the first direct child named <paramref name="name"/> (any namespace), or null.</summary>
    private static string? Child(XElement? parent, string name) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    /// <summary>The text of a required child; its absence is a malformed response, never a null.</summary>
    public string Required(XElement parent, string name, string context) =>
        Child(parent, name) ?? throw new AwsMalformedResponseException(service, $"{context}: <{name}> is missing", 200);
}
