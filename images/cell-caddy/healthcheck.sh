#!/bin/bash
# Healthy when Caddy's admin API answers GET /config/ with 200 and a JSON body that has an http app.
# Pure bash (/dev/tcp): no curl or wget in the image. CADDY_ADMIN_LISTEN is the admin address PIC
# rendered into the config (the container's cell-network address).
set -uo pipefail
addr=${CADDY_ADMIN_LISTEN:-127.0.0.1:2019}
host=${addr%:*}
port=${addr##*:}
host=${host#[}
host=${host%]}
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /config/apps/http/servers HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$addr" >&3
IFS= read -r -t 4 status <&3 || exit 1
body=$(timeout 4 cat <&3)
exec 3<&-
[[ $status == "HTTP/1.1 200"* || $status == "HTTP/1.0 200"* ]] || { echo "admin API: $status"; exit 1; }
[[ $body == *'"listen"'* ]] || { echo "admin API: no http server configured"; exit 1; }
echo "caddy admin API ok"
