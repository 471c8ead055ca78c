#!/bin/bash
# Brings up a device's tunnel from the wg-quick file the cell exported (/peer/wg0.conf), the way
# wg-quick would: wireguard-go, `wg setconf` of the stripped file, the Address, one route per
# AllowedIPs entry, and the DNS line as resolv.conf (addresses as nameservers, names as the search
# list: what wg-quick's resolvconf hook and the phone apps do). Then waits. Run with --cap-add
# NET_ADMIN --device /dev/net/tun.
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
dns=$(sed -n 's/^DNS = //p' "$conf" | tr -d ' ')
if [ -n "$dns" ]; then
  IFS=, read -ra entries <<<"$dns"
  {
    search=''
    for e in "${entries[@]}"; do
      if [[ $e =~ ^[0-9.]+$ ]]; then echo "nameserver $e"; else search+="$e "; fi
    done
    if [ -n "$search" ]; then echo "search $search"; fi
  } >/etc/resolv.conf
fi
echo "[peer] wg0 up as $address, routes: $allowed, DNS: ${dns:-none}"
exec sleep infinity
