using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NodeFleet.Aws;

/// <summary>
/// The AWS JSON 1.1 protocol, for Secrets Manager GetSecretValue (no SDK package here): POST with
/// X-Amz-Target, JSON both ways; transport failures are named as in <see cref="AwsCalls"/>.
/// </summary>
public sealed class AwsJsonClient(HttpClient http, Uri endpoint, string service, string targetPrefix)
{
    public async Task<JsonObject> CallAsync(string operation, JsonObject body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", $"{targetPrefix}.{operation}");
        var (response, text) = await AwsCalls.RunAsync(service, operation, async () =>
        {
            var answer = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return (answer, await answer.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }, cancellationToken).ConfigureAwait(false);

        using (response)
        {
            var status = (int)response.StatusCode;
            JsonObject? json;
            try
            {
                json = string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text) as JsonObject;
            }
            catch (JsonException e)
            {
                throw status >= 500
                    ? AwsErrorClassifier.Classify(service, status, $"Http{status}", $"{operation} failed with HTTP {status}", null)
                    : new AwsMalformedResponseException(service, $"{operation} returned HTTP {status} with a body that is not JSON: {e.Message}", status, e);
            }

            if (response.IsSuccessStatusCode)
            {
                return json ?? throw new AwsMalformedResponseException(service, $"{operation} returned HTTP {status} without a JSON object", status);
            }

            // "__type" may carry a namespace prefix: "com.amazonaws...#ResourceNotFoundException".
            var type = json?["__type"]?.GetValue<string>() ?? $"Http{status}";
            var code = type[(type.LastIndexOf('#') + 1)..];
            var message = (json?["message"] ?? json?["Message"])?.GetValue<string>() ?? "(no message)";
            throw AwsErrorClassifier.Classify(service, status, code, message, response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.FirstOrDefault() : null);
        }
    }
}
