using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;

// One cold start, the way the Lambda .NET managed runtime serves a first invocation: load the
// handler's assembly from the task folder (the step's publish folder), build its type with the
// public parameterless constructor (which reads the environment), call the handler method once
// with the request as a Stream, and hand back the response. The parent (NodeFleet.ColdStart)
// times this process from its start to the marker line on stderr.
//
//   NodeFleet.ColdStart.Runner HANDLER TASK_ROOT REQUEST_FILE RESPONSE_FILE
//
// HANDLER is assembly::type::method (functions/steps.json). Exit 0 with the response in
// RESPONSE_FILE, or 1 with {"errorType", "errorMessage"} there, as Lambda reports a failure.
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: NodeFleet.ColdStart.Runner HANDLER TASK_ROOT REQUEST_FILE RESPONSE_FILE");
    return 2;
}

var clock = Stopwatch.StartNew();
var (handler, taskRoot, requestFile, responseFile) = (args[0], args[1], args[2], args[3]);
var parts = handler.Split("::");
if (parts.Length != 3)
{
    Console.Error.WriteLine($"handler '{handler}' is not assembly::type::method");
    return 2;
}

// The step's deps.json puts its assemblies on the host's list; anything else it asks for is looked
// up in the task folder, where Lambda's runtime looks too.
AssemblyLoadContext.Default.Resolving += (context, name) =>
    Path.Combine(taskRoot, name.Name + ".dll") is var path && File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;

var request = await File.ReadAllBytesAsync(requestFile);
double initMs = 0;
try
{
    var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.GetFullPath(Path.Combine(taskRoot, parts[0] + ".dll")));
    var type = assembly.GetType(parts[1], throwOnError: true)!;
    var method = type.GetMethod(parts[2], [typeof(Stream)]) ?? throw new MissingMethodException(parts[1], parts[2]);
    var instance = Activator.CreateInstance(type);
    initMs = clock.Elapsed.TotalMilliseconds;
    using var input = new MemoryStream(request);
    await using var output = await (Task<Stream>)method.Invoke(instance, [input])!;
    await using (var file = File.Create(responseFile))
    {
        await output.CopyToAsync(file);
    }

    Report("ok", initMs, clock.Elapsed.TotalMilliseconds);
    return 0;
}
catch (Exception e)
{
    var error = e is TargetInvocationException or TypeInitializationException && e.InnerException is not null ? e.InnerException! : e;
    await File.WriteAllTextAsync(responseFile, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["errorType"] = error.GetType().Name,
        ["errorMessage"] = error.Message,
        ["stackTrace"] = error.StackTrace ?? "",
    }));
    Report("error", initMs, clock.Elapsed.TotalMilliseconds);
    return 1;
}

// The line the parent stops its clock at; the figures split this process's own time into
// loading and construction (init) and the invocation, give the CPU time the whole process used so
// far (all threads, the runtime's start included: what a fraction of a vCPU, as Lambda gives 512 MB,
// stretches), and say how much was JIT-compiled (what ReadyToRun saves: precompiled methods are
// not counted, their later tier-1 recompilations are).
static void Report(string outcome, double initMs, double totalMs) =>
    Console.Error.WriteLine(FormattableString.Invariant(
        $"nodefleet-coldstart {outcome} init={initMs:0.0} invoke={totalMs - initMs:0.0} cpu={Environment.CpuUsage.TotalTime.TotalMilliseconds:0.0} jitted={System.Runtime.JitInfo.GetCompiledMethodCount()} jitms={System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0.0}"));
