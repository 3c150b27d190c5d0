using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodeFleet.Core.Workflow;

// Serves POST /invoke/STEP with the step's input as the body, and answers with its output, or with
// 500 and {"errorType", "errorMessage", "stackTrace"} as Lambda reports a failed invocation (the error type is
// the exception's class name, which the state machine's Retry and Catch match).
//
// Each handler is built once, with its public parameterless constructor, from this process's
// environment variables, the way the Lambda runtime builds it: the same code path as in AWS.
var port = int.TryParse(Environment.GetEnvironmentVariable("NODEFLEET_LOCALHOST_PORT"), out var p) ? p : 0;
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
var app = builder.Build();
var handlers = new Dictionary<string, Lazy<Func<Stream, Task<Stream>>>>();
foreach (var step in StepCatalog.All)
{
    handlers[step.Name] = new Lazy<Func<Stream, Task<Stream>>>(() => Create(step.Name));
}

app.MapPost("/invoke/{step}", async (HttpContext context, string step) =>
{
    if (!handlers.TryGetValue(step, out var handler))
    {
        return Results.Json(new JsonObject { ["errorType"] = "UnknownStep", ["errorMessage"] = $"no step named {step}" }, statusCode: 404);
    }

    using var input = new MemoryStream();
    await context.Request.Body.CopyToAsync(input);
    input.Position = 0;
    try
    {
        using var output = await handler.Value(input);
        using var reader = new StreamReader(output);
        return Results.Text(await reader.ReadToEndAsync(), "application/json");
    }
    catch (Exception e)
    {
        var error = e is TypeInitializationException or System.Reflection.TargetInvocationException && e.InnerException is not null ? e.InnerException : e;
        if (handler.IsValueCreated is false)
        {
            handlers[step] = new Lazy<Func<Stream, Task<Stream>>>(() => Create(step)); // a failed construction is retried next time
        }

        // The shape the Lambda .NET runtime reports a failed invocation in (and Step Functions puts in a Catch's Cause).
        var stackTrace = new JsonArray([.. (error.StackTrace ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => JsonValue.Create(l))]);
        return Results.Json(new JsonObject { ["errorType"] = error.GetType().Name, ["errorMessage"] = error.Message, ["stackTrace"] = stackTrace }, statusCode: 500);
    }
});
app.MapGet("/health", () => "ok");
await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"listening on {address}");
var stopped = new TaskCompletionSource();
app.Lifetime.ApplicationStopping.Register(() => stopped.TrySetResult());
await stopped.Task;
await app.StopAsync();

// As the Lambda runtime does: the handler string names the assembly, the type (built with its
// public parameterless constructor) and the method; a wrong handler in steps.json fails here too.
static Func<Stream, Task<Stream>> Create(string step)
{
    var parts = StepCatalog.Get(step).Handler.Split("::");
    var type = Assembly.Load(parts[0]).GetType(parts[1], throwOnError: true)!;
    var method = type.GetMethod(parts[2], [typeof(Stream)]) ?? throw new MissingMethodException(parts[1], parts[2]);
    var instance = Activator.CreateInstance(type);
    return input => (Task<Stream>)method.Invoke(instance, [input])!;
}
