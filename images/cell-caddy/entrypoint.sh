#!/bin/bash
# Runs Caddy from the JSON config PIC rendered into the cell's config/caddy/ (mounted read-only at
# /etc/pic/caddy). Nothing is rendered here; later changes reach the running Caddy through its admin
# API (cell-api's POST /load), and a restart starts again from the rendered file, which cell-api keeps
# current. The admin API is a unix socket in /run/pic/caddy-admin (shared with cell-api only); the
# certificate for the cell's names is in /etc/pic/caddy-tls (written by cell-api / pic up). See
# src/render/caddy/caddy-config.ts and docs/adr/0018.
set -euo pipefail

log() { printf '[cell-caddy] %s\n' "$*" >&2; }
conf=/etc/pic/caddy/caddy.json
sock=${CADDY_ADMIN_SOCKET:-/run/pic/caddy-admin/admin.sock}

if [ ! -s "$conf" ]; then
  log "missing $conf: it is rendered by PIC (pic up / the API) into the cell's config/caddy/"
  exit 78
fi
if grep -q '"load_files"' "$conf" && [ ! -s /etc/pic/caddy-tls/cert.pem ]; then
  log "missing /etc/pic/caddy-tls/cert.pem: the cell's certificate is delivered by pic up / cell-api"
  exit 78
fi
# The socket Caddy makes is 0770 (group caddy, which cell-api holds); every other file it writes
# (autosave, storage) is closed to others as well.
umask 007
# A socket left by a killed Caddy would make the listen fail; nothing else uses this directory.
rm -f "$sock"
exec "$@"
