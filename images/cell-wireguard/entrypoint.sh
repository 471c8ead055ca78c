#!/bin/bash
# Brings up the cell's WireGuard interface and keeps it up until the container stops. It only starts
# what was rendered: the key and the peers come from /etc/wireguard/wg0.conf (rendered by cell-api, and
# by `pic up` before the first start, from the key data/secrets/wireguard/server.key that PIC owns), the
# VPN range from WG_NETWORK (rendered into the container's environment). It computes nothing.
#   1. kernel WireGuard if `ip link add wg0 type wireguard` works, else wireguard-go (userspace)
#   2. loads /etc/wireguard/wg0.conf with `wg setconf` (wg-quick keys such as Address/DNS stripped);
#      without that file it stops (exit 78): a key made here would not be the cell's
#   3. address WG_ADDRESS, listen port WG_PORT (when the file sets none), MTU, link up
#   4. IPv4 forwarding check; VPN sources mapped 1:1 (NETMAP) onto WG_SOURCE_BLOCK towards the cell
#      network, so each peer keeps an address of its own there (ADR 0015); MASQUERADE for the rest
#   5. waits; on TERM/INT removes the interface and its NAT rule
# cell-api later changes peers live through `docker exec` of pic-wg-apply (`wg set … remove` and
# `wg addconf` of the changed peers, one iptables-restore; no restart, tunnels stay up; ADR 0013).
#
# Env:
#   WG_INTERFACE  interface and config name (default wg0 -> /etc/wireguard/wg0.conf)
#   WG_ADDRESS    interface address with prefix (default 10.0.0.1/24)
#   WG_NETWORK    the VPN range, WG_ADDRESS's network (e.g. 10.0.0.0/24); needed for NAT
#   WG_PORT       UDP listen port when the config file has no ListenPort (default 51820)
#   WG_MTU        interface MTU (default 1420)
#   WG_NAT        1 (default) to NAT the VPN range out of WG_NAT_OUT; 0 to skip
#   WG_CELL_NETWORK  the cell network (eth0's); with WG_SOURCE_BLOCK, traffic to it is NETMAPped
#   WG_SOURCE_BLOCK  the cell network's last block of the VPN's size: where peers appear (ADR 0015)
#   WG_NAT_OUT    outgoing interface for NAT (default eth0)
#   WG_FORCE_USERSPACE=1  skip the kernel attempt
#   WG_QUICK_USERSPACE_IMPLEMENTATION  userspace binary (default wireguard-go)
set -euo pipefail
set -f # values from the environment are split on spaces, never globbed

log() { printf '[cell-wireguard] %s\n' "$*" >&2; }
iface=${WG_INTERFACE:-wg0}
addr=${WG_ADDRESS:-10.0.0.1/24}
port=${WG_PORT:-51820}
mtu=${WG_MTU:-1420}
nat_out=${WG_NAT_OUT:-eth0}
conf=/etc/wireguard/$iface.conf
userspace=${WG_QUICK_USERSPACE_IMPLEMENTATION:-wireguard-go}

