#!/bin/bash
# pic-wg-apply IFACE CONFDIR full|delta: one change of peers in one exec (cell-api runs it through
# docker exec). stdin, in four parts separated by marker lines, all rendered by cell-api from validated
# values (none can hold a marker line):
#   the whole server config (what a restart loads)
#   #PIC-WG-REMOVE#  public keys of peers to remove, one per line            (delta only)
#   #PIC-WG-ADD#     [Peer] sections to add, for `wg addconf`               (delta only)
#   #PIC-FIREWALL#   an iptables-restore document, possibly empty
# Steps: the config to a 0600 temp file in CONFDIR, fsynced; then `wg syncconf` of it (full), or the
# removals with `wg set` and the additions with `wg addconf` (delta: peers left alone keep their
# sessions, and the listen socket is not rebound, which wireguard-go does on every syncconf); the
# rename over CONFDIR/IFACE.conf and an fsync of the directory; one `iptables-restore --noflush`.
# Exit: 0 done; 64 usage; 65 peers not (wholly) applied: the caller syncs in full next; 66 peers applied but the firewall
# document was refused (the caller reloads the whole firewall).
set -euo pipefail
set -f
[ $# -eq 3 ] || { echo "usage: pic-wg-apply IFACE CONFDIR full|delta" >&2; exit 64; }
iface=$1 dir=$2 mode=$3
[[ $iface =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || { echo "bad interface name" >&2; exit 64; }
[ -d "$dir" ] || { echo "no directory $dir" >&2; exit 64; }
[[ $mode == full || $mode == delta ]] || { echo "mode must be full or delta" >&2; exit 64; }

umask 077
temp=$(mktemp "$dir/.pic-tmp-$iface.conf.XXXXXX")
work=$(mktemp -d /tmp/pic-wg.XXXXXX)
trap 'rm -rf "$temp" "$work"' EXIT
awk -v conf="$temp" -v rm="$work/remove" -v add="$work/add" -v fw="$work/fw" '
  BEGIN { out = conf; seen = 0; printf "" > rm; printf "" > add; printf "" > fw }
  $0 == "#PIC-WG-REMOVE#" { out = rm; seen++; next }
  $0 == "#PIC-WG-ADD#" { out = add; seen++; next }
  $0 == "#PIC-FIREWALL#" { out = fw; seen++; next }
  { print > out }
  END { if (seen != 3) exit 3 }
' || { echo "input without its three marker lines" >&2; exit 65; }
sync "$temp"

if [ "$mode" = full ]; then
  wg syncconf "$iface" "$temp" || exit 65
else
  args=()
  while read -r key; do
    [ -n "$key" ] || continue
    [[ $key =~ ^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$ ]] || { echo "bad public key to remove" >&2; exit 65; }
    args+=(peer "$key" remove)
  done <"$work/remove"
  if [ ${#args[@]} -gt 0 ]; then wg set "$iface" "${args[@]}" || exit 65; fi
  if [ -s "$work/add" ]; then wg addconf "$iface" "$work/add" || exit 65; fi
fi
mv -f "$temp" "$dir/$iface.conf"
sync "$dir"
if [ -s "$work/fw" ]; then
  iptables-restore --noflush <"$work/fw" || exit 66
fi
