#!/bin/bash
# NodeFleet K3s master: the control plane, Prometheus with node-exporter and kube-state-metrics,
# Alertmanager for the pending-pods fast path, and NodeFleet's ServiceAccount. It stores the workers' join (agent) token, that ServiceAccount's
# token and the cluster CA as SSM Parameter Store SecureStrings (encrypted with the aws/ssm key).
# No secret is ever a command's argument (any user can read every process' arguments): they pass
# through variables, the environment of the one command that needs them, and files only root reads.
# CDK renders this file: it fills in the upper-case placeholders below at synth time.
set -euo pipefail
exec > >(tee -a /var/log/nodefleet-master.log) 2>&1

REGION="__REGION__"
CLUSTER="__CLUSTER_NAME__"
JOIN_TOKEN_PARAMETER="__JOIN_TOKEN_PARAMETER__"
KUBE_TOKEN_PARAMETER="__KUBE_TOKEN_PARAMETER__"
KUBE_CA_PARAMETER="__KUBE_CA_PARAMETER__"
K3S_VERSION="__K3S_VERSION__"
PROMETHEUS_NODE_PORT="__PROMETHEUS_NODE_PORT__"
ALERTMANAGER_PORT="__ALERTMANAGER_PORT__"

imds() {
  local token
  token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -fsS -H "X-aws-ec2-metadata-token: ${token}" "http://169.254.169.254/latest/meta-data/$1"
}

ZONE=$(imds placement/availability-zone)
INSTANCE_ID=$(imds instance-id)
PRIVATE_IP=$(imds local-ipv4)

umask 077
install -d -m 0700 /etc/nodefleet

# Stores standard input as a SecureString parameter, replacing an earlier value of the same name.
# The request is a root-only file, so the value is never on a command line.
put_secure() {
  local request
  request=$(mktemp)
  python3 -c 'import json, sys; print(json.dumps({"Name": sys.argv[1], "Type": "SecureString", "Overwrite": True, "Value": sys.stdin.read().strip()}))' "$1" >"$request"
  aws ssm put-parameter --region "$REGION" --cli-input-json "file://${request}" >/dev/null
  rm -f "$request"
}

# IMDS (one hop: no container reaches it) answers only root, the boot script and the token
# rotation here, and Alertmanager's user, which publishes the fast path's alerts with this role.
# node-exporter and any other host-network pod get nothing.
ALERTMANAGER_UID=9093
dnf install -y -q nftables
nft -f - <<NFT
table inet nodefleet_imds {
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr 169.254.169.254 meta skuid != { 0, ${ALERTMANAGER_UID} } drop
  }
}
NFT

# An earlier cluster's join token must not outlive it: workers wait until this master stores its own.
aws ssm delete-parameter --region "$REGION" --name "$JOIN_TOKEN_PARAMETER" >/dev/null 2>&1 || true

# The workers join with K3s' agent token, never with the server token (which grants cluster admin
# and never leaves this node). K3s reads it from its environment file, not from its arguments.
JOIN_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# K3s pinned: the install script of the release's own tag (not get.k3s.io's latest), which fetches
# that release's binary and checks it against the release's sha256 sums before installing it.
curl -sfL "https://raw.githubusercontent.com/k3s-io/k3s/${K3S_VERSION//+/%2B}/install.sh" -o /etc/nodefleet/k3s-install.sh
# The control plane takes no ordinary workloads, so every workload pod lands on workers NodeFleet manages.
INSTALL_K3S_VERSION="$K3S_VERSION" K3S_AGENT_TOKEN="$JOIN_SECRET" sh /etc/nodefleet/k3s-install.sh server \
  --node-name "$(hostname -s)" \
  --kubelet-arg "provider-id=aws:///${ZONE}/${INSTANCE_ID}" \
  --node-taint "node-role.kubernetes.io/control-plane=true:NoSchedule" \
  --tls-san "$PRIVATE_IP" \
  --write-kubeconfig-mode 0600 \
  --disable traefik

