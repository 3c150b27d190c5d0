using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.IAM;
using Constructs;
using NodeFleet.Core.Ports;
using NodeFleet.Core.Settings;

namespace NodeFleet.Cdk;

/// <summary>What the functions need to know about the cluster, whether NodeFleet created it or was pointed at it.</summary>
public interface IClusterResources
{
    IVpc Vpc { get; }

    /// <summary>The security group the cluster steps run in; the nodes accept the API and Prometheus from it.</summary>
    ISecurityGroup Functions { get; }

    /// <summary>NodeFleet's ServiceAccount token and the cluster CA, SecureString parameters the cluster steps read.</summary>
    SecureParameter KubeToken { get; }
    SecureParameter KubeCa { get; }
    string KubeApiUrl { get; }
    string PrometheusUrl { get; }
    string LaunchTemplateId { get; }
    string LaunchTemplateVersion { get; }

    /// <summary>The role the workers' instance profile carries (LaunchNodes passes it to EC2).</summary>
    string WorkerRoleArn { get; }

    /// <summary><c>zone=subnet-id</c> pairs for LaunchNodes.</summary>
    string WorkerSubnets { get; }

    /// <summary>The same subnets' ids, for LaunchNodes' IAM (it may launch into these only).</summary>
    IReadOnlyList<string> WorkerSubnetIds { get; }

    /// <summary>The master that runs Alertmanager for the fast path; null when NodeFleet did not create the cluster.</summary>
    IAlertingHost? AlertingHost { get; }
}

/// <summary>
/// An SSM Parameter Store SecureString (standard tier, encrypted with the aws/ssm key): its name,
/// which the code is given, and its ARN, which IAM grants on. CloudFormation cannot create
/// SecureStrings, so the master writes them; the stack only names them and grants their use.
/// </summary>
public sealed record SecureParameter(string Name, string Arn)
{
    public static SecureParameter Named(Stack stack, string name)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentNullException.ThrowIfNull(name);
        return new(name, stack.FormatArn(new ArnComponents { Service = "ssm", Resource = "parameter", ResourceName = name.TrimStart('/') }));
    }

    /// <summary>
    /// The KMS half of using a SecureString: <paramref name="actions"/> on a key only when SSM
    /// calls KMS on the caller's behalf (the aws/ssm key's own policy allows no more).
    /// </summary>
    public static PolicyStatement ViaSsm(Stack stack, params string[] actions)
    {
        ArgumentNullException.ThrowIfNull(stack);
        return new PolicyStatement(new PolicyStatementProps
        {
            Actions = actions,
            Resources = [stack.FormatArn(new ArnComponents { Service = "kms", Resource = "key", ResourceName = "*" })],
            Conditions = new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object> { ["kms:ViaService"] = $"ssm.{stack.Region}.amazonaws.com" },
            },
        });
    }
}

public sealed record ClusterProps
{
    public required DeploymentSettings Settings { get; init; }

    /// <summary>The repository root, where scripts/ holds the node user data.</summary>
    public required string RepositoryRoot { get; init; }
}

/// <summary>
/// The K3s cluster: a VPC with public subnets in two zones and no NAT gateway, the master, the
/// worker launch template, the security groups K3s needs, and the names of the SecureString
/// parameters that carry the workers' join token, NodeFleet's ServiceAccount token and the
/// cluster CA (the master writes all three; workers read only the join token).
/// The functions that reach the cluster run in this VPC and reach AWS through endpoints.
/// </summary>
public sealed class ClusterConstruct : Construct, IClusterResources, IAlertingHost
{
    public const int PrometheusNodePort = 30090;

    /// <summary>Alertmanager's port on the master's private address; no security group rule opens it.</summary>
    public const int AlertmanagerPort = 9093;

    /// <summary>
    /// IMDS answers one network hop: a node's own processes (and host-network pods) get a session
    /// token, a container's packets (one hop further, through the pod network) do not.
    /// </summary>
    public const int MetadataHopLimit = 1;

    /// <summary>
    /// NodeFleet's ServiceAccount token is a bound one (TokenRequest) that expires after this; the
    /// master renews it every <see cref="KubeTokenRefresh"/>, so a token the steps read stays valid
    /// for at least the difference, longer than they keep one (<c>KubernetesToken.ReadEvery</c>).
    /// </summary>
    public static readonly TimeSpan KubeTokenLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan KubeTokenRefresh = TimeSpan.FromHours(1);

    private MasterAlerting? installedAlerting;

