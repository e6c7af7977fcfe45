#!/bin/sh
# obs-bridge's container entrypoint. The watchdog restarts the desktop container (OBS) through the Docker socket,
# whose group id differs from host to host; so the container starts as root, finds that group (or takes
# DOCKER_GID), and drops to the irlkit user (uid 10001) with that one extra group and no capabilities.
# Started as any other user, it runs the command as it is.
set -eu
socket=/var/run/docker.sock
if [ "$(id -u)" != 0 ]; then exec /usr/local/bin/irlkit-secrets "$@"; fi
groups=""
if [ -n "${DOCKER_GID:-}" ]; then
  case "$DOCKER_GID" in
    *[!0-9]*) echo "obs-bridge: DOCKER_GID: must be a group id (a number), got \"$DOCKER_GID\"" >&2; exit 78 ;;
  esac
  groups=$DOCKER_GID
elif [ -S "$socket" ]; then
  groups=$(stat -c %g "$socket")
  echo "obs-bridge: the Docker socket's group is $groups"
elif [ "${OBS_WATCHDOG_MODE:-docker}" = docker ]; then
  echo "obs-bridge: no Docker socket at $socket, so the watchdog cannot restart OBS (the desktop container): mount it or set OBS_WATCHDOG_MODE" >&2
fi
set -- /usr/local/bin/irlkit-secrets "$@"
if [ -n "$groups" ]; then set -- --groups="$groups" "$@"; else set -- --clear-groups "$@"; fi
export HOME=/home/irlkit
exec setpriv --reuid=10001 --regid=10001 --inh-caps=-all "$@"
