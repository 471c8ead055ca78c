#!/bin/bash
# Healthy when the WireGuard interface answers `wg show` (kernel or wireguard-go UAPI) and is up.
set -uo pipefail
iface=${WG_INTERFACE:-wg0}
wg show "$iface" >/dev/null 2>&1 || { echo "wg show $iface failed"; exit 1; }
ip -o link show "$iface" 2>/dev/null | grep -q -E '<[^>]*UP' || { echo "$iface is not up"; exit 1; }
echo "wireguard ok: $iface port $(wg show "$iface" listen-port), $(wg show "$iface" peers | wc -l) peer(s)"
