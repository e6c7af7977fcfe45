#!/bin/sh
# nats-server as one node of a NATS cluster (deploy/swarm/stack.yml runs three): irlkit's own nats.conf and
# users.conf (the same users and permissions as compose's single server), plus this node's name and the
# cluster: routes to every node, on port 6222 of the stack's overlay network (never published), and a route
# password (NATS_CLUSTER_PASSWORD, from the node's secret) so that no other container on that network can
# join the cluster as a route and skip the users' permissions. JetStream then runs clustered (replicated
# buckets and streams, NATS_JS_REPLICAS). The config goes to /tmp: the root filesystem is read-only.
#   NATS_SERVER_NAME      this node's name (unique in the cluster), e.g. nats-1
#   NATS_CLUSTER_ROUTES   every node's host name, comma-separated: nats-1,nats-2,nats-3
#   NATS_CLUSTER_NAME     the cluster's name (irlkit)
set -eu
: "${NATS_SERVER_NAME:?must name this node}" "${NATS_CLUSTER_ROUTES:?must list the nodes}" "${NATS_CLUSTER_PASSWORD:?must be set (deploy/swarm/secrets.sh)}"
case "$NATS_CLUSTER_PASSWORD" in *[!A-Za-z0-9]*) echo "nats cluster: NATS_CLUSTER_PASSWORD must be letters and digits (it goes into the route URLs)" >&2; exit 78 ;; esac
dir=/tmp/nats
mkdir -p "$dir"
cp /etc/nats/nats.conf /etc/nats/users.conf "$dir/"
{
  echo
  echo "# This node in the cluster (services/nats/cluster.sh)."
  echo "server_name: \"$NATS_SERVER_NAME\""
  echo "cluster {"
  echo "  name: \"${NATS_CLUSTER_NAME:-irlkit}\""
  echo "  listen: 0.0.0.0:6222"
  echo "  authorization { user: route, password: \$NATS_CLUSTER_PASSWORD }"
  echo "  routes: ["
  for host in $(echo "$NATS_CLUSTER_ROUTES" | tr ',' ' '); do
    echo "    \"nats-route://route:$NATS_CLUSTER_PASSWORD@$host:6222\""
  done
  echo "  ]"
  echo "}"
} >>"$dir/nats.conf"
exec nats-server -c "$dir/nats.conf"
