#!/bin/bash
# Prepares cell-dns and runs Unbound in the foreground. Nothing is rendered here: the forward zone
# and the control-interface lines are rendered by PIC into the cell's config/dns/ (mounted at
# /etc/pic/unbound, included by unbound.conf).
#  - generates the remote-control keys on first start (unbound-control-setup) into
#    /var/lib/unbound/control (a volume shared with cell-api), readable by the unbound group only:
#    key material of the daemon, so it stays here
#  - checks the whole configuration, including /etc/pic/unbound/*.conf, before starting
set -euo pipefail

log() { printf '[cell-dns] %s\n' "$*" >&2; }
keys=/var/lib/unbound/control

if [ ! -s "$keys/unbound_server.key" ] || [ ! -s "$keys/unbound_control.key" ]; then
  log "generating remote-control keys in $keys"
  unbound-control-setup -d "$keys" >/dev/null 2>&1 || {
    log "unbound-control-setup failed"
    unbound-control-setup -d "$keys" >&2
    exit 1
  }
fi
files=("$keys/unbound_server.key" "$keys/unbound_server.pem" "$keys/unbound_control.key" "$keys/unbound_control.pem")
chown root:unbound "$keys" "${files[@]}"
chmod 0750 "$keys"
chmod 0640 "${files[@]}"
mkdir -p /run/unbound
chown unbound:unbound /run/unbound

if ! out=$(unbound-checkconf /etc/unbound/unbound.conf 2>&1); then
  log "configuration rejected by unbound-checkconf:"
  printf '%s\n' "$out" >&2
  exit 78
fi
exec "$@"