export KUBECONFIG=/etc/rancher/k3s/k3s.yaml
until kubectl get --raw /readyz >/dev/null 2>&1; do sleep 3; done

# The workers' token in K3s' secure format: K10, the SHA-256 of the cluster CA as stored here, then
# the agent credentials. A joining worker checks the CA it is served against that hash before it
# sends the credentials, so its first contact is pinned to this cluster.
CA_HASH=$(sha256sum /var/lib/rancher/k3s/server/tls/server-ca.crt | cut -d' ' -f1)
JOIN_TOKEN="K10${CA_HASH}::node:${JOIN_SECRET}"
put_secure "$JOIN_TOKEN_PARAMETER" <<<"$JOIN_TOKEN"

# NodeFleet's identity: the narrow ClusterRole its steps need (README: "The ClusterRole").
kubectl apply -f - <<'YAML'
apiVersion: v1
kind: ServiceAccount
metadata: {name: nodefleet, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: nodefleet}
rules:
- {apiGroups: [""], resources: [nodes], verbs: [get, list, patch, delete]}
- {apiGroups: [""], resources: [pods], verbs: [list]}
- {apiGroups: [""], resources: [pods/eviction], verbs: [create]}
- {apiGroups: [policy], resources: [poddisruptionbudgets], verbs: [list]}
- {apiGroups: [""], resources: [persistentvolumeclaims, persistentvolumes], verbs: [list]}
- {apiGroups: [apps], resources: [daemonsets], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: nodefleet}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: nodefleet}
subjects: [{kind: ServiceAccount, name: nodefleet, namespace: kube-system}]
YAML

# The fast path: the pending-pods rule Prometheus evaluates and Alertmanager's config, both
# rendered by the CDK app from scripts/alerting/ (quoted heredocs: nothing in them is expanded).
# Kept on disk for the operator, and loaded as ConfigMaps before the pods that mount them start.
install -d -m 0755 /etc/nodefleet/alerting
cat > /etc/nodefleet/alerting/pending-pods.rules.yml <<'NODEFLEET_RULES_EOF'
__PENDING_PODS_RULES__
NODEFLEET_RULES_EOF
cat > /etc/nodefleet/alerting/alertmanager.yml <<'NODEFLEET_ALERTMANAGER_EOF'
__ALERTMANAGER_CONFIG__
NODEFLEET_ALERTMANAGER_EOF
kubectl create namespace monitoring --dry-run=client -o yaml | kubectl apply -f -
kubectl -n monitoring create configmap prometheus-rules --from-file=/etc/nodefleet/alerting/pending-pods.rules.yml --dry-run=client -o yaml | kubectl apply -f -
kubectl -n monitoring create configmap alertmanager --from-file=/etc/nodefleet/alerting/alertmanager.yml --dry-run=client -o yaml | kubectl apply -f -