    public ClusterConstruct(Construct scope, string id, ClusterProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;
        var cluster = settings.Scaling.ClusterName;

        var vpc = new Vpc(this, "Vpc", new VpcProps
        {
            MaxAzs = 2,
            NatGateways = 0,
            SubnetConfiguration = [new SubnetConfiguration { Name = "public", SubnetType = SubnetType.PUBLIC, CidrMask = 24 }],
        });
        Vpc = vpc;

        Nodes = new SecurityGroup(this, "NodesSecurityGroup", new SecurityGroupProps { Vpc = Vpc, Description = "K3s nodes: only what K3s needs between them", AllowAllOutbound = true });
        Nodes.AddIngressRule(Nodes, Port.Tcp(6443), "K3s API server");
        Nodes.AddIngressRule(Nodes, Port.Tcp(10250), "kubelet");
        Nodes.AddIngressRule(Nodes, Port.Udp(8472), "flannel VXLAN");
        Nodes.AddIngressRule(Nodes, Port.Tcp(9100), "node-exporter, scraped by Prometheus on the master");
        var functions = new SecurityGroup(this, "FunctionsSecurityGroup", new SecurityGroupProps { Vpc = Vpc, Description = "NodeFleet's cluster steps", AllowAllOutbound = true });
        Functions = functions;
        Nodes.AddIngressRule(functions, Port.Tcp(6443), "NodeFleet to the Kubernetes API");
        Nodes.AddIngressRule(functions, Port.Tcp(PrometheusNodePort), "NodeFleet to Prometheus");
        if (settings.SshCidr is { } ssh)
        {
            Nodes.AddIngressRule(Peer.Ipv4(ssh), Port.Tcp(22), "SSH from the operator's network");
        }

        AddEndpoints(this, Vpc, [(functions, "NodeFleet's cluster steps"), (Nodes, "the K3s nodes (join token, parameters)")], new SubnetSelection { SubnetType = SubnetType.PUBLIC, OnePerAz = true });

        var stack = Stack.Of(this);
        JoinToken = SecureParameter.Named(stack, ParameterName(cluster, "join-token"));
        KubeToken = SecureParameter.Named(stack, ParameterName(cluster, "kube-token"));
        KubeCa = SecureParameter.Named(stack, ParameterName(cluster, "kube-ca"));

        var masterRole = MasterRole = new Role(this, "MasterRole", new RoleProps { AssumedBy = new ServicePrincipal("ec2.amazonaws.com") });
        // The master writes the three parameters (the ServiceAccount token again on every rotation) and
        // deletes an earlier cluster's join token at boot, so that no worker joins with a stale one.
        masterRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps { Actions = ["ssm:PutParameter"], Resources = [JoinToken.Arn, KubeToken.Arn, KubeCa.Arn] }));
        masterRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps { Actions = ["ssm:DeleteParameter"], Resources = [JoinToken.Arn] }));
        masterRole.AddToPolicy(SecureParameter.ViaSsm(stack, "kms:Encrypt"));
        // A worker reads the join token once, at boot, with its instance's credentials from inside this
        // VPC (credentials carried elsewhere read nothing); its user data then closes IMDS to every
        // process but root, and no container reaches IMDS at all (hop limit 1).
        var workerRole = WorkerRole = new Role(this, "WorkerRole", new RoleProps { AssumedBy = new ServicePrincipal("ec2.amazonaws.com") });
        workerRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["ssm:GetParameter"],
            Resources = [JoinToken.Arn],
            Conditions = new Dictionary<string, object> { ["StringEquals"] = new Dictionary<string, object> { ["aws:ec2InstanceSourceVPC"] = vpc.VpcId } },
        }));
        workerRole.AddToPolicy(SecureParameter.ViaSsm(stack, "kms:Decrypt"));

        var image = MachineImage.LatestAmazonLinux2023();
        BlockDevice[] EncryptedRoot(int gib) =>
            [new BlockDevice { DeviceName = "/dev/xvda", Volume = BlockDeviceVolume.Ebs(gib, new EbsDeviceOptions { Encrypted = true, VolumeType = EbsDeviceVolumeType.GP3 }) }];
        var region = stack.Region;
        var master = new Instance_(this, "Master", new InstanceProps
        {
            Vpc = vpc,
            VpcSubnets = new SubnetSelection { SubnetType = SubnetType.PUBLIC },
            InstanceType = new InstanceType(settings.MasterInstanceType),
            MachineImage = image,
            SecurityGroup = Nodes,
            Role = masterRole,
            AssociatePublicIpAddress = true,
            BlockDevices = EncryptedRoot(30),
            // Rendered at synth: the fast path installs its alerting files after the state machine exists.
            UserData = UserData.Custom(Lazy.UncachedString(new Producer(() => Render(props.RepositoryRoot, "master-user-data.sh", new Dictionary<string, string>
            {
                ["__REGION__"] = region,
                ["__CLUSTER_NAME__"] = cluster,
                ["__JOIN_TOKEN_PARAMETER__"] = JoinToken.Name,
                ["__KUBE_TOKEN_PARAMETER__"] = KubeToken.Name,
                ["__KUBE_CA_PARAMETER__"] = KubeCa.Name,
                ["__K3S_VERSION__"] = settings.K3sVersion,
                ["__PROMETHEUS_NODE_PORT__"] = PrometheusNodePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["__ALERTMANAGER_PORT__"] = AlertmanagerPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["__KUBE_TOKEN_TTL__"] = $"{(int)KubeTokenLifetime.TotalHours}h",
                ["__KUBE_TOKEN_REFRESH__"] = $"{(int)KubeTokenRefresh.TotalMinutes}min",
                ["__PENDING_PODS_RULES__"] = Heredoc(Alerting.Rules, "NODEFLEET_RULES_EOF"),
                ["__ALERTMANAGER_CONFIG__"] = Heredoc(Alerting.AlertmanagerConfig, "NODEFLEET_ALERTMANAGER_EOF"),
            })))),
        });
        // IMDSv2 only, one hop: the master's own processes reach its role, containers (one hop further) do not.
        var masterMetadata = new LaunchTemplate(this, "MasterMetadata", new LaunchTemplateProps
        {
            HttpEndpoint = true,
            HttpTokens = LaunchTemplateHttpTokens.REQUIRED,
            HttpPutResponseHopLimit = MetadataHopLimit,
        });
        ((CfnInstance)master.Node.DefaultChild!).LaunchTemplate = new CfnInstance.LaunchTemplateSpecificationProperty
        {
            LaunchTemplateId = masterMetadata.LaunchTemplateId,
            Version = masterMetadata.LatestVersionNumber,
        };
        Amazon.CDK.Tags.Of(master).Add(FleetTags.Role, "master");
        Amazon.CDK.Tags.Of(master).Add("Name", $"{cluster}-master");
        KubeApiUrl = $"https://{master.InstancePrivateIp}:6443";
        PrometheusUrl = $"http://{master.InstancePrivateIp}:{PrometheusNodePort}";

        WorkerTemplate = new LaunchTemplate(this, "WorkerTemplate", new LaunchTemplateProps
        {
            MachineImage = image,
            SecurityGroup = Nodes,
            Role = workerRole,
            HttpEndpoint = true,
            HttpTokens = LaunchTemplateHttpTokens.REQUIRED,
            HttpPutResponseHopLimit = MetadataHopLimit,
            AssociatePublicIpAddress = true,
            BlockDevices = EncryptedRoot(30),
            UserData = UserData.Custom(Render(props.RepositoryRoot, "worker-user-data.sh", new Dictionary<string, string>
            {
                ["__REGION__"] = region,
                ["__CLUSTER_NAME__"] = cluster,
                ["__MASTER_URL__"] = KubeApiUrl,
                ["__JOIN_TOKEN_PARAMETER__"] = JoinToken.Name,
                ["__K3S_VERSION__"] = settings.K3sVersion,
                ["__NODE_LABELS__"] = SettingValue.FormatLabels(settings.Scaling.WorkerLabels),
                ["__NODE_TAINTS__"] = SettingValue.FormatTaints(settings.Scaling.WorkerTaints),
            })),
        });

        WorkerSubnets = Fn.Join(",", Vpc.PublicSubnets.Select(s => $"{s.AvailabilityZone}={s.SubnetId}").ToArray());
        WorkerSubnetIds = [.. Vpc.PublicSubnets.Select(s => s.SubnetId)];
    }

    /// <summary>The parameter a cluster's secret is kept in: <c>/nodefleet/CLUSTER/WHAT</c>.</summary>
    public static string ParameterName(string cluster, string what) => $"/nodefleet/{cluster}/{what}";

    /// <summary>
    /// Functions in the VPC have no route to the internet: DynamoDB through a (free) gateway
    /// endpoint, SSM (Parameter Store) through an interface endpoint in each zone (so that losing a
    /// zone does not cut the other zone's steps off their token; README: cost). Its private DNS
    /// name is SSM's for the whole VPC, so the nodes reach it too: it admits the given groups only.
    /// </summary>
    public static void AddEndpoints(Construct scope, IVpc vpc, IReadOnlyList<(ISecurityGroup Group, string Who)> clients, SubnetSelection endpointSubnets)
    {
        ArgumentNullException.ThrowIfNull(vpc);
        ArgumentNullException.ThrowIfNull(clients);
        vpc.AddGatewayEndpoint("DynamoDb", new GatewayVpcEndpointOptions { Service = GatewayVpcEndpointAwsService.DYNAMODB });
        var endpointSecurityGroup = new SecurityGroup(scope, "EndpointSecurityGroup", new SecurityGroupProps { Vpc = vpc, Description = "SSM (Parameter Store) endpoint", AllowAllOutbound = false });
        foreach (var (group, who) in clients)
        {
            endpointSecurityGroup.AddIngressRule(group, Port.Tcp(443), who);
        }

        vpc.AddInterfaceEndpoint("Ssm", new InterfaceVpcEndpointOptions
        {
            Service = InterfaceVpcEndpointAwsService.SSM,
            Subnets = endpointSubnets,
            SecurityGroups = [endpointSecurityGroup],
            Open = false, // CDK's default admits the whole VPC's CIDR on 443
            PrivateDnsEnabled = true,
        });
    }

    public IVpc Vpc { get; }
    public SecurityGroup Nodes { get; }
    public ISecurityGroup Functions { get; }
    public SecureParameter JoinToken { get; }
    public SecureParameter KubeToken { get; }
    public SecureParameter KubeCa { get; }
    public Role WorkerRole { get; }
    public LaunchTemplate WorkerTemplate { get; }
    public string KubeApiUrl { get; }
    public string PrometheusUrl { get; }
    public string WorkerSubnets { get; }
    public IReadOnlyList<string> WorkerSubnetIds { get; }
    public string LaunchTemplateId => WorkerTemplate.LaunchTemplateId!;
    public string LaunchTemplateVersion => WorkerTemplate.LatestVersionNumber;
    public string WorkerRoleArn => WorkerRole.RoleArn;
    public Role MasterRole { get; }
    IRole IAlertingHost.MasterRole => MasterRole;
    public IAlertingHost AlertingHost => this;

    private MasterAlerting Alerting => installedAlerting ?? throw new InvalidOperationException("the master's user data needs the fast path's alerting files: the stack composes a FastPathConstruct with this cluster as its host");

    public void InstallAlerting(MasterAlerting alerting)
    {
        ArgumentNullException.ThrowIfNull(alerting);
        installedAlerting = installedAlerting is null ? alerting : throw new InvalidOperationException("the master's alerting is installed once");
    }

    /// <summary>A file's text for a quoted heredoc in the user data (no expansion): it must not hold the delimiter's line.</summary>
    private static string Heredoc(string text, string delimiter) =>
        text.Split('\n').Any(line => line.TrimEnd('\r') == delimiter)
            ? throw new InvalidOperationException($"an alerting file holds the heredoc delimiter {delimiter}")
            : text.TrimEnd('\n');

    /// <summary>A value CDK asks for at synth, once every construct exists.</summary>
    // An IStringProducer rather than a stable one: across jsii, a stable producer's call fails
    // (the kernel tries to marshal the resolve context it passes anyway as JSON).
    private sealed class Producer(Func<string> produce) : Amazon.JSII.Runtime.Deputy.DeputyBase, IStringProducer
    {
        public string? Produce(IResolveContext context) => produce();
    }

    /// <summary>
    /// The script without its whole-line comments (shebangs kept): the repository's copy explains
    /// itself, the instance needs only the commands, and EC2 takes at most 16 KB of user data.
    /// </summary>
    public static string WithoutCommentLines(string script) =>
        string.Join('\n', script.Split('\n').Where(line => !System.Text.RegularExpressions.Regex.IsMatch(line, @"^\s*#(?!!)")));

    private static string Render(string root, string script, IReadOnlyDictionary<string, string> values)
    {
        var text = File.ReadAllText(Path.Combine(root, "scripts", script));
        foreach (var (key, value) in values)
        {
            text = text.Replace(key, value, StringComparison.Ordinal);
        }

        var left = System.Text.RegularExpressions.Regex.Match(text, "__[A-Z_]+__");
        return left.Success ? throw new InvalidOperationException($"scripts/{script}: {left.Value} has no value") : WithoutCommentLines(text);
    }
}
