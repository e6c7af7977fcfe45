#!/bin/sh
# compose's one-shot init service (docker-compose.yml: `init`), run before every other container:
#   init.sh            generate each missing secret into the protected `secrets` volume (once; later
#                      runs keep them), hand each service only its own (one volume each), and print the
#                      dashboard's URL and password the first time
#   init.sh show       print the URLs, passwords and the senders' addresses again (./irlkit compose-password)
#   init.sh show-env   print every generated secret as KEY=value lines
# A variable set in the environment (.env) wins over the generated one, here and in the services.
set -eu
umask 077
master=/secrets/irlkit.env
out=/out
cmd=${1:-init}

# Which service gets which secret, under the name it reads. "NATS_PASSWORD=NATS_INGEST_PASSWORD": the
# ingest container reads NATS_PASSWORD, filled from the generated NATS_INGEST_PASSWORD (one NATS user per
# service, services/nats/users.conf). Every secret in SECRETS is generated on first run.
service_secrets() {
  case "$1" in
    nats) echo NATS_INGEST_PASSWORD NATS_OBS_BRIDGE_PASSWORD NATS_DESKTOP_PASSWORD NATS_CHAT_PASSWORD NATS_RESTREAM_PASSWORD NATS_DASHBOARD_PASSWORD NATS_OPERATOR_PASSWORD ;;
    ingest) echo NATS_PASSWORD=NATS_INGEST_PASSWORD SRT_PASSPHRASE ;;
    desktop) echo NATS_PASSWORD=NATS_DESKTOP_PASSWORD OBS_WS_PASSWORD OBS_RTMP_KEY=RESTREAM_RELAY_KEY ;;
    xpra) echo DESKTOP_PASSWORD ;;
    obs-bridge) echo NATS_PASSWORD=NATS_OBS_BRIDGE_PASSWORD OBS_WS_PASSWORD BRIDGE_API_TOKEN ;;
    dashboard) echo NATS_PASSWORD=NATS_DASHBOARD_PASSWORD DASHBOARD_PASSWORD DASHBOARD_SESSION_SECRET ;;
    chat) echo NATS_PASSWORD=NATS_CHAT_PASSWORD ;;
    restream) echo NATS_PASSWORD=NATS_RESTREAM_PASSWORD RESTREAM_RELAY_KEY ;;
  esac
}
SERVICES="nats ingest desktop xpra obs-bridge dashboard chat restream"
SECRETS="NATS_INGEST_PASSWORD NATS_OBS_BRIDGE_PASSWORD NATS_DESKTOP_PASSWORD NATS_CHAT_PASSWORD NATS_RESTREAM_PASSWORD NATS_DASHBOARD_PASSWORD NATS_OPERATOR_PASSWORD SRT_PASSPHRASE OBS_WS_PASSWORD DESKTOP_PASSWORD BRIDGE_API_TOKEN DASHBOARD_PASSWORD DASHBOARD_SESSION_SECRET RESTREAM_RELAY_KEY"

# 32 characters of A-Za-z0-9 from the kernel's CSPRNG (190 bits); 48 for the cookie-signing key. The first is
# a letter: nats-server reads \$NATS_*_PASSWORD in users.conf as a config value, and one starting with a digit
# and a unit letter (2e5…, 7K…) is taken for a number and stops it (nats-io/nats-server#3431).
generate() { printf '%s%s' "$(tr -dc 'A-Za-z' </dev/urandom | head -c 1)" "$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$(($1 - 1))")"; }
stored() { [ -f "$master" ] && sed -n "s/^$1=//p" "$master" | head -n 1; }
# What a service will use: the environment's value (.env) when set, else the generated one.
effective() {
  eval "set_value=\${$1:-}"
  if [ -n "$set_value" ]; then printf '%s' "$set_value"; else stored "$1"; fi
}
origin() {
  eval "set_value=\${$1:-}"
  if [ -n "$set_value" ]; then echo "from .env"; else echo "generated"; fi
}

show() {
  port=${HTTPS_PUBLISH_PORT:-443}
  suffix=""
  [ "$port" = 443 ] || suffix=":$port"
  if [ -n "${IRL_DOMAIN:-}" ]; then
    host=$IRL_DOMAIN
  else
    host=${IRL_PUBLIC_HOST:-<this server\'s address>}
  fi
  srt_host=${IRL_DOMAIN:-${IRL_PUBLIC_HOST:-<this server\'s address>}}
  passphrase=$(effective SRT_PASSPHRASE)
  cat <<TEXT
────────────────────────────────────────────────────────────────────────────
 irlkit is starting (the first start builds for a few minutes, then ~1 min).
 Dashboard:  https://$host$suffix/
   password: $(effective DASHBOARD_PASSWORD)   ($(origin DASHBOARD_PASSWORD))
 OBS desktop: https://$host$suffix/desktop/
   password: $(effective DESKTOP_PASSWORD)   ($(origin DESKTOP_PASSWORD))
 Sender (SRT passphrase $passphrase, $(origin SRT_PASSPHRASE)):
   SRT:   srt://$srt_host:${SRT_PUBLISH_PORT:-9000}?passphrase=$passphrase
   SRTLA: srtla://$srt_host:${SRTLA_PUBLISH_PORT:-5000}   (same passphrase)
TEXT
  if [ -z "${IRL_DOMAIN:-}" ]; then
    cat <<TEXT
 HTTPS: no IRL_DOMAIN is set, so the certificate comes from irlkit's own
   certificate authority and the browser warns once. Set IRL_DOMAIN in .env
   to a name pointing at this server for a trusted certificate (README, VPS).
TEXT
  fi
  if [ -z "${OBS_RTMP_KEY:-}" ]; then
    cat <<TEXT
 Streaming: add your platforms (URL and stream key) on the dashboard's
   Destinations panel, or set OBS_RTMP_URL and OBS_RTMP_KEY in .env and run
   docker-compose up -d again.
TEXT
  fi
  echo " Show this again: ./irlkit compose-password"
  echo "────────────────────────────────────────────────────────────────────────────"
}

case "$cmd" in
  init)
    mkdir -p /secrets
    [ -f "$master" ] || : >"$master"
    generated=""
    for name in $SECRETS; do
      [ -n "$(stored "$name")" ] && continue
      length=32
      [ "$name" = DASHBOARD_SESSION_SECRET ] && length=48
      printf '%s=%s\n' "$name" "$(generate "$length")" >>"$master"
      generated="$generated $name"
    done
    chmod 600 "$master"
    for service in $SERVICES; do
      [ -d "$out/$service" ] || { echo "init: $out/$service is not mounted" >&2; exit 1; }
      file="$out/$service/secrets.env"
      : >"$file.new"
      for entry in $(service_secrets "$service"); do
        name=${entry%%=*}
        source=${entry#*=}
        printf '%s=%s\n' "$name" "$(stored "$source")" >>"$file.new"
      done
      # Only this service's container mounts the volume; its user (not root) must read the file.
      chmod 444 "$file.new"
      mv "$file.new" "$file"
    done
    if [ -n "$generated" ]; then
      echo "init: generated$generated into the secrets volume"
      show
    else
      echo "init: secrets in place (./irlkit compose-password shows the dashboard's URL and password)"
    fi
    ;;
  show) show ;;
  show-env) cat "$master" ;;
  *) echo "usage: init.sh [init|show|show-env]" >&2; exit 2 ;;
esac
