// The CDK's jsii runtime serves one request at a time: tests that synthesize must not run concurrently.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
