#!/usr/bin/env bash
# The Docker Swarm test, on this machine's engine as a single-node swarm (run by `./irlkit test` after the
# compose test): the engine → the images (built as the compose test builds them, with its tag, so after it
# nothing is rebuilt) → `docker swarm init` unless the engine is in a swarm already (left again at the end
# only then) → node labels → deploy/swarm/secrets.sh → `docker stack deploy` of deploy/swarm/stack.yml
# (NATS as a 3-node cluster, JetStream replicated 3 times) with test/swarm/stack.test.yml → every service
# running → test/swarm/swarm.check.ts (a feed from a container on the stack's overlay network goes Live;
# the settings bucket's leader NATS node killed: switching and settings still work) → `docker stack rm`,
# which must leave no container, network, secret or config of the stack (its volumes it leaves by design:
# listed, then removed here with the secrets secrets.sh made).
# Ports: ingest and Caddy publish on the node (mode host, all its addresses: Swarm cannot bind one); the
# test picks free high ports and sends nothing to them (the feed goes over the overlay network).
# Appends "passed failed skipped" to $IRL_TEST_SUMMARY_FILE when set; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
STACK=${IRL_SWARM_STACK:-irlkit-swarmtest}
DOCKER=/usr/bin/docker
started=$(date +%s)
say() { printf '\033[1mswarm test:\033[0m %s\n' "$*" >&2; }
elapsed() { echo $(($(date +%s) - started)); }

passed=0
failed=0
pass() { passed=$((passed + 1)); say "✓ $*"; }
fail() { failed=$((failed + 1)); say "✗ $*"; }
record() {
  [ -n "${IRL_TEST_SUMMARY_FILE:-}" ] && echo "$passed $failed 0" >>"$IRL_TEST_SUMMARY_FILE"
  say "$passed passed, $failed failed in $(elapsed) s"
}
fail_early() {
  fail "$1"
  record
  exit 1
}

./irlkit docker-engine >&2 || fail_early "./irlkit docker-engine failed"
if [ -f ../shared/docker/base-images.sh ]; then
  bash ../shared/docker/base-images.sh >&2 || fail_early "base-images.sh failed"
fi

work=$(mktemp -d)
chmod 700 "$work"
# The compose test's images (same build, same tag): after it, every layer comes from the cache.
export IRL_IMAGE_TAG=${IRL_SWARM_IMAGE_TAG:-composetest}
export IRL_SWARM_SECRETS=$STACK IRL_SWARM_STATE=$work/state
free_port() { # a port nothing listens on (TCP and UDP), from $1 up
  local port=$1
  while ss -Htaun "sport = :$port" | grep -q .; do port=$((port + 1)); done
  echo "$port"
}
SRT_PUBLISH_PORT=$(free_port 29000) SRTLA_PUBLISH_PORT=$(free_port 25000)
HTTPS_PUBLISH_PORT=$(free_port 28443) HTTP_PUBLISH_PORT=$(free_port 28080)
export SRT_PUBLISH_PORT SRTLA_PUBLISH_PORT HTTPS_PUBLISH_PORT HTTP_PUBLISH_PORT
STACK_FILES=(-c deploy/swarm/stack.yml -c test/swarm/stack.test.yml)

