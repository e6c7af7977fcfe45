#!/usr/bin/env bash
# The docker compose test, on a real engine (run by `./irlkit test` through test/compose/from-clone.sh,
# from a copy of the repository): the engine → build every image → up -d with no .env at all (the init
# service generates the secrets; only the platform's URL and key, the publish address and the image tag
# come from the environment), published on 127.0.0.1 only, and an RTMP sink on the compose network →
# test/compose/compose.check.ts (through Caddy over HTTPS, its internal authority trusted) → down -v,
# which must leave nothing.
# The engine: ../shared/docker/base-images.sh when that file exists (a machine that reaches no container
# registry), else `./irlkit docker-engine` (Debian's docker.io; base images pulled by the build).
# Then test/compose/streams.check.ts: several streams on the same stack (./irlkit compose-streams).
# Appends "passed failed skipped" to $IRL_TEST_SUMMARY_FILE when set; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
root=$PWD
PROJECT=${IRL_COMPOSE_PROJECT:-irlkit-composetest}
DOCKER=/usr/bin/docker
started=$(date +%s)
say() { printf '\033[1mcompose test:\033[0m %s\n' "$*" >&2; }
elapsed() { echo $(( $(date +%s) - started )); }

passed=0
failed=0
record() {
  [ -n "${IRL_TEST_SUMMARY_FILE:-}" ] && echo "$passed $failed 0" >>"$IRL_TEST_SUMMARY_FILE"
  say "$passed passed, $failed failed in $(elapsed) s"
}
fail_early() {
  say "$1"
  failed=$((failed + 1))
  record
  exit 1
}

# The engine is always started by ./irlkit, which hands the daemon none of this script's descriptors
# (run under `flock`, a daemon started here would otherwise hold the lock until it stops).
./irlkit docker-engine >&2 || fail_early "./irlkit docker-engine failed"
if [ -f ../shared/docker/base-images.sh ]; then
  bash ../shared/docker/base-images.sh >&2 || fail_early "base-images.sh failed"
else
  say "no ../shared/docker/base-images.sh: Debian's engine, base images from the registry"
fi

work=$(mktemp -d)
chmod 700 "$work"
# No .env: compose reads this empty file instead of any .env in the checkout, and the environment
# below carries only what a streamer would have to say (where to stream) and the test's own choices.
[ ! -e .env ] || say "ignoring ./.env: the test starts from none"
: >"$work/empty.env"
export OBS_RTMP_KEY="sink-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export OBS_RTMP_URL=rtmp://rtmp-sink/live
export IRL_PUBLISH_ADDRESS=127.0.0.1
export OBS_WATCHDOG_TIMEOUT_MS=5000
export IRL_IMAGE_TAG=composetest
COMPOSE=(/usr/bin/docker-compose -p "$PROJECT" --env-file "$work/empty.env" -f docker-compose.yml -f test/compose/docker-compose.test.yml)

leftovers() {
  {
    "$DOCKER" ps -aq --filter "label=com.docker.compose.project=$PROJECT"
    "$DOCKER" ps -aq --filter "name=^$PROJECT-probe"
    "$DOCKER" volume ls -q --filter "label=com.docker.compose.project=$PROJECT"
    "$DOCKER" network ls -q --filter "label=com.docker.compose.project=$PROJECT"
  } | sort -u
}
cleaned=0
cleanup() {
  [ "$cleaned" = 1 ] && return
  cleaned=1
  "$DOCKER" ps -aq --filter "name=^$PROJECT-probe" | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
  # After the streams checks, the per-stream containers and volumes are in the generated override.
  local files=("${COMPOSE[@]}")
  if [ "${streams_generated:-0}" = 1 ] && [ -f "$work/streams.test.yml" ]; then
    files+=(-f docker-compose.streams.yml -f "$work/streams.test.yml")
  fi
  "${files[@]}" down -v --remove-orphans >"$work/down.log" 2>&1
  if [ "${streams_generated:-0}" = 1 ]; then rm -rf docker-compose.streams.yml .irlkit-streams; fi
  local left
  left=$(leftovers)
  if [ -z "$left" ]; then
    passed=$((passed + 1))
    say "✓ down -v leaves nothing running (no containers, volumes or networks of $PROJECT)"
  else
    failed=$((failed + 1))
    say "✗ down -v left: $(echo "$left" | tr '\n' ' ')"
    cat "$work/down.log" >&2
  fi
  rm -rf "$work"
}
on_exit() {
  local status=$?
  if [ "${checks_done:-0}" = 0 ]; then
    failed=$((failed + 1))
    say "stopped before the checks finished (exit $status)"
    "${COMPOSE[@]}" logs --no-color --tail=40 >&2 2>/dev/null || true
  fi
  cleanup
  record
  [ "$failed" -eq 0 ] || exit 1
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# A stack left over by an interrupted run would hold the ports.
if [ -n "$(leftovers)" ]; then "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1; fi

# The plain-HTTP override is not run here (the stack is checked behind Caddy); compose must accept it.
"${COMPOSE[@]}" -f docker-compose.plain-http.yml config -q || { say "docker-compose.plain-http.yml does not merge"; checks_done=0; exit 1; }
say "building images (one at a time)"
build_started=$(date +%s)
"${COMPOSE[@]}" build >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; checks_done=0; exit 1; }
build_s=$(( $(date +%s) - build_started ))
say "built in ${build_s} s; starting the stack"
up_started=$(date +%s)
"${COMPOSE[@]}" up -d >&2 || { checks_done=0; exit 1; }

