using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NodeFleet.Core.Errors;
using NodeFleet.Core.Serialization;

namespace NodeFleet.Hosting;

/// <summary>Reads a step's input and writes its output with source-generated contracts.</summary>
public static class StepJson
{
    /// <summary>Step Functions payloads are at most 256 KB; refuse more before parsing.</summary>
    public const int MaxPayloadBytes = 256 * 1024;

    /// <summary>
    /// Parses <paramref name="input"/>; any malformed, missing or mistyped field, a null in a list
    /// or a required member left null becomes <see cref="InvalidInputException"/> naming it
    /// (<see cref="ContractShape"/>), before the step does anything.
    /// </summary>
    public static async Task<T> ReadAsync<T>(Stream input, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        var bytes = await ReadPayloadAsync(input, cancellationToken).ConfigureAwait(false);
        T value;
        try
        {
            value = JsonSerializer.Deserialize(bytes.Span, typeInfo)
                ?? throw new InvalidInputException("Invalid input: the payload is JSON null (expected an object)");
        }
        catch (JsonException e)
        {
            throw Invalid(e);
        }

        var problems = ContractShape.Problems(value, typeInfo);
        return problems.Count == 0 ? value : throw InvalidInputException.For(problems);
    }

    private static async Task<ReadOnlyMemory<byte>> ReadPayloadAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var buffer = new MemoryStream();
        await input.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (buffer.Length == 0)
        {
            throw new InvalidInputException("Invalid input: the payload is empty (expected a JSON object)");
        }

        if (buffer.Length > MaxPayloadBytes)
        {
            throw new InvalidInputException($"Invalid input: the payload is {buffer.Length} bytes, above the Step Functions limit of 256 KB ({MaxPayloadBytes} bytes)");
        }

        return buffer.ToArray();
    }

    private static InvalidInputException Invalid(JsonException e)
    {
        var where = string.IsNullOrEmpty(e.Path) ? "" : $" at {e.Path}";
        return new InvalidInputException($"Invalid input{where}: {FirstSentence(e.Message)}", e);
    }

    public static Stream Write<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var output = new MemoryStream();
        JsonSerializer.Serialize(output, value, typeInfo);
        output.Position = 0;
        return output;
    }

    // System.Text.Json appends "Path: $.x | LineNumber: 0 | ..." to its messages; the path is reported separately.
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
