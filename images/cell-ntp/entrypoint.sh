#!/bin/bash
# Checks the chrony configuration cell-api rendered (config/ntp/chrony.conf, mounted read-only at
# /etc/pic/chrony) with chronyd's own parser, prepares chronyd's run directory, and runs the command.
# Nothing is rendered here.
set -euo pipefail

log() { printf '[cell-ntp] %s\n' "$*" >&2; }
conf=/etc/pic/chrony/chrony.conf

if [ ! -s "$conf" ]; then
  log "missing $conf: it is rendered by PIC (pic up / the API) into the cell's config/ntp/"
  exit 78
fi
# chronyd -p parses the config and prints it back; a syntax error stops here with a clear message.
if ! out=$(chronyd -p -f "$conf" 2>&1); then
  log "configuration rejected by chronyd -p:"
  printf '%s\n' "$out" >&2
  exit 78
fi
mkdir -p /run/chrony
chown _chrony:_chrony /run/chrony /var/lib/chrony
chmod 0750 /run/chrony
exec "$@"
