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

# The join token is read at boot from Parameter Store (the instance profile may read only that
# parameter). A worker launched while the master is still starting waits for the master to store it.
until JOIN_TOKEN=$(aws ssm get-parameter --region "$REGION" --name "$JOIN_TOKEN_PARAMETER" --with-decryption --query Parameter.Value --output text); do
  sleep 5
done

# provider-id aws:///ZONE/INSTANCE is how NodeFleet maps a node to its EC2 instance (K3s' default,
# k3s://hostname, maps to nothing); the labels are what NodeFleet and kube-state-metrics read.
curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION="$K3S_VERSION" K3S_URL="$MASTER_URL" K3S_TOKEN="$JOIN_TOKEN" sh -s - agent \
  --node-name "$NODE_NAME" \
  --kubelet-arg "provider-id=aws:///${ZONE}/${INSTANCE_ID}" \
  --node-label "nodefleet.io/managed=true" \
  --node-label "nodefleet.io/cluster=${CLUSTER}" \
  --node-label "nodefleet.io/capacity-type=${CAPACITY}" \
  --node-label "topology.kubernetes.io/zone=${ZONE}" \
  --node-label "node.kubernetes.io/instance-type=${INSTANCE_TYPE}" \
  "${extra[@]}"
