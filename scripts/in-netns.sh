#!/usr/bin/env bash
# Runs a command in a private network namespace with only loopback up, so servers a test
# starts (OBS's websocket binds every interface) are reachable from nowhere else.
#   scripts/in-netns.sh npx vitest run services/obs-bridge
set -euo pipefail
if [ "${IRL_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
exec unshare --net -- env IRL_IN_NETNS=1 bash -c 'ip link set lo up && exec "$@"' bash "$@"
