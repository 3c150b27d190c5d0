using Amazon.CDK;
using NodeFleet.Cdk;
using NodeFleet.Core.Settings;

var app = new App();
DeploymentSettings settings;
try
{
    settings = DeploymentSettings.FromContext(app.Node);
}
catch (InvalidSettingsException e)
{
    // A settings mistake is the operator's to fix: say which keys, without a stack trace.
    Console.Error.WriteLine("NodeFleet cannot synthesize: invalid cdk.json context (nodefleet:*)");
    foreach (var error in e.Errors)
    {
        Console.Error.WriteLine("  - " + error);
    }

    return 1;
}

_ = new NodeFleetStack(app, settings.StackName, new NodeFleetStackProps
{
    Settings = settings,
    RepositoryRoot = RepositoryRoot(),
    Description = $"NodeFleet autoscaler for the K3s cluster '{settings.Scaling.ClusterName}'",
    Env = new Amazon.CDK.Environment
    {
        Account = System.Environment.GetEnvironmentVariable("CDK_DEFAULT_ACCOUNT"),
        Region = System.Environment.GetEnvironmentVariable("CDK_DEFAULT_REGION"),
    },
});
app.Synth();
return 0;

// cdk.json runs the app from the repository root; tests may run it from elsewhere.
static string RepositoryRoot()
{
    var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NodeFleet.sln")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? throw new InvalidOperationException("NodeFleet.sln not found above the working directory: run from the repository");
}
