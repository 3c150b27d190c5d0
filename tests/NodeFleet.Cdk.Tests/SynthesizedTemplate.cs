using System.Text.Json;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using NodeFleet.Cdk;

namespace NodeFleet.Cdk.Tests;

/// <summary>The stack synthesized once, in process, without bundling (assets are not the subject here).</summary>
public sealed class SynthesizedTemplate
{
    public SynthesizedTemplate()
    {
        (Stack, Template) = Synthesize(new Dictionary<string, object>());
        Json = JsonDocument.Parse(JsonSerializer.Serialize(Template.ToJSON())).RootElement.Clone();
    }

    public NodeFleetStack Stack { get; }
    public Template Template { get; }
    public JsonElement Json { get; }

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NodeFleet.sln")))
            {
                dir = dir.Parent;
            }

            return dir!.FullName;
        }
    }

    public static (NodeFleetStack, Template) Synthesize(IDictionary<string, object> context)
    {
        var app = new App(new AppProps
        {
            Context = new Dictionary<string, object>(context) { ["aws:cdk:bundling-stacks"] = Array.Empty<string>() },
        });
        var settings = DeploymentSettings.FromContext(app.Node);
        var stack = new NodeFleetStack(app, "Test", new NodeFleetStackProps
        {
            Settings = settings,
            RepositoryRoot = RepositoryRoot,
            Env = new Amazon.CDK.Environment { Account = "123456789012", Region = "us-east-1" },
        });
        return (stack, Template.FromStack(stack));
    }

    public IEnumerable<(string Id, JsonElement Resource)> Resources(string type) =>
        Json.GetProperty("Resources").EnumerateObject().Where(r => r.Value.GetProperty("Type").GetString() == type).Select(r => (r.Name, r.Value));
}

[CollectionDefinition(Name)]
public sealed class TemplateGroup : ICollectionFixture<SynthesizedTemplate>
{
    public const string Name = "template";
}
