#!/usr/bin/env bash
# The Swarm stack's secrets (deploy/swarm/stack.yml), made on a manager before the first deploy:
#   deploy/swarm/secrets.sh          generate what is missing (compose's init service does it: the same
#                                    image, the same names and the same share per service), create one
#                                    Swarm secret per service holding only its own (KEY=value lines, read
#                                    by the images' irlkit-secrets entrypoint), print the dashboard's
#                                    password the first time. Reruns keep every value and every secret.
#   deploy/swarm/secrets.sh show     print the URLs and passwords again
#   deploy/swarm/secrets.sh rm       remove the Swarm secrets (after `docker stack rm`; the values stay
#                                    in the state directory, so the next run re-creates the same ones)
# A variable set in the environment (DASHBOARD_PASSWORD, SRT_PASSPHRASE, …) wins over a generated value,
# as with compose's .env. The generated values are kept on this manager in $IRL_SWARM_STATE (root-only,
# default .state/swarm in the checkout); the secrets are named $IRL_SWARM_SECRETS_<service> (irlkit_…),
# the names stack.yml reads.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
DOCKER=${DOCKER:-/usr/bin/docker}
[ -x "$DOCKER" ] || DOCKER=docker
state=$(realpath -m "${IRL_SWARM_STATE:-.state/swarm}")
prefix=${IRL_SWARM_SECRETS:-irlkit}
image=${IRL_IMAGE_REGISTRY:-}irlkit/init:${IRL_IMAGE_TAG:-latest}
# compose's init service (services/init/init.sh) hands each of these its own share; nats also gets the
# route password of its cluster (services/nats/cluster.sh), which only the NATS nodes know.
SERVICES="nats ingest desktop xpra obs-bridge dashboard chat restream"
say() { printf 'secrets: %s\n' "$*" >&2; }

# The init image, with the state directory in place of compose's volumes (no network, nothing else).
init() {
  local mounts=(-v "$state:/secrets")
  if [ "$1" = init ]; then for service in $SERVICES; do mounts+=(-v "$state/out/$service:/out/$service"); done; fi
  "$DOCKER" run --rm --network none --cap-drop ALL --security-opt no-new-privileges:true --read-only \
    -e IRL_DOMAIN -e IRL_PUBLIC_HOST -e HTTPS_PUBLISH_PORT -e SRT_PUBLISH_PORT -e SRTLA_PUBLISH_PORT \
    -e DASHBOARD_PASSWORD -e DESKTOP_PASSWORD -e SRT_PASSPHRASE -e OBS_RTMP_KEY \
    "${mounts[@]}" "$image" "$@"
}

case "${1:-create}" in
  create)
    mkdir -p "$state"
    chmod 700 "$state"
    for service in $SERVICES; do mkdir -p "$state/out/$service"; done
    init init
    # The cluster's route password: letters and digits, first a letter (as init.sh's), kept like the others.
    master=$state/irlkit.env
    if ! grep -q '^NATS_CLUSTER_PASSWORD=' "$master"; then
      # (tr ends on SIGPIPE once head has enough: not a failure here.)
      password=$(
        set +o pipefail
        printf '%s%s' "$(tr -dc 'A-Za-z' </dev/urandom | head -c 1)" "$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 31)"
      )
      printf 'NATS_CLUSTER_PASSWORD=%s\n' "$password" >>"$master"
    fi
    grep '^NATS_CLUSTER_PASSWORD=' "$master" >>"$state/out/nats/secrets.env"
    for service in $SERVICES; do
      name=${prefix}_$service
      file=$state/out/$service/secrets.env
      sum=$(sha256sum "$file" | cut -c1-16)
      if "$DOCKER" secret inspect "$name" >/dev/null 2>&1; then
        # A Swarm secret cannot change: a changed value (a variable set since) needs rm, then create.
        had=$("$DOCKER" secret inspect -f '{{index .Spec.Labels "irlkit.sha256"}}' "$name")
        [ "$had" = "$sum" ] || say "$name exists with other values than $file: after \`docker stack rm\`, run $0 rm, then $0 again"
      else
        "$DOCKER" secret create --label "irlkit.sha256=$sum" "$name" "$file" >/dev/null
        say "created $name"
      fi
    done
    rm -rf "$state/out"
    say "values kept in $state/irlkit.env (root only); show the URLs and passwords again: $0 show"
    ;;
  show) init show ;;
  rm)
    for service in $SERVICES; do
      "$DOCKER" secret rm "${prefix}_$service" >/dev/null 2>&1 && say "removed ${prefix}_$service"
    done
    true
    ;;
  *)
    echo "usage: $0 [create|show|rm]" >&2
    exit 2
    ;;
esac
