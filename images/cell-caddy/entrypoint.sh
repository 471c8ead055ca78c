#!/bin/bash
# Runs Caddy from the JSON config PIC rendered into the cell's config/caddy/ (mounted read-only at
# /etc/pic/caddy). Nothing is rendered here; later changes reach the running Caddy through its admin
# API (cell-api's POST /load), and a restart starts again from the rendered file, which cell-api keeps
# current. The admin API's restrictions (the container's cell-network address only, `origins`
# checked against Host) are part of the rendered config: see src/render/caddy/caddy-config.ts.
set -euo pipefail

log() { printf '[cell-caddy] %s\n' "$*" >&2; }
conf=/etc/pic/caddy/caddy.json

if [ ! -s "$conf" ]; then
  log "missing $conf: it is rendered by PIC (pic up / the API) into the cell's config/caddy/"
  exit 78
fi
exec "$@"
