using System.Globalization;
using System.Text.Json;
using NodeFleet.Testbed;

namespace NodeFleet.EndToEnd.Tests;

/// <summary>
/// What must hold after every end-to-end run, whatever the scenario: one more tick first (what a
/// failure left, the next tick's reconcile cleans up), then EC2, the cluster and the state item are
/// held against each other. Scenarios call it last.
/// </summary>
public static class Invariants
{
    /// <summary>How old an instance may be without a Ready node: the join timeout, plus a tick to notice.</summary>
    private static readonly TimeSpan JoinDeadline = TimeSpan.FromSeconds(10) + TimeSpan.FromSeconds(5);

    /// <param name="forcedOut">Nodes a real spot interruption warning took: their pods may be lost when EC2 takes the instance.</param>
    /// <param name="killedBefore">Kills recorded before the scenario began (scenarios that share one cluster).</param>
    /// <param name="operatorCordons">Nodes the scenario itself cordoned (an operator's cordon is not NodeFleet's to lift).</param>
    public static void Check(LocalCloud cloud, string[]? forcedOut = null, int killedBefore = 0, int maxNodes = 10, params string[] operatorCordons)
    {
        ArgumentNullException.ThrowIfNull(cloud);
        // A K3s cluster always has its server node; the closing tick reads what Prometheus has scraped of the nodes.
        if (cloud.Model.Read((nodes, _, _) => !nodes.Any(n => n.Labels.ContainsKey("node-role.kubernetes.io/control-plane"))))
        {
            cloud.Model.Add(TestNode.ControlPlane());
        }

        cloud.WaitForAsync("count(kube_node_info)", () => cloud.Model.Read((nodes, _, _) => nodes.Count), TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        var tick = cloud.Run(new Dictionary<string, object>());
        var problems = new List<string>();
        if (tick.GetProperty("status").GetString() != "SUCCEEDED")
        {
            problems.Add($"the closing tick did not succeed: {tick.GetRawText()}");
        }

        var instances = Describe(cloud);
        var managed = instances.Where(i => i.Managed && i.State is "pending" or "running").ToList();
        var nodes = cloud.Model.Read((n, _, _) => n.Select(x => (x.Name, x.ProviderId, x.Ready, x.Unschedulable, Managed: x.Labels.GetValueOrDefault("nodefleet.io/managed") == "true",
            Master: x.Labels.ContainsKey("node-role.kubernetes.io/control-plane"), Mark: NodeFleet.Core.Contracts.CordonMark.FromAnnotations(x.Annotations))).ToList());

        // No running managed instance without a Ready node past the join deadline (no orphan).
        foreach (var instance in managed.Where(i => DateTimeOffset.UtcNow - i.LaunchedAt > JoinDeadline))
        {
            if (!nodes.Any(n => n.Ready && (n.ProviderId ?? "").EndsWith("/" + instance.Id, StringComparison.Ordinal)))
            {
                problems.Add($"orphan: {instance.Id} has run for {(DateTimeOffset.UtcNow - instance.LaunchedAt).TotalSeconds:0} s without a Ready node");
            }
        }

        // No Node object without a live instance (no ghost).
        foreach (var node in nodes.Where(n => n.Managed && (n.ProviderId ?? "").StartsWith("aws:///", StringComparison.Ordinal)))
        {
            if (!managed.Any(i => node.ProviderId!.EndsWith("/" + i.Id, StringComparison.Ordinal)))
            {
                problems.Add($"ghost: node {node.Name} has no live instance");
            }
        }

        // No node left cordoned by NodeFleet: the closing tick held the lease, so no drain is live now.
        // Kept on purpose: a node awaiting its spot warning, and an interrupted one within the warning's two minutes.
        foreach (var node in nodes.Where(n => n.Managed && n.Unschedulable && !operatorCordons.Contains(n.Name)))
        {
            var kept = node.Mark is { Reason: NodeFleet.Core.Contracts.CordonReason.AwaitingInterruption }
                || node.Mark is { Reason: NodeFleet.Core.Contracts.CordonReason.Interruption } mark && DateTimeOffset.UtcNow - mark.At < NodeFleet.Core.Contracts.InterruptionNotice.SpotWarning;
            if (!kept)
            {
                problems.Add($"stray cordon: {node.Name} is cordoned ({(node.Mark is { } m ? $"by {m.ExecutionId}, {m.Reason}" : "without NodeFleet's mark")}) with no drain running");
            }
        }

        // No pod killed before its grace period, unless the real interruption warning forced it.
        foreach (var killed in cloud.Model.KilledEarly.Skip(killedBefore).Where(k => forcedOut?.Contains(k.Node) != true))
        {
            problems.Add($"killed early: {killed}");
        }

        if (managed.Count > maxNodes)
        {
            problems.Add($"maximum crossed: {managed.Count} managed instances, maxNodes {maxNodes}");
        }

        // The master and every instance that is not a managed worker are untouched.
        if (nodes.Where(n => n.Master).ToList() is var masters && masters.Any(m => m.Unschedulable))
        {
            problems.Add("the master was cordoned");
        }

        foreach (var other in instances.Where(i => !i.Managed && i.State is "shutting-down" or "terminated" or "stopping" or "stopped"))
        {
            problems.Add($"an instance that is not a managed worker was stopped or terminated: {other.Id} ({other.State})");
        }

        var item = cloud.StateItem();
        // A lease a dead execution left is harmless once expired (the next acting tick takes it over); a live one is not.
        if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("leaseOwner", out var owner)
            && item.TryGetProperty("leaseExpiresAt", out var expires)
            && DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(expires.GetProperty("N").GetString()!, CultureInfo.InvariantCulture)) > DateTimeOffset.UtcNow)
        {
            problems.Add($"a lease is still held by {owner.GetProperty("S").GetString()}");
        }

        Assert.True(problems.Count == 0, "invariants broken after the run:\n" + string.Join("\n", problems));
    }

    private static List<(string Id, string State, bool Managed, DateTimeOffset LaunchedAt)> Describe(LocalCloud cloud) =>
        cloud.Aws("ec2", "describe-instances")
            .GetProperty("Reservations").EnumerateArray().SelectMany(r => r.GetProperty("Instances").EnumerateArray())
            .Select(i => (
                i.GetProperty("InstanceId").GetString()!,
                i.GetProperty("State").GetProperty("Name").GetString()!,
                i.TryGetProperty("Tags", out var tags) && tags.EnumerateArray().Any(t => t.GetProperty("Key").GetString() == "nodefleet.io/managed" && t.GetProperty("Value").GetString() == "true")
                    && tags.EnumerateArray().Any(t => t.GetProperty("Key").GetString() == "nodefleet.io/cluster" && t.GetProperty("Value").GetString() == LocalEnvironment.Cluster),
                DateTimeOffset.Parse(i.GetProperty("LaunchTime").GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
}