in_swarm() { [ "$("$DOCKER" info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ]; }
stack_objects() { # what of the stack exists: kind and name, one a line
  local filter=label=com.docker.stack.namespace=$STACK
  "$DOCKER" service ls -q --filter "$filter" 2>/dev/null | sed 's/^/service /'
  "$DOCKER" ps -aq --filter "$filter" | sed 's/^/container /'
  "$DOCKER" network ls -q --filter "$filter" | sed 's/^/network /'
  "$DOCKER" secret ls -q --filter "$filter" 2>/dev/null | sed 's/^/secret /'
  "$DOCKER" config ls -q --filter "$filter" 2>/dev/null | sed 's/^/config /'
}
stack_volumes() { "$DOCKER" volume ls -q --filter "label=com.docker.stack.namespace=$STACK"; }
own_secrets() { "$DOCKER" secret ls --format '{{.Name}}' 2>/dev/null | grep "^${STACK}_" || true; }

created_swarm=0
node=""
labels=(irlkit.public=true irlkit.obs=main irlkit.nats-1=true irlkit.nats-2=true irlkit.nats-3=true)
cleaned=0
cleanup() {
  [ "$cleaned" = 1 ] && return
  cleaned=1
  "$DOCKER" rm -f "$STACK-feed" "$STACK-probe" >/dev/null 2>&1 || true
  if in_swarm; then
    "$DOCKER" stack rm "$STACK" >"$work/rm.log" 2>&1
    # stack rm returns at once; the containers and networks go in the background. Swarm refuses to remove a
    # network while a task on it is still stopping ("network … is in use by task", moby/moby#31068) and never
    # tries again: once only networks are left, stack rm again removes them (what README's Swarm section says).
    again=0
    for i in $(seq 90); do
      objects=$(stack_objects)
      [ -z "$objects" ] && break
      if [ $((i % 5)) = 0 ] && ! grep -qv '^network ' <<<"$objects"; then
        "$DOCKER" stack rm "$STACK" >>"$work/rm.log" 2>&1
        again=$((again + 1))
      fi
      sleep 1
    done
    left=$(stack_objects | tr '\n' ',')
    if [ -z "$left" ]; then
      [ "$again" = 0 ] || say "docker stack rm: a network was still in use by a stopping task; stack rm again ($again more) removed it"
      pass "docker stack rm leaves nothing of $STACK (no service, container, network, secret or config)"
    else
      fail "docker stack rm left: $left"
      cat "$work/rm.log" >&2
    fi
    volumes=$(stack_volumes | tr '\n' ' ')
    [ -z "$volumes" ] || say "stack rm leaves the volumes (by design: the NATS stores, OBS's profile, certificates, recordings): $volumes— removing them"
    for _ in $(seq 30); do
      for volume in $(stack_volumes); do "$DOCKER" volume rm "$volume" >/dev/null 2>&1; done
      [ -z "$(stack_volumes)" ] && break
      sleep 1
    done
    deploy/swarm/secrets.sh rm >/dev/null 2>&1
    left=$(
      stack_volumes
      own_secrets
    )
    if [ -z "$left" ]; then
      pass "then its volumes and the secrets secrets.sh created are gone too"
    else
      fail "left after removing them: $(echo "$left" | tr '\n' ' ')"
    fi
    if [ "$created_swarm" = 1 ]; then
      "$DOCKER" swarm leave --force >/dev/null 2>&1 && say "left the swarm this test created"
      # swarm init made it; Docker 20.10 often keeps a stale endpoint in it after leaving (until dockerd restarts).
      "$DOCKER" network rm docker_gwbridge >/dev/null 2>&1 || say "docker_gwbridge (made by swarm init) stays: the engine still lists an endpoint in it"
    elif [ -n "$node" ]; then
      "$DOCKER" node update $(printf -- '--label-rm %s ' "${labels[@]%%=*}") "$node" >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$work"
}
on_exit() {
  local status=$?
  if [ "${checks_done:-0}" = 0 ]; then
    fail "stopped before the checks finished (exit $status)"
    for service in $("$DOCKER" service ls -q --filter "label=com.docker.stack.namespace=$STACK" 2>/dev/null); do
      "$DOCKER" service ps --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' "$service" 2>/dev/null | head -3 >&2
    done
  fi
  cleanup
  record
  [ "$failed" -eq 0 ] || exit 1
}
trap on_exit EXIT
trap 'exit 130' INT TERM

say "building images (the compose test's build, tag $IRL_IMAGE_TAG)"
build_started=$(date +%s)
/usr/bin/docker-compose -p "$STACK" -f docker-compose.yml build >"$work/build.log" 2>&1 || {
  tail -40 "$work/build.log" >&2
  exit 1
}
say "built in $(($(date +%s) - build_started)) s"

if in_swarm; then
  say "the engine is in a swarm already: deploying there (and leaving it in it)"
else
  if ! "$DOCKER" swarm init --advertise-addr 127.0.0.1 >"$work/init.log" 2>&1; then
    cat "$work/init.log" >&2
    fail_early "docker swarm init failed"
  fi
  created_swarm=1
  say "docker swarm init: a single-node swarm on 127.0.0.1"
fi
node=$("$DOCKER" info -f '{{.Swarm.NodeID}}')
"$DOCKER" node update $(printf -- '--label-add %s ' "${labels[@]}") "$node" >/dev/null || exit 1
# A stack left over by an interrupted run.
if [ -n "$(stack_objects)" ]; then
  "$DOCKER" stack rm "$STACK" >/dev/null
  for _ in $(seq 60); do [ -z "$(stack_objects)" ] && break; sleep 1; done
fi
for volume in $(stack_volumes); do "$DOCKER" volume rm "$volume" >/dev/null 2>&1; done
deploy/swarm/secrets.sh rm >/dev/null 2>&1

deploy/swarm/secrets.sh >"$work/secrets.log" 2>&1 || {
  cat "$work/secrets.log" >&2
  exit 1
}
if grep -q 'password:' "$work/secrets.log" && [ "$(own_secrets | wc -l)" = 8 ]; then
  pass "secrets.sh: 8 Swarm secrets (one per service) and the dashboard's password printed"
else
  fail "secrets.sh: $(own_secrets | wc -l) secrets; it printed: $(head -c 600 "$work/secrets.log")"
fi

deploy_started=$(date +%s)
if ! "$DOCKER" stack deploy "${STACK_FILES[@]}" "$STACK" >"$work/deploy.log" 2>&1; then
  cat "$work/deploy.log" >&2
  exit 1
fi
# Every service has its one task running (the images' healthchecks included: a task is "running" once healthy).
services=$("$DOCKER" service ls -q --filter "label=com.docker.stack.namespace=$STACK" | wc -l)
not_running() {
  "$DOCKER" service ls --filter "label=com.docker.stack.namespace=$STACK" --format '{{.Name}} {{.Replicas}}' | awk '{split($2, r, "/"); if (r[1] != r[2] || r[2] == 0) print $1 " " $2}'
}
for _ in $(seq 300); do
  [ -z "$(not_running)" ] && break
  sleep 1
done
if [ -z "$(not_running)" ] && [ "$services" = 11 ]; then
  pass "docker stack deploy: all $services services running in $(($(date +%s) - deploy_started)) s (nats-1/2/3, ingest, desktop, xpra, obs-bridge, restream, chat, dashboard, caddy)"
else
  fail "docker stack deploy: $services services; not running after 300 s: $(not_running | tr '\n' ',')"
  checks_done=0
  exit 1
fi

result=$work/result
IRL_SWARM_STACK=$STACK IRL_SWARM_RESULT=$result IRL_SWARM_SECRETS_FILE=$work/state/irlkit.env \
  IRL_BRIDGE_IMAGE=irlkit/obs-bridge:$IRL_IMAGE_TAG IRL_FEED_IMAGE=irlkit/restream:$IRL_IMAGE_TAG \
  node_modules/.bin/tsx test/swarm/swarm.check.ts
check_status=$?
checks_done=1
if [ -s "$result" ]; then
  read -r p f _ <"$result"
  passed=$((passed + p))
  failed=$((failed + f))
else
  fail "swarm.check.ts recorded no results (exit $check_status)"
fi
if [ "$failed" -gt 0 ]; then
  for service in obs-bridge desktop ingest nats-1 nats-2 nats-3; do
    say "logs of $service:"
    "$DOCKER" service logs --no-task-ids --tail 25 "${STACK}_$service" >&2 2>&1 || true
  done
fi
say "checks done at $(elapsed) s"
