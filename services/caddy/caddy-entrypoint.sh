#!/bin/sh
# Chooses how Caddy gets its certificate, says why, then runs Caddy with services/caddy/Caddyfile:
#   IRL_DOMAIN set     automatic HTTPS for that name (ACME: ports 80 and 443 must reach this server)
#   IRL_DOMAIN empty   certificates from Caddy's internal authority for localhost, 127.0.0.1, ::1 and
#                      IRL_PUBLIC_HOST only, signed at start; a browser that sends no name (visiting
#                      by address) gets IRL_PUBLIC_HOST's (or localhost's). The browser warns until
#                      you trust the authority's root.
# Not on-demand certificates: those let anyone make Caddy sign and keep a certificate for any name they
# send. Limited by an ask endpoint to this same list they gain nothing, and a browser visiting by
# address (no name sent) then fails: Caddy asks for the container's own address, not default_sni.
set -eu
host_name() {
  case "$2" in
    '' | *[!A-Za-z0-9.:-]* | .* | *..* | *.) echo "caddy: $1: must be a host name like stream.example.com or an address (got \"$2\")" >&2; exit 78 ;;
  esac
}
# An IPv6 address is written in brackets in a site address.
site() { case "$1" in *:*) echo "https://[$1]" ;; *) echo "https://$1" ;; esac; }
if [ -n "${IRL_DOMAIN:-}" ]; then
  host_name IRL_DOMAIN "$IRL_DOMAIN"
  export IRL_CADDY_SITE="$IRL_DOMAIN"
  export IRL_CADDY_TLS=""
  if [ -n "${IRL_ACME_EMAIL:-}" ]; then export IRL_CADDY_GLOBAL="email $IRL_ACME_EMAIL"; else export IRL_CADDY_GLOBAL=""; fi
  echo "caddy: HTTPS for $IRL_DOMAIN with a certificate from a public certificate authority (ACME); DNS for it must point here and ports 80 and 443 be open"
else
  names="localhost 127.0.0.1 ::1"
  if [ -n "${IRL_PUBLIC_HOST:-}" ]; then
    host_name IRL_PUBLIC_HOST "$IRL_PUBLIC_HOST"
    names="$IRL_PUBLIC_HOST $names"
  fi
  sites=""
  for name in $names; do sites="${sites:+$sites, }$(site "$name")"; done
  export IRL_CADDY_SITE="$sites"
  export IRL_CADDY_TLS="tls internal"
  export IRL_CADDY_GLOBAL="default_sni ${IRL_PUBLIC_HOST:-localhost}"
  echo "caddy: IRL_DOMAIN is not set, so no public certificate authority can vouch for this server: HTTPS with certificates from irlkit's own authority for $names only (browsers warn until you trust its root, /data/caddy/pki/authorities/local/root.crt); set IRL_DOMAIN for a trusted certificate, or IRL_PUBLIC_HOST to the name or address you visit"
fi
# The main site's upstreams: the one stream's dashboard and desktop, or (several streams) the operator's dashboard.
export IRL_CADDY_DASHBOARD="${IRL_CADDY_DASHBOARD:-dashboard:8080}"
export IRL_CADDY_DESKTOP="${IRL_CADDY_DESKTOP:-xpra:14500}"
# Several streams (IRL_CADDY_STREAMS="alice=8444 bob=8445"): stream <id>'s dashboard-<id> and xpra-<id> on its
# own port, for the same names and with the same certificates as the main site.
# (Caddy 2.6 cannot import nothing at the top level: the file always holds at least an unused snippet.)
printf '# written by caddy-entrypoint.sh\n(irlkit-streams) {\n}\n' >/tmp/irlkit-streams.caddy
for entry in ${IRL_CADDY_STREAMS:-}; do
  id=${entry%%=*}
  port=${entry#*=}
  case "$id:$port" in
    *[!A-Za-z0-9_:-]* | :* | *: | *:*[!0-9]*) echo "caddy: IRL_CADDY_STREAMS: \"$entry\" is not <stream id>=<port>" >&2; exit 78 ;;
  esac
  addresses=""
  for address in $(echo "$IRL_CADDY_SITE" | tr -d ','); do addresses="${addresses:+$addresses, }$address:$port"; done
  printf '%s {\n\t%s\n\timport irlkit dashboard-%s:8080 xpra-%s:14500\n}\n' "$addresses" "$IRL_CADDY_TLS" "$id" "$id" >>/tmp/irlkit-streams.caddy
  echo "caddy: stream $id on port $port"
done
exec caddy run --config /etc/caddy/Caddyfile --adapter caddyfile
