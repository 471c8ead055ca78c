#!/bin/bash
# Brings up a device's tunnel from the wg-quick file the cell exported (/peer/wg0.conf), the way
# wg-quick would, without resolvconf: wireguard-go, `wg setconf` of the stripped file, the Address,
# and one route per AllowedIPs entry. Then waits. Run with --cap-add NET_ADMIN --device /dev/net/tun.
set -euo pipefail
conf=/peer/wg0.conf
wireguard-go wg0
wg setconf wg0 <(wg-quick strip "$conf")
address=$(sed -n 's/^Address = //p' "$conf")
ip address add "$address" dev wg0
ip link set mtu 1420 up dev wg0
allowed=$(sed -n 's/^AllowedIPs = //p' "$conf" | tr -d ' ')
IFS=, read -ra nets <<<"$allowed"
for n in "${nets[@]}"; do ip route add "$n" dev wg0; done
echo "[peer] wg0 up as $address, routes: $allowed"
exec sleep infinity
