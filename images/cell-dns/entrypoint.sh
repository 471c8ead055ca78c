#!/bin/bash
# Prepares cell-dns and runs Unbound in the foreground.
#  - generates the remote-control keys on first start (unbound-control-setup) into
#    /var/lib/unbound/control (a volume shared with cell-api), readable by the unbound group only
#  - writes the control-interface lines: 127.0.0.1 and this container's cell-network address
#  - checks the whole configuration, including /etc/pic/unbound/*.conf, before starting
#
#  - writes the forward-zone for DNS_FORWARDERS (none: names outside local zones get SERVFAIL)
#
# Env:
#   DNS_FORWARDERS  space-separated IPv4 resolvers, optionally ip@port, that Unbound forwards every
#                   other name to (from the configuration's network.dns_forwarders); default none
#   UNBOUND_CONTROL_INTERFACES  space-separated addresses for remote control (default: 127.0.0.1
#                               and the container's IPv4 addresses)
set -euo pipefail
set -f # values from the environment are split on spaces, never globbed

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

if [ -n "${UNBOUND_CONTROL_INTERFACES:-}" ]; then
  ifaces=$UNBOUND_CONTROL_INTERFACES
else
  ifaces="127.0.0.1 $(hostname -i 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | tr '\n' ' ' || true)"
fi
mkdir -p /run/unbound
chown unbound:unbound /run/unbound
: >/run/unbound/control-interfaces.conf.new
for a in $ifaces; do
  [[ $a =~ ^[0-9A-Fa-f.:]+$ ]] || { log "refusing control interface '$a'"; exit 64; }
  printf '    control-interface: %s\n' "$a" >>/run/unbound/control-interfaces.conf.new
done
mv /run/unbound/control-interfaces.conf.new /run/unbound/control-interfaces.conf
log "remote control on: ${ifaces% } port 8953"

# Forwarders: checked one by one, so a bad value stops the start instead of becoming a config line.
: >/run/unbound/forward.conf.new
forwarders=()
for f in ${DNS_FORWARDERS:-}; do
  [[ $f =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}(@[0-9]{1,5})?$ ]] || { log "refusing DNS forwarder '$f'"; exit 64; }
  forwarders+=("$f")
done
if [ ${#forwarders[@]} -gt 0 ]; then
  {
    echo 'forward-zone:'
    echo '    name: "."'
    for f in "${forwarders[@]}"; do echo "    forward-addr: $f"; done
  } >/run/unbound/forward.conf.new
  log "forwarding to: ${forwarders[*]}"
else
  log "no DNS_FORWARDERS: answering local zones only"
fi
mv /run/unbound/forward.conf.new /run/unbound/forward.conf

if ! out=$(unbound-checkconf /etc/unbound/unbound.conf 2>&1); then
  log "configuration rejected by unbound-checkconf:"
  printf '%s\n' "$out" >&2
  exit 78
fi
exec "$@"
