using System.Text;
using System.Text.Json;

namespace NodeFleet.Functions.Tests;

internal static class StreamJson
{
    public static Stream From(string json) => new MemoryStream(Encoding.UTF8.GetBytes(json));

    public static JsonElement Read(Stream output)
    {
        using var document = JsonDocument.Parse(output);
        return document.RootElement.Clone();
    }
}
