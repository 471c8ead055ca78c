#!/bin/bash
# Prepares cell-dns and runs Unbound in the foreground. Nothing is rendered here: the forward zone
# and the control-interface lines are rendered by PIC into the cell's config/dns/ (mounted at
# /etc/pic/unbound, included by unbound.conf).
#  - no remote-control keys: the control channel is plain TCP on this container's loopback (ADR 0017,
#    amendment); keys an older image made in /var/lib/unbound/control are left there, unused
#  - checks the whole configuration, including /etc/pic/unbound/*.conf, before starting
set -euo pipefail

log() { printf '[cell-dns] %s\n' "$*" >&2; }
mkdir -p /run/unbound
chown unbound:unbound /run/unbound

if ! out=$(unbound-checkconf /etc/unbound/unbound.conf 2>&1); then
  log "configuration rejected by unbound-checkconf:"
  printf '%s\n' "$out" >&2
  exit 78
fi
exec "$@"
