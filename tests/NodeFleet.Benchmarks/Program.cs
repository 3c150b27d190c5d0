using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// A moderate job: stable enough to compare sizes within one run on a 2-core machine, minutes not hours.
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(12).WithLaunchCount(1))
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(NodeFleet.Benchmarks.DecideScaleUpBenchmarks).Assembly).Run(args, config);
