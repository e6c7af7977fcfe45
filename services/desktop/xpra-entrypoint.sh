#!/bin/sh
# The browser desktop: xpra's HTML5 client shadowing OBS's X display (the desktop container's Xvfb,
# whose socket arrives through the shared /tmp/.X11-unix volume), behind DESKTOP_PASSWORD and a door
# that throttles password guessing (xpra-door.py).
set -eu
# The same rule as every other secret in production (packages/shared/src/config.ts: DEV_SECRETS,
# WEAK_SECRETS, compared without case): set, not a default or well-known value, 10+ characters.
# This image has no node to run that code, so the rule is repeated here; keep the two lists alike.
lowered=$(printf '%s' "${DESKTOP_PASSWORD:-}" | tr '[:upper:]' '[:lower:]')
case "$lowered" in
  "") echo "xpra: DESKTOP_PASSWORD: must be set in production (it is empty)" >&2; exit 78 ;;
  irlkit-dev-desktop|changeme|change-me|password|secret|admin|123456)
    echo "xpra: DESKTOP_PASSWORD: is a default or well-known value; set your own secret for production" >&2; exit 78 ;;
esac
[ "${#DESKTOP_PASSWORD}" -ge 10 ] || { echo "xpra: DESKTOP_PASSWORD: must be at least 10 characters in production" >&2; exit 78; }
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
umask 077
printf '%s' "$DESKTOP_PASSWORD" > "$XDG_RUNTIME_DIR/password"
unset DESKTOP_PASSWORD
port=${DESKTOP_PORT:-14500}
# xpra listens on loopback only; the public port is xpra-door.py, which throttles password guessing.
xpra-shadow "${DESKTOP_DISPLAY:-:99}" "127.0.0.1:$((port + 1))" "$XDG_RUNTIME_DIR/password" --socket-dirs="$XDG_RUNTIME_DIR" "$@" &
xpra_pid=$!
python3 /usr/local/bin/xpra-door 0.0.0.0 "$port" "$((port + 1))" &
door_pid=$!
trap 'kill "$xpra_pid" "$door_pid" 2>/dev/null; wait; exit 0' TERM INT
# Either one gone: stop the other and exit, so the restart policy brings both back.
while kill -0 "$xpra_pid" 2>/dev/null && kill -0 "$door_pid" 2>/dev/null; do sleep 1; done
echo "xpra: xpra or its door exited; stopping" >&2
kill "$xpra_pid" "$door_pid" 2>/dev/null
wait
exit 1
