#!/bin/sh
# xpra's HTML5 client shadowing OBS's X display behind a password file: the one xpra command line, run by
# the desktop image's entrypoint (xpra-entrypoint.sh, behind its door) and by the native runner.
# Usage: xpra-shadow.sh DISPLAY BIND_HOST:PORT PASSWORD_FILE [more xpra options]
set -eu
display=$1
bind=$2
password_file=$3
shift 3
# OBS's Xvfb may start after this: wait for its socket.
echo "xpra: waiting for OBS's display $display"
while [ ! -S "/tmp/.X11-unix/X${display#:}" ]; do sleep 0.5; done
exec xpra shadow "$display" --daemon=no --bind-tcp="$bind" --html=on --tcp-auth="file:filename=$password_file" \
  --mdns=no --notifications=no --pulseaudio=no --webcam=no --speaker=off --microphone=off \
  --printing=no --file-transfer=no --dbus-proxy=no --systemd-run=no "$@"
