#!/bin/bash
# Prepares cell-dns and runs Unbound in the foreground. Nothing is rendered here: the forward zone
# and the control-interface lines are rendered by PIC into the cell's config/dns/ (mounted at
# /etc/pic/unbound, included by unbound.conf).
#  - no remote-control keys: the control channel is plain TCP on this container's loopback (ADR 0017,
#    amendment); keys an older image made in /var/lib/unbound/control are left there, unused
#  - checks the whole configuration, including /etc/pic/unbound/*.conf, before starting
#  - Unbound's log goes through pic-dns-blocked (as the unbound user): the blocklist's rpz-log lines
#    become per-client counts in its memory, which cell-api drains; every other line reaches the
#    container's log unchanged (ADR 0020, amendment). No blocked name or client address is logged.
set -euo pipefail

log() { printf '[cell-dns] %s\n' "$*" >&2; }
mkdir -p /run/unbound
chown unbound:unbound /run/unbound

if ! out=$(unbound-checkconf /etc/unbound/unbound.conf 2>&1); then
  log "configuration rejected by unbound-checkconf:"
  printf '%s\n' "$out" >&2
  exit 78
fi
if [[ ${1:-} == unbound ]]; then
  exec "$@" 2> >(exec setpriv --reuid=unbound --regid=unbound --clear-groups /usr/local/bin/pic-dns-blocked tap)
fi
exec "$@"
