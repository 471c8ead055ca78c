#!/bin/bash
# Renders /etc/caddy/caddy.json from caddy.json.tmpl and the environment, then runs the command.
#
# Env:
#   API_UPSTREAM         host:port of cell-api (default 172.20.0.10:3000)
#   CADDY_ADMIN_LISTEN   admin API address (default <this container's cell-network IP>:CADDY_ADMIN_PORT)
#   CADDY_ADMIN_PORT     admin API port when CADDY_ADMIN_LISTEN is not set (default 2019)
#   CADDY_ADMIN_ORIGINS  space-separated Host values the admin API accepts (default: the listen
#                        address and cell-caddy:PORT)
#   CADDY_RESUME=1       start from the config the API last pushed (/config/caddy/autosave.json)
#                        instead of the base config, when that file exists
#
# Who may reach the admin API: it listens on the container's own cell-network address only (never
# 0.0.0.0 and no host port is published for it), and Caddy rejects requests whose Host is not in
# `origins` (DNS rebinding). Only containers on cell-network can route to it; the orchestrator
# publishes nothing but 80/443/8081, so in practice cell-api is the only client.
set -euo pipefail
set -f # values from the environment are split on spaces, never globbed

log() { printf '[cell-caddy] %s\n' "$*" >&2; }
safe_re='^[][A-Za-z0-9._:-]+$'
safe() { [[ $1 =~ $safe_re ]]; }

port=${CADDY_ADMIN_PORT:-2019}
if [ -n "${CADDY_ADMIN_LISTEN:-}" ]; then
  admin=$CADDY_ADMIN_LISTEN
else
  # Docker writes "<ip> <hostname>" into /etc/hosts; hostname -i reads it. First IPv4 wins.
  ip=$(hostname -i 2>/dev/null | tr ' ' '\n' | grep -m1 -E '^[0-9]+(\.[0-9]+){3}$' || true)
  if [ -z "$ip" ] || [[ $ip == 127.* ]]; then
    log "no container IP found (network none?); admin API on 127.0.0.1:$port"
    ip=127.0.0.1
  fi
  admin=$ip:$port
fi
upstream=${API_UPSTREAM:-172.20.0.10:3000}
origins=${CADDY_ADMIN_ORIGINS:-$admin cell-caddy:$port}

for v in "$admin" "$upstream" $origins; do
  safe "$v" || { log "refusing unsafe value in the environment: '$v'"; exit 64; }
done
origins_json=$(printf '"%s",' $origins)
origins_json=${origins_json%,}

umask 022
sed -e "s|@ADMIN_LISTEN@|$admin|" -e "s|@ADMIN_ORIGINS@|$origins_json|" -e "s|@API_UPSTREAM@|$upstream|" \
  /etc/caddy/caddy.json.tmpl >/etc/caddy/caddy.json.new
mv /etc/caddy/caddy.json.new /etc/caddy/caddy.json
# The healthcheck reads the admin address from here.
printf '%s\n' "$admin" >/etc/caddy/admin-address
log "admin API on $admin (origins: $origins); /api and /health -> $upstream"

if [ "${CADDY_RESUME:-0}" = 1 ] && [ "$*" = "caddy run --config /etc/caddy/caddy.json" ] &&
  [ -s "${XDG_CONFIG_HOME:-/config}/caddy/autosave.json" ]; then
  log "resuming the last config pushed through the admin API"
  exec caddy run --resume --config /etc/caddy/caddy.json
fi
exec "$@"
