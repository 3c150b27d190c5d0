// Each scenario group starts moto, Prometheus, the testbed and two hosts: one group at a time on 2 cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