[[ $iface =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || { log "bad WG_INTERFACE"; exit 64; }
[[ $addr =~ ^[0-9]+(\.[0-9]+){3}/[0-9]+$ ]] || { log "bad WG_ADDRESS '$addr' (want a.b.c.d/prefix)"; exit 64; }
[[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || { log "bad WG_PORT"; exit 64; }
[[ $mtu =~ ^[0-9]+$ ]] || { log "bad WG_MTU"; exit 64; }

vpn_net=${WG_NETWORK:-}
[ -z "$vpn_net" ] || [[ $vpn_net =~ ^[0-9]+(\.[0-9]+){3}/[0-9]+$ ]] || { log "bad WG_NETWORK '$vpn_net'"; exit 64; }
if [ "${WG_NAT:-1}" = 1 ] && [ -z "$vpn_net" ]; then log "WG_NETWORK is not set (NAT needs the VPN range)"; exit 64; fi
cell_net=${WG_CELL_NETWORK:-}
source_block=${WG_SOURCE_BLOCK:-}
for v in "$cell_net" "$source_block"; do
  [ -z "$v" ] || [[ $v =~ ^[0-9]+(\.[0-9]+){3}/[0-9]+$ ]] || { log "bad WG_CELL_NETWORK/WG_SOURCE_BLOCK '$v'"; exit 64; }
done
if [ -n "$cell_net" ] && [ -z "$source_block" ] || [ -z "$cell_net" ] && [ -n "$source_block" ]; then
  log "WG_CELL_NETWORK and WG_SOURCE_BLOCK go together"; exit 64
fi
[ -f "$conf" ] || { log "no $conf: \`pic up\` renders it, with the cell's key, before the first start"; exit 78; }

# The POSTROUTING rules, first match wins: towards the cell network a peer keeps its own address
# (mapped into the source block); anything else (the host's LAN, an exit) is masqueraded.
nat_rules() {
  if [ -n "$source_block" ]; then
    echo "-s $vpn_net -d $cell_net -o $nat_out -j NETMAP --to $source_block"
  fi
  echo "-s $vpn_net -o $nat_out -j MASQUERADE"
}

cleanup() {
  log "stopping: removing $iface and NAT rules"
  if [ -n "$vpn_net" ]; then
    while read -r rule; do
      # shellcheck disable=SC2086 # a rule is words from validated values
      iptables -t nat -D POSTROUTING $rule 2>/dev/null || true
    done < <(nat_rules)
  fi
  [ -z "$source_block" ] || ip route del local "$source_block" dev lo 2>/dev/null || true
  ip link del "$iface" 2>/dev/null || true
  # wireguard-go exits when its interface is deleted; give it a moment.
  [ -n "${wg_pid:-}" ] && { kill "$wg_pid" 2>/dev/null || true; }
  exit 0
}
trap cleanup TERM INT

# 1. the interface
ip link del "$iface" 2>/dev/null || true
mode=kernel
if [ "${WG_FORCE_USERSPACE:-0}" = 1 ] || ! ip link add "$iface" type wireguard 2>/dev/null; then
  mode=userspace
  [ -c /dev/net/tun ] || { log "no kernel WireGuard and no /dev/net/tun: run with --device /dev/net/tun"; exit 69; }
  command -v "$userspace" >/dev/null || { log "userspace implementation '$userspace' not found"; exit 69; }
  # Not in the foreground: wireguard-go daemonizes once the interface exists.
  unset WG_PROCESS_FOREGROUND
  mkdir -p /var/run/wireguard
  "$userspace" "$iface" >&2 || { log "$userspace $iface failed"; exit 69; }
  wg_pid=$(pgrep -n -x "$(basename "$userspace")" || true)
fi
log "interface $iface created ($mode)"

# 2. key and peers, as rendered
wg setconf "$iface" <(wg-quick strip "$conf")
log "loaded $conf"

# 3. address, port, link
if ! grep -qiE '^[[:space:]]*ListenPort[[:space:]]*=' "$conf" 2>/dev/null; then
  wg set "$iface" listen-port "$port"
fi
ip address replace "$addr" dev "$iface"
ip link set "$iface" mtu "$mtu" up
log "$iface up: address $addr, port $(wg show "$iface" listen-port), public key $(wg show "$iface" public-key)"
# Routes for peers' AllowedIPs outside the interface's own network (linked cells' subnets), as
# wg-quick does. Default routes (0.0.0.0/0, exit nodes) are left to cell-api's policy routing. wg shows
# AllowedIPs as networks (host bits cleared), so the VPN range itself compares equal to WG_NETWORK.
for cidr in $(wg show "$iface" allowed-ips | cut -f2- | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}/[0-9]+$' | sort -u); do
  case $cidr in 0.0.0.0/0) continue ;; esac
  [ "$cidr" = "$vpn_net" ] && continue
  ip route replace "$cidr" dev "$iface" && log "route $cidr via $iface"
done

# 4. forwarding and NAT
if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
  if ! sysctl -q -w net.ipv4.ip_forward=1 2>/dev/null; then
    log "WARNING: IPv4 forwarding is off and /proc/sys is read-only; start the container with --sysctl net.ipv4.ip_forward=1 (peers can reach this container only)"
  fi
fi
if [ "${WG_NAT:-1}" = 1 ]; then
  while read -r rule; do
    # shellcheck disable=SC2086 # a rule is words from validated values
    iptables -t nat -C POSTROUTING $rule 2>/dev/null || iptables -t nat -A POSTROUTING $rule
  done < <(nat_rules)
  if [ -n "$source_block" ]; then
    # The block is local here (AnyIP), so this container answers ARP for it on the bridge and the
    # containers' replies to a peer come straight back; conntrack maps them to the peer's address.
    ip route replace local "$source_block" dev lo
    log "NAT: $vpn_net appears on $cell_net as $source_block; masqueraded out of $nat_out otherwise"
  else
    log "NAT: $vpn_net masqueraded out of $nat_out"
  fi
fi

# 5. wait (in the background so the TERM trap runs at once)
log "ready"
while :; do
  sleep 30 &
  wait $! || true
  # The userspace daemon died: exit so the engine (or cell-api's monitor) restarts us.
  if [ "$mode" = userspace ] && ! ip link show "$iface" >/dev/null 2>&1; then
    log "$iface disappeared; exiting"
    exit 1
  fi
done
