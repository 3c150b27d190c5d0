using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.SQS;
using Amazon.SQS.Model;
using NodeFleet.Core.Contracts;

namespace NodeFleet.Testbed;

/// <summary>One execution the local Pipe started: when, from which SQS message, with which input, and how it ended.</summary>
public sealed record PipeExecution(DateTimeOffset StartedAt, string MessageBody, string Input, Task<JsonElement> Run);

/// <summary>
/// The EventBridge Pipe of the fast path, on loopback: it long-polls the alerts queue (batch size 1,
/// as the stack's Pipe), drops what <see cref="FastPath.PipeFilterPattern"/> drops, renders
/// <see cref="FastPath.PipeInputTemplate"/>, and starts the state machine with the one-element
/// array the Pipe's Step Functions target receives; the message is deleted once the execution has
/// started (StartExecution of a Standard workflow returns at once, and so the Pipe deletes then).
/// </summary>
public sealed class LocalPipe : IAsyncDisposable
{
    private readonly IAmazonSQS sqs;
    private readonly string queueUrl;
    private readonly Func<string, Task<JsonElement>> start;
    private readonly TimeProvider clock;
    private readonly CancellationTokenSource stop = new();
    private readonly List<PipeExecution> executions = [];
    private readonly List<string> dropped = [];
    private readonly List<string> errors = [];
    private readonly Task loop;

    /// <param name="start">Starts one execution with the given input (JSON text) and completes with the runner's report.</param>
    public LocalPipe(IAmazonSQS sqs, string queueUrl, Func<string, Task<JsonElement>> start, TimeProvider? clock = null)
    {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.start = start;
        this.clock = clock ?? TimeProvider.System;
        loop = Task.Run(PollAsync);
    }

    /// <summary>Every execution started so far, oldest first.</summary>
    public IReadOnlyList<PipeExecution> Executions
    {
        get
        {
            lock (executions)
            {
                return [.. executions];
            }
        }
    }

    /// <summary>Message bodies the filter dropped.</summary>
    public IReadOnlyList<string> Dropped
    {
        get
        {
            lock (executions)
            {
                return [.. dropped];
            }
        }
    }

    /// <summary>Errors met while polling (the Pipe retries them); a test may show them when something did not arrive.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (executions)
            {
                return [.. errors];
            }
        }
    }

    /// <summary>Until every execution started so far has ended.</summary>
    public async Task IdleAsync()
    {
        await Task.WhenAll(Executions.Select(e => e.Run)).ConfigureAwait(false);
    }

    private async Task PollAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            ReceiveMessageResponse received;
            try
            {
                // Long polling, as Pipes does; short enough that disposing does not wait long.
                received = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = queueUrl, MaxNumberOfMessages = 1, WaitTimeSeconds = 2 }, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is AmazonSQSException or HttpRequestException or Amazon.Runtime.AmazonClientException)
            {
                lock (executions)
                {
                    errors.Add(e.Message);
                }

                await Task.Delay(500).ConfigureAwait(false);
                continue;
            }

            foreach (var message in received.Messages ?? [])
            {
                Deliver(message.Body);
                await sqs.DeleteMessageAsync(queueUrl, message.ReceiptHandle).ConfigureAwait(false);
            }
        }
    }

    /// <summary>What the Pipe does with one message body: filter, render, start.</summary>
    private void Deliver(string body)
    {
        var pipeEvent = PipeEvent(body);
        if (!PipeFilter.Matches(FastPath.PipeFilterPattern, pipeEvent))
        {
            lock (executions)
            {
                dropped.Add(body);
            }

            return;
        }

        var now = clock.GetUtcNow();
        // The Pipe's Step Functions target receives the batch: an array, here of the one rendered event.
        var input = "[" + PipeTemplate.Render(FastPath.PipeInputTemplate, pipeEvent, now) + "]";
        var run = start(input);
        lock (executions)
        {
            executions.Add(new PipeExecution(now, body, input, run));
        }
    }

    /// <summary>The event a Pipe sees for an SQS message: its body is parsed when it is JSON, else kept as a string.</summary>
    public static JsonElement PipeEvent(string body)
    {
        JsonElement parsed;
        try
        {
            parsed = JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException)
        {
            parsed = JsonSerializer.SerializeToElement(body);
        }

        return JsonSerializer.SerializeToElement(new Dictionary<string, JsonElement> { ["body"] = parsed });
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        stop.Dispose();
    }
}

