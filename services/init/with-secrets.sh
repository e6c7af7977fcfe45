#!/bin/sh
# Every compose image's entrypoint: fills each variable the environment leaves empty from the secrets
# file compose's init service wrote for this container (/run/irlkit/secrets.env, KEY=value lines), then
# runs the command. A value set in the environment (.env) always wins. Without the file it only runs the
# command. Used for healthchecks too, which do not inherit what an entrypoint exports.
set -eu
file=${IRL_SECRETS_FILE:-/run/irlkit/secrets.env}
if [ -r "$file" ]; then
  while IFS='=' read -r key value; do
    case "$key" in
      '' | \#*) continue ;;
      *[!A-Z0-9_]* | [0-9]*) echo "irlkit-secrets: ignoring a malformed line in $file" >&2; continue ;;
    esac
    eval "current=\${$key:-}"
    [ -n "$current" ] || export "$key=$value"
  done <"$file"
fi
exec "$@"
