#!/bin/bash
# pic-wg-apply IFACE CONFDIR full|delta|save: one change of peers in one exec (cell-api runs it through
# docker exec). stdin is rendered by cell-api from validated values (none can hold a marker line).
#   delta  the live change, nothing else (the hot path: one peer added costs bash, wg, iptables-restore):
#            #PIC-WG-REMOVE#  public keys of peers to remove, one per line
#            #PIC-WG-ADD#     [Peer] sections to add, for `wg addconf`
#            #PIC-FIREWALL#   an iptables-restore document, to the end (the marker only when there is one)
#          peers left alone keep their sessions, and the listen socket is not rebound, which wireguard-go
#          does on every syncconf (ADR 0013).
#   save   the whole server config on stdin becomes CONFDIR/IFACE.conf, what a restart loads: a 0600
#          temp file, fsynced, renamed over it, the directory fsynced. cell-api runs it after a delta.
#   full   the whole server config, then #PIC-FIREWALL# and an iptables-restore document: saved as
#          above, loaded with `wg syncconf` (when the live state is not known), then the firewall.
# Exit: 0 done; 64 usage; 65 peers not (wholly) applied: the caller syncs in full next; 66 peers applied
# but the firewall document was refused (the caller reloads the whole firewall); 67 not saved.
set -euo pipefail
set -f
[ $# -eq 3 ] || { echo "usage: pic-wg-apply IFACE CONFDIR full|delta|save" >&2; exit 64; }
iface=$1 dir=$2 mode=$3
[[ $iface =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || { echo "bad interface name" >&2; exit 64; }
[ -d "$dir" ] || { echo "no directory $dir" >&2; exit 64; }
[[ $mode == full || $mode == delta || $mode == save ]] || { echo "mode must be full, delta or save" >&2; exit 64; }
umask 077

if [ "$mode" = delta ]; then
  # Small input, read with builtins only; the firewall document is left on stdin for iptables-restore.
  part='' keys=() add='' firewall=0
  while IFS= read -r line; do
    case $line in
      '#PIC-WG-REMOVE#') part=remove ;;
      '#PIC-WG-ADD#') part=add ;;
      '#PIC-FIREWALL#') firewall=1; break ;;
      *)
        if [ "$part" = remove ] && [ -n "$line" ]; then
          [[ $line =~ ^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$ ]] || { echo "bad public key to remove" >&2; exit 65; }
          keys+=(peer "$line" remove)
        elif [ "$part" = add ]; then
          add+=$line$'\n'
        fi
        ;;
    esac
  done
  [ -n "$part" ] || { echo "input without its marker lines" >&2; exit 65; }
  if [ ${#keys[@]} -gt 0 ]; then wg set "$iface" "${keys[@]}" || exit 65; fi
  # A here-string is a pipe (bash ≥ 5.1) that wg opens as /dev/stdin: no temp file.
  if [ -n "$add" ]; then wg addconf "$iface" /dev/stdin <<<"$add" || exit 65; fi
  if [ "$firewall" = 1 ]; then iptables-restore --noflush || exit 66; fi
  exit 0
fi

temp=$(mktemp "$dir/.pic-tmp-$iface.conf.XXXXXX")
fw=$(mktemp /tmp/pic-wg-fw.XXXXXX)
trap 'rm -f "$temp" "$fw"' EXIT
awk -v conf="$temp" -v fw="$fw" '
  BEGIN { out = conf }
  $0 == "#PIC-FIREWALL#" { out = fw; next }
  { print > out }
' || { echo "could not read the input" >&2; exit 65; }
sync "$temp"
if [ "$mode" = full ]; then
  wg syncconf "$iface" "$temp" || exit 65
fi
mv -f "$temp" "$dir/$iface.conf" || exit 67
sync "$dir" || exit 67
if [ -s "$fw" ]; then
  iptables-restore --noflush <"$fw" || exit 66
fi