# Monitoring: node-exporter on every node, kube-state-metrics with the label allowlist NodeFleet's
# queries read, Prometheus scraping both with a node label, exposed on a node port that only the
# functions' security group may reach. Alertmanager runs on the master's own network (hostNetwork)
# so that it alone signs with the instance role through IMDS: ordinary pods are one hop further
# away and IMDS answers one hop only. It listens on the private address, a port no security group
# rule opens, and keeps no cluster peers (no gossip port).
kubectl apply -f - <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: prometheus, namespace: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: nodefleet-prometheus}
rules:
- {apiGroups: [""], resources: [nodes, pods, endpoints, services], verbs: [get, list, watch]}
- {apiGroups: [""], resources: [nodes/proxy], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: nodefleet-prometheus}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: nodefleet-prometheus}
subjects: [{kind: ServiceAccount, name: prometheus, namespace: monitoring}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kube-state-metrics, namespace: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: nodefleet-kube-state-metrics}
rules:
- {apiGroups: [""], resources: [nodes, pods], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: nodefleet-kube-state-metrics}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: nodefleet-kube-state-metrics}
subjects: [{kind: ServiceAccount, name: kube-state-metrics, namespace: monitoring}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: monitoring}
spec:
  selector: {matchLabels: {app: node-exporter}}
  template:
    metadata: {labels: {app: node-exporter}}
    spec:
      hostNetwork: true
      hostPID: true
      tolerations: [{operator: Exists}]
      containers:
      - name: node-exporter
        image: quay.io/prometheus/node-exporter:v1.8.2
        args: [--path.rootfs=/host, --web.listen-address=:9100]
        volumeMounts: [{name: root, mountPath: /host, readOnly: true}]
        resources: {requests: {cpu: 20m, memory: 32Mi}}
      volumes: [{name: root, hostPath: {path: /}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kube-state-metrics, namespace: monitoring}
spec:
  replicas: 1
  selector: {matchLabels: {app: kube-state-metrics}}
  template:
    metadata: {labels: {app: kube-state-metrics}}
    spec:
      serviceAccountName: kube-state-metrics
      nodeSelector: {node-role.kubernetes.io/control-plane: "true"}
      tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
      containers:
      - name: kube-state-metrics
        image: registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0
        args:
        - --resources=nodes,pods
        - --metric-labels-allowlist=nodes=[nodefleet.io/managed,nodefleet.io/capacity-type,topology.kubernetes.io/zone,node.kubernetes.io/instance-type]
        resources: {requests: {cpu: 20m, memory: 64Mi}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: prometheus, namespace: monitoring}
data:
  prometheus.yml: |
    global: {scrape_interval: 15s}
    rule_files: [/etc/prometheus-rules/*.yml]
    alerting:
      alertmanagers: [{static_configs: [{targets: ['${PRIVATE_IP}:${ALERTMANAGER_PORT}']}]}]
    scrape_configs:
    - job_name: node-exporter
      kubernetes_sd_configs: [{role: pod, namespaces: {names: [monitoring]}}]
      relabel_configs:
      - {source_labels: [__meta_kubernetes_pod_label_app], regex: node-exporter, action: keep}
      - {source_labels: [__meta_kubernetes_pod_node_name], target_label: node}
      - {source_labels: [__address__], regex: '([^:]+)(:.*)?', replacement: '\$1:9100', target_label: __address__}
    - job_name: kube-state-metrics
      # The fast path's detection delay is at most one scrape plus one rule evaluation (10 s).
      scrape_interval: 15s
      kubernetes_sd_configs: [{role: pod, namespaces: {names: [monitoring]}}]
      relabel_configs:
      - {source_labels: [__meta_kubernetes_pod_label_app], regex: kube-state-metrics, action: keep}
      - {source_labels: [__address__], regex: '([^:]+)(:.*)?', replacement: '\$1:8080', target_label: __address__}
    # The pods' working set against their requests (memoryUseOfRequests): each kubelet's cAdvisor
    # through the API server's node proxy, with the node label NodeFleet's queries join on, and
    # only the one series family kept.
    - job_name: cadvisor
      scheme: https
      tls_config: {ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt}
      authorization: {credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token}
      kubernetes_sd_configs: [{role: node}]
      relabel_configs:
      - {target_label: __address__, replacement: kubernetes.default.svc:443}
      - {source_labels: [__meta_kubernetes_node_name], regex: '(.+)', replacement: '/api/v1/nodes/\$1/proxy/metrics/cadvisor', target_label: __metrics_path__}
      - {source_labels: [__meta_kubernetes_node_name], target_label: node}
      metric_relabel_configs:
      - {source_labels: [__name__], regex: container_memory_working_set_bytes, action: keep}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: prometheus, namespace: monitoring}
spec:
  replicas: 1
  selector: {matchLabels: {app: prometheus}}
  template:
    metadata: {labels: {app: prometheus}}
    spec:
      serviceAccountName: prometheus
      nodeSelector: {node-role.kubernetes.io/control-plane: "true"}
      tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
      containers:
      - name: prometheus
        image: quay.io/prometheus/prometheus:v2.54.1
        args: [--config.file=/etc/prometheus/prometheus.yml, --storage.tsdb.retention.time=2d]
        volumeMounts: [{name: config, mountPath: /etc/prometheus}, {name: rules, mountPath: /etc/prometheus-rules}]
        resources: {requests: {cpu: 100m, memory: 256Mi}}
      volumes: [{name: config, configMap: {name: prometheus}}, {name: rules, configMap: {name: prometheus-rules}}]
---
apiVersion: v1
kind: Service
metadata: {name: prometheus, namespace: monitoring}
spec:
  type: NodePort
  selector: {app: prometheus}
  ports: [{port: 9090, nodePort: ${PROMETHEUS_NODE_PORT}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: alertmanager, namespace: monitoring}
spec:
  replicas: 1
  strategy: {type: Recreate}  # a host port: the old pod must be gone before the new one binds it
  selector: {matchLabels: {app: alertmanager}}
  template:
    metadata: {labels: {app: alertmanager}}
    spec:
      hostNetwork: true
      automountServiceAccountToken: false
      # The one user besides root that IMDS answers here (the nftables rule above).
      securityContext: {runAsUser: ${ALERTMANAGER_UID}, runAsGroup: ${ALERTMANAGER_UID}, runAsNonRoot: true, fsGroup: ${ALERTMANAGER_UID}}
      nodeSelector: {node-role.kubernetes.io/control-plane: "true"}
      tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
      containers:
      - name: alertmanager
        image: quay.io/prometheus/alertmanager:v0.27.0
        args:
        - --config.file=/etc/alertmanager/alertmanager.yml
        - --storage.path=/alertmanager
        - --web.listen-address=${PRIVATE_IP}:${ALERTMANAGER_PORT}
        - --cluster.listen-address=
        volumeMounts: [{name: config, mountPath: /etc/alertmanager}, {name: data, mountPath: /alertmanager}]
        resources: {requests: {cpu: 10m, memory: 32Mi}}
      volumes: [{name: config, configMap: {name: alertmanager}}, {name: data, emptyDir: {}}]
YAML

# Hand NodeFleet the cluster CA and a bound, expiring ServiceAccount token (TokenRequest: valid
# __KUBE_TOKEN_TTL__, renewed every __KUBE_TOKEN_REFRESH__ by a timer), by name; they never appear in
# configuration. The cluster steps re-read the parameter, so a renewed token reaches them without a deploy.
put_secure "$KUBE_CA_PARAMETER" </var/lib/rancher/k3s/server/tls/server-ca.crt
cat >/usr/local/sbin/nodefleet-refresh-token <<REFRESH
#!/bin/bash
# Renews NodeFleet's ServiceAccount token into ${KUBE_TOKEN_PARAMETER} (the cluster steps read it there).
set -euo pipefail
umask 077
export KUBECONFIG=/etc/rancher/k3s/k3s.yaml
$(declare -f put_secure)
REGION="${REGION}"
kubectl -n kube-system create token nodefleet --duration=__KUBE_TOKEN_TTL__ | put_secure "${KUBE_TOKEN_PARAMETER}"
REFRESH
chmod 0700 /usr/local/sbin/nodefleet-refresh-token
cat >/etc/systemd/system/nodefleet-token.service <<'UNIT'
[Unit]
Description=Renew NodeFleet's ServiceAccount token in Parameter Store
After=k3s.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/nodefleet-refresh-token
UNIT
cat >/etc/systemd/system/nodefleet-token.timer <<'UNIT'
[Unit]
Description=Renew NodeFleet's ServiceAccount token every __KUBE_TOKEN_REFRESH__
[Timer]
OnBootSec=1min
OnUnitActiveSec=__KUBE_TOKEN_REFRESH__
[Install]
WantedBy=timers.target
UNIT
/usr/local/sbin/nodefleet-refresh-token
systemctl daemon-reload
systemctl enable --now nodefleet-token.timer
echo "NodeFleet master ready for cluster ${CLUSTER}"
