#!/bin/sh
# Chooses how Caddy gets its certificate, says why, then runs Caddy with services/caddy/Caddyfile:
#   IRL_DOMAIN set     automatic HTTPS for that name (ACME: ports 80 and 443 must reach this server)
#   IRL_DOMAIN empty   Caddy's internal certificate authority signs a certificate for whatever name the
#                      browser asks for, IRL_PUBLIC_HOST when it gives none (an address); the browser
#                      warns until you trust the authority's root
set -eu
if [ -n "${IRL_DOMAIN:-}" ]; then
  case "$IRL_DOMAIN" in
    *[!A-Za-z0-9.-]* | .* | *..* | *.) echo "caddy: IRL_DOMAIN: must be a host name like stream.example.com (got \"$IRL_DOMAIN\")" >&2; exit 78 ;;
  esac
  export IRL_CADDY_SITE="$IRL_DOMAIN"
  export IRL_CADDY_TLS=""
  if [ -n "${IRL_ACME_EMAIL:-}" ]; then export IRL_CADDY_GLOBAL="email $IRL_ACME_EMAIL"; else export IRL_CADDY_GLOBAL=""; fi
  echo "caddy: HTTPS for $IRL_DOMAIN with a certificate from a public certificate authority (ACME); DNS for it must point here and ports 80 and 443 be open"
else
  export IRL_CADDY_SITE="https://"
  export IRL_CADDY_TLS="tls internal {
		on_demand
	}"
  # A browser given an address (no name) sends no server name: it gets a certificate for
  # IRL_PUBLIC_HOST (or localhost). Each new name costs a certificate: at most 10 a minute.
  export IRL_CADDY_GLOBAL="default_sni ${IRL_PUBLIC_HOST:-localhost}
	on_demand_tls {
		interval 1m
		burst 10
	}"
  echo "caddy: IRL_DOMAIN is not set, so no public certificate authority can vouch for this server: HTTPS with a certificate from irlkit's own authority (browsers warn until you trust its root, /data/caddy/pki/authorities/local/root.crt); set IRL_DOMAIN for a trusted certificate"
fi
exec caddy run --config /etc/caddy/Caddyfile --adapter caddyfile