/// <summary>
/// EventBridge's event filter as far as the fast path uses it: nested field names down to an array
/// of matchers, each a literal (string, number) or a <c>numeric</c> comparison; every field must
/// match, a field missing or of another type does not. Anything else is refused, not guessed.
/// </summary>
public static class PipeFilter
{
    public static bool Matches(string pattern, JsonElement pipeEvent)
    {
        using var document = JsonDocument.Parse(pattern);
        return Matches(document.RootElement, pipeEvent);
    }

    private static bool Matches(JsonElement pattern, JsonElement value)
    {
        if (pattern.ValueKind != JsonValueKind.Object)
        {
            throw new NotSupportedException($"a filter pattern is an object of fields, not {pattern.ValueKind}");
        }

        foreach (var field in pattern.EnumerateObject())
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(field.Name, out var inner))
            {
                return false;
            }

            var matches = field.Value.ValueKind switch
            {
                JsonValueKind.Object => Matches(field.Value, inner),
                JsonValueKind.Array => field.Value.EnumerateArray().Any(m => Matcher(m, inner)),
                _ => throw new NotSupportedException($"field '{field.Name}' of a filter pattern must be an object or an array of matchers"),
            };
            if (!matches)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Matcher(JsonElement matcher, JsonElement value) => matcher.ValueKind switch
    {
        JsonValueKind.String => value.ValueKind == JsonValueKind.String && value.GetString() == matcher.GetString(),
        JsonValueKind.Number => value.ValueKind == JsonValueKind.Number && value.GetDouble() == matcher.GetDouble(),
        JsonValueKind.Object when matcher.TryGetProperty("numeric", out var numeric) && matcher.EnumerateObject().Count() == 1 => Numeric(numeric, value),
        _ => throw new NotSupportedException($"the local Pipe implements literal and numeric matchers only, not {matcher.GetRawText()}"),
    };

    /// <summary>A numeric matcher: one or two (operator, number) pairs, all of which must hold; only numbers match.</summary>
    private static bool Numeric(JsonElement comparisons, JsonElement value)
    {
        var terms = comparisons.EnumerateArray().ToList();
        if (terms.Count is not (2 or 4))
        {
            throw new NotSupportedException($"a numeric matcher holds one or two comparisons: {comparisons.GetRawText()}");
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        var number = value.GetDouble();
        for (var i = 0; i < terms.Count; i += 2)
        {
            var bound = terms[i + 1].GetDouble();
            var holds = terms[i].GetString() switch
            {
                ">" => number > bound,
                ">=" => number >= bound,
                "<" => number < bound,
                "<=" => number <= bound,
                "=" => number == bound,
                var op => throw new NotSupportedException($"numeric operator '{op}'"),
            };
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// A Pipe's input template: <c>&lt;aws.pipes.event.ingestion-time&gt;</c> is the time the Pipe read
/// the message (ISO 8601, UTC, milliseconds), <c>&lt;$.path&gt;</c> the event's value at that path as
/// JSON (the message body, parsed). Any other placeholder is refused.
/// </summary>
public static partial class PipeTemplate
{
    [GeneratedRegex(@"<(aws\.pipes\.[a-z.\-]+|\$(?:\.[A-Za-z0-9_\-]+)+)>")]
    private static partial Regex Placeholder();

    public static string Render(string template, JsonElement pipeEvent, DateTimeOffset ingestedAt) =>
        Placeholder().Replace(template, match => match.Groups[1].Value switch
        {
            "aws.pipes.event.ingestion-time" => ingestedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            var path when path.StartsWith('$') => path[2..].Split('.').Aggregate(pipeEvent, (node, name) =>
                node.ValueKind == JsonValueKind.Object && node.TryGetProperty(name, out var next) ? next : throw new KeyNotFoundException($"the event has no {path}")).GetRawText(),
            var other => throw new NotSupportedException($"placeholder <{other}>"),
        });
}
