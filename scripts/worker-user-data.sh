#!/bin/bash
# NodeFleet worker: joins the K3s cluster as a node NodeFleet can map back to its instance.
# CDK renders this file: it fills in the upper-case placeholders below at synth time.
set -euo pipefail
exec > >(tee -a /var/log/nodefleet-worker.log) 2>&1

REGION="__REGION__"
CLUSTER="__CLUSTER_NAME__"
MASTER_URL="__MASTER_URL__"
JOIN_TOKEN_PARAMETER="__JOIN_TOKEN_PARAMETER__"
K3S_VERSION="__K3S_VERSION__"
# workerLabels and workerTaints, validated by NodeFleet's settings (label characters only); Decide's
# worker template assumes exactly these, so a pod selecting them is launched for.
NODE_LABELS="__NODE_LABELS__"
NODE_TAINTS="__NODE_TAINTS__"

# IMDSv2 only: every metadata read carries a session token.
imds() {
  local token
  token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -fsS -H "X-aws-ec2-metadata-token: ${token}" "http://169.254.169.254/latest/meta-data/$1"
}

ZONE=$(imds placement/availability-zone)
INSTANCE_ID=$(imds instance-id)
INSTANCE_TYPE=$(imds instance-type)
if [ "$(imds instance-life-cycle)" = "spot" ]; then CAPACITY=spot; else CAPACITY=on-demand; fi
NODE_NAME="$(hostname -s)"
extra=()
IFS=',' read -ra items <<< "$NODE_LABELS"
for label in "${items[@]}"; do [ -n "$label" ] && extra+=(--node-label "$label"); done
IFS=',' read -ra items <<< "$NODE_TAINTS"
for taint in "${items[@]}"; do [ -n "$taint" ] && extra+=(--node-taint "$taint"); done

# The join token is read once, at boot, from Parameter Store (the instance profile may read only that
# parameter, and only from inside the cluster's VPC). A worker launched while the master is still
# starting waits for the master to store this cluster's token: K3s' secure format (K10, the cluster
# CA's hash, the agent credentials), so the agent checks the server's CA before it sends them.
JOIN_TOKEN=""
until [[ "$JOIN_TOKEN" =~ ^K10[0-9a-f]{64}::node: ]]; do
  JOIN_TOKEN=$(aws ssm get-parameter --region "$REGION" --name "$JOIN_TOKEN_PARAMETER" --with-decryption --query Parameter.Value --output text 2>/dev/null) || JOIN_TOKEN=""
  [[ "$JOIN_TOKEN" =~ ^K10[0-9a-f]{64}::node: ]] || sleep 5
done

# From here on IMDS answers root only (K3s' own processes): no host-network pod or other user on
# this node can get the instance role's credentials, and no container can at all (hop limit 1).
dnf install -y -q nftables
nft -f - <<'NFT'
table inet nodefleet_imds {
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr 169.254.169.254 meta skuid != 0 drop
  }
}
NFT

# K3s pinned: the install script of the release's own tag, which fetches that release's binary and
# checks it against the release's sha256 sums. The token reaches K3s through its environment file.
umask 077
install -d -m 0700 /etc/nodefleet
curl -sfL "https://raw.githubusercontent.com/k3s-io/k3s/${K3S_VERSION//+/%2B}/install.sh" -o /etc/nodefleet/k3s-install.sh
# provider-id aws:///ZONE/INSTANCE is how NodeFleet maps a node to its EC2 instance (K3s' default,
# k3s://hostname, maps to nothing); the labels are what NodeFleet and kube-state-metrics read.
INSTALL_K3S_VERSION="$K3S_VERSION" K3S_URL="$MASTER_URL" K3S_TOKEN="$JOIN_TOKEN" sh /etc/nodefleet/k3s-install.sh agent \
  --node-name "$NODE_NAME" \
  --kubelet-arg "provider-id=aws:///${ZONE}/${INSTANCE_ID}" \
  --node-label "nodefleet.io/managed=true" \
  --node-label "nodefleet.io/cluster=${CLUSTER}" \
  --node-label "nodefleet.io/capacity-type=${CAPACITY}" \
  --node-label "topology.kubernetes.io/zone=${ZONE}" \
  --node-label "node.kubernetes.io/instance-type=${INSTANCE_TYPE}" \
  "${extra[@]}"
