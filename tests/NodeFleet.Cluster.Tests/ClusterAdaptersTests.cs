using NodeFleet.Core.Ports;
using NodeFleet.Testbed;
using NSubstitute;

namespace NodeFleet.Cluster.Tests;

/// <summary>How the cluster steps get the API's token and CA: by parameter name from Parameter Store, or from files.</summary>
public sealed class ClusterAdaptersTests : IAsyncLifetime
{
    private KubeApiServer server = null!;

    public async Task InitializeAsync()
    {
        var cluster = new ClusterModel();
        cluster.Add(new TestNode { Name = "w1", ProviderId = "aws:///us-east-1a/i-0aaa1", Labels = { ["nodefleet.io/managed"] = "true" } });
        server = await KubeApiServer.StartAsync(cluster);
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task KubernetesAsync_TokenAndCaFromParameters_ReadsThemByNameAndReachesTheApi()
    {
        var parameters = Substitute.For<ISecureParameters>();
        parameters.GetAsync("/nodefleet/prod/kube-token", Arg.Any<CancellationToken>()).Returns(KubeApiServer.AdminToken + "\n");
        parameters.GetAsync("/nodefleet/prod/kube-ca", Arg.Any<CancellationToken>()).Returns(server.Certificates.AuthorityPem);
        var settings = new ClusterSettings { KubeApiUrl = server.Url, TokenParameter = "/nodefleet/prod/kube-token", CaParameter = "/nodefleet/prod/kube-ca" };

        var api = await ClusterAdapters.KubernetesAsync(settings, parameters, default);

        Assert.Equal(["w1"], (await api.ListNodesAsync(null, default)).Select(n => n.Name));
    }

    [Fact]
    public async Task KubernetesAsync_ParameterNeededButNoParameterStore_IsRefused()
    {
        var settings = new ClusterSettings { KubeApiUrl = server.Url, TokenParameter = "/nodefleet/prod/kube-token", CaFile = "/tmp/ca.pem" };

        await Assert.ThrowsAsync<InvalidOperationException>(() => ClusterAdapters.KubernetesAsync(settings, null, default));
    }
    /// <summary>The master renews a bound token hourly: a long-lived Lambda environment must pick the new one up without a deploy.</summary>
    [Fact]
    public async Task KubernetesAsync_TokenRenewedInTheParameter_IsReadAgainAfterReadEvery()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));
        var parameters = Substitute.For<ISecureParameters>();
        parameters.GetAsync("/nodefleet/prod/kube-token", Arg.Any<CancellationToken>()).Returns("expired-token", KubeApiServer.AdminToken);
        parameters.GetAsync("/nodefleet/prod/kube-ca", Arg.Any<CancellationToken>()).Returns(server.Certificates.AuthorityPem);
        var settings = new ClusterSettings { KubeApiUrl = server.Url, TokenParameter = "/nodefleet/prod/kube-token", CaParameter = "/nodefleet/prod/kube-ca" };
        var api = await ClusterAdapters.KubernetesAsync(settings, parameters, default, clock);
        await Assert.ThrowsAnyAsync<Exception>(() => api.ListNodesAsync(null, default)); // the server refuses the old token

        clock.Advance(Kubernetes.KubernetesToken.ReadEvery);
        var nodes = await api.ListNodesAsync(null, default);

        Assert.Equal(["w1"], nodes.Select(n => n.Name));
        await parameters.Received(2).GetAsync("/nodefleet/prod/kube-token", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task KubernetesAsync_TokenReadFailsLater_KeepsTheTokenInHand()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));
        var parameters = Substitute.For<ISecureParameters>();
        parameters.GetAsync("/nodefleet/prod/kube-token", Arg.Any<CancellationToken>()).Returns(KubeApiServer.AdminToken, "");
        parameters.GetAsync("/nodefleet/prod/kube-ca", Arg.Any<CancellationToken>()).Returns(server.Certificates.AuthorityPem);
        var settings = new ClusterSettings { KubeApiUrl = server.Url, TokenParameter = "/nodefleet/prod/kube-token", CaParameter = "/nodefleet/prod/kube-ca" };
        var api = await ClusterAdapters.KubernetesAsync(settings, parameters, default, clock);

        clock.Advance(Kubernetes.KubernetesToken.ReadEvery);
        var nodes = await api.ListNodesAsync(null, default);

        Assert.Equal(["w1"], nodes.Select(n => n.Name));
    }
}
