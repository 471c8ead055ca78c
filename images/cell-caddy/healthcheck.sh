#!/bin/bash
# Healthy when Caddy's admin API answers GET /config/apps/http/servers with 200 and a body naming a
# listener. The admin API is a unix socket (CADDY_ADMIN_SOCKET); it accepts only the Host in the
# rendered config's `origins` (caddy-admin.pic).
set -uo pipefail
sock=${CADDY_ADMIN_SOCKET:-/run/pic/caddy-admin/admin.sock}
[ -S "$sock" ] || { echo "admin API: no socket at $sock"; exit 1; }
resp=$(printf 'GET /config/apps/http/servers HTTP/1.0\r\nHost: caddy-admin.pic\r\nConnection: close\r\n\r\n' |
  timeout 4 nc -N -U "$sock") || { echo "admin API: no answer on $sock"; exit 1; }
status=${resp%%$'\r'*}
[[ $status == "HTTP/1.1 200"* || $status == "HTTP/1.0 200"* ]] || { echo "admin API: $status"; exit 1; }
[[ $resp == *'"listen"'* ]] || { echo "admin API: no http server configured"; exit 1; }
echo "caddy admin API ok"
