using NodeFleet.Core.Contracts;

namespace NodeFleet.Core.Policy;

/// <summary>
/// How the memory rules count memory. Memory cannot be throttled, and the scheduler places pods by
/// their requests: while the pods use no more memory than they request, the requests bound what a
/// worker can come to use, a pod that does not fit is unschedulable (and the pending-pods rule
/// launches for it), and packing pods by their requests is safe, as Cluster Autoscaler and Karpenter
/// pack. Memory in use then says nothing the requests do not, and reading it as "too full" adds
/// workers no pod moves to and keeps workers a repacking would free. Only when the pods use more
/// than they request (or it is unknown) does memory in use count: the scheduler cannot see it.
/// </summary>
public static class MemoryAccounting
{
    /// <summary>The pods used at most what they request on every worker over the scale-down window (known, not assumed).</summary>
    public static bool ByRequests(UtilizationMetrics utilization) => utilization.MemoryUseOfRequests is <= 1.0;
}
