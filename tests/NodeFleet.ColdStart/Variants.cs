using System.Reflection.PortableExecutable;

namespace NodeFleet.ColdStart;

/// <summary>How a variant's steps read their input: the typed requests of today, or the whole workflow state (before issue 10).</summary>
internal enum RequestShape
{
    StepRequests,
    WholeState,
}

/// <summary>One way of building and publishing the steps, measured side by side with the others.</summary>
internal sealed record Variant(string Name, string Description, string SourceRoot, IReadOnlyList<string> PublishProperties, RequestShape Shape)
{
    /// <summary>The commit whose functions were measured as "before" (the last one before issue 10 changed them).</summary>
    public const string BeforeCommit = "5808706d8d34acd7bd43a9ecbf25a256e118cbb4";

    public static readonly string[] Known = ["before", "il", "r2r", "r2r-k8saot"];

    /// <summary>The variant of that name; null for a name not in <see cref="Known"/>.</summary>
    public static Variant? Named(string name, string repository, string outRoot) => name switch
    {
        "before" => new(name, $"the functions of {BeforeCommit[..7]} (hand-written EC2 and Kubernetes clients, whole-state requests), plain dotnet publish",
            Path.Combine(outRoot, "before-src"), [], RequestShape.WholeState),
        "il" => new(name, "this tree, plain dotnet publish (-p:NodeFleetReadyToRun=false): IL only, JIT-compiled at run time",
            repository, ["-p:NodeFleetReadyToRun=false"], RequestShape.StepRequests),
        "r2r" => new(name, "this tree, published as the CDK app publishes it: ReadyToRun for linux-x64, framework-dependent",
            repository, [], RequestShape.StepRequests),
        "r2r-k8saot" => new(name, "as r2r, with KubernetesClient.Aot (source-generated JSON) instead of KubernetesClient",
            repository, ["-p:NodeFleetKubernetesClient=Aot"], RequestShape.StepRequests),
        _ => null,
    };

    public string PublishDirectory(string outRoot, string step) => Path.Combine(outRoot, "publish", Name, step);
}

internal static class Publishing
{
    /// <summary>
    /// The "before" sources: that commit's functions and build files, extracted with git archive
    /// (no worktree to register or clean up). The ReadyToRun props did not exist then.
    /// </summary>
    public static async Task ExtractBeforeAsync(string repository, string target, CancellationToken cancel)
    {
        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }

        Directory.CreateDirectory(target);
        var archive = Path.Combine(target, "before.tar");
        await Processes.RunAsync("git", ["-C", repository, "archive", "--format=tar", "-o", archive, Variant.BeforeCommit,
            "functions", "Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig"], cancel);
        await Processes.RunAsync("tar", ["-xf", archive, "-C", target], cancel);
        File.Delete(archive);
    }

    /// <summary>`dotnet publish STEP.csproj -c Release -o DIR`, as the CDK app runs it, plus the variant's properties.</summary>
    public static async Task PublishAsync(Variant variant, string step, string directory, CancellationToken cancel)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        var project = Path.Combine(variant.SourceRoot, "functions", step, $"NodeFleet.{step}.csproj");
        // No build servers: nothing this tool starts may outlive it.
        await Processes.RunAsync("dotnet", ["publish", project, "-c", "Release", "-o", directory, "--nologo", "-v", "q", "--disable-build-servers", .. variant.PublishProperties], cancel);
    }

    /// <summary>Whether the assembly carries precompiled code: a ReadyToRun image has a managed native header in its CLI header.</summary>
    public static bool IsReadyToRun(string assembly)
    {
        using var stream = File.OpenRead(assembly);
        using var pe = new PEReader(stream);
        return pe.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    public static long SizeBytes(string directory) => new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
}