# What a streamer reads after `up -d`: the init service's first-start message, and the secrets it
# generated (the checks log in with them). Caddy's internal root, trusted by the checks' fetch and
# Chromium, appears once Caddy has started.
"${COMPOSE[@]}" logs --no-color init >"$work/init.log" 2>&1
"${COMPOSE[@]}" run --rm --no-deps -T init show-env >"$work/secrets.env" 2>"$work/show-env.err" \
  || { cat "$work/show-env.err" >&2; checks_done=0; exit 1; }
ca=$work/caddy-root.crt
for _ in $(seq 60); do
  "${COMPOSE[@]}" exec -T caddy cat /data/caddy/pki/authorities/local/root.crt >"$ca" 2>/dev/null && [ -s "$ca" ] && break
  sleep 1
done
[ -s "$ca" ] || { say "Caddy's internal root certificate did not appear"; checks_done=0; exit 1; }

result=$work/result
IRL_COMPOSE="$(printf '%s\n' "${COMPOSE[@]}" | node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" \
IRL_COMPOSE_PROJECT=$PROJECT IRL_COMPOSE_RESULT=$result IRL_BRIDGE_IMAGE=irlkit/obs-bridge:composetest \
IRL_COMPOSE_INIT_LOG=$work/init.log IRL_COMPOSE_SECRETS=$work/secrets.env IRL_CADDY_ROOT=$ca NODE_EXTRA_CA_CERTS=$ca \
  node_modules/.bin/tsx test/compose/compose.check.ts
check_status=$?
checks_done=1
if [ -s "$result" ]; then
  read -r p f _ <"$result"
  passed=$((passed + p))
  failed=$((failed + f))
else
  failed=$((failed + 1))
  say "compose.check.ts recorded no results (exit $check_status)"
fi
# Several streams on the same stack and images: ./irlkit compose-streams (test/compose/streams.check.ts), each OBS at
# 240p (the streams' desktops take OBS_RESOLUTION from the environment compose runs in) so that three fit in 2 cores.
if [ -e docker-compose.streams.yml ] || [ -e .irlkit-streams ]; then
  failed=$((failed + 1))
  say "✗ several streams not checked: docker-compose.streams.yml or .irlkit-streams/ is already here (yours; the check would overwrite it)"
else
  streams_generated=1
  streams_result=$work/streams-result
  IRL_COMPOSE="$(printf '%s\n' "${COMPOSE[@]}" | node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')" \
  IRL_COMPOSE_PROJECT=$PROJECT IRL_COMPOSE_RESULT=$streams_result IRL_COMPOSE_WORK=$work IRL_BRIDGE_IMAGE=irlkit/obs-bridge:composetest \
  IRL_COMPOSE_SECRETS=$work/secrets.env NODE_EXTRA_CA_CERTS=$ca OBS_RESOLUTION=426x240 OBS_X264_PRESET=ultrafast \
    node_modules/.bin/tsx test/compose/streams.check.ts
  streams_status=$?
  if [ -s "$streams_result" ]; then
    read -r p f _ <"$streams_result"
    passed=$((passed + p))
    failed=$((failed + f))
  else
    failed=$((failed + 1))
    say "streams.check.ts recorded no results (exit $streams_status)"
  fi
fi
if [ "$failed" -gt 0 ]; then
  "${COMPOSE[@]}" logs --no-color --tail=60 desktop obs-bridge xpra rtmp-sink >&2 2>/dev/null || true
fi
say "images built in ${build_s} s; checks done at $(elapsed) s"
