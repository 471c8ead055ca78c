#!/bin/bash
# Renders /etc/chrony/chrony.conf from the environment, checks it, and runs chronyd.
#
# Env:
#   NTP_UPSTREAMS  space-separated servers: host, host:port, or [v6]:port (default empty: no
#                  upstream, serve the local clock at stratum NTP_LOCAL_STRATUM)
#   NTP_ALLOW      space-separated client networks (default 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16)
#   NTP_LOCAL_STRATUM  stratum of the local clock when there is no upstream (default 10)
#   NTP_POLL       upstream minpoll/maxpoll as "min max" (default "4 10")
set -euo pipefail
set -f # values from the environment are split on spaces, never globbed

log() { printf '[cell-ntp] %s\n' "$*" >&2; }
conf=/etc/chrony/chrony.conf
read -r minpoll maxpoll <<<"${NTP_POLL:-4 10}"
[[ $minpoll =~ ^-?[0-9]+$ && $maxpoll =~ ^-?[0-9]+$ ]] || { log "bad NTP_POLL"; exit 64; }
stratum=${NTP_LOCAL_STRATUM:-10}
[[ $stratum =~ ^[0-9]+$ ]] && [ "$stratum" -ge 1 ] && [ "$stratum" -le 15 ] || { log "bad NTP_LOCAL_STRATUM"; exit 64; }

{
  echo "# Rendered by cell-ntp's entrypoint from the environment at $(date -u +%FT%TZ). No public pool."
  echo "driftfile /var/lib/chrony/chrony.drift"
  echo "bindcmdaddress 127.0.0.1"
  echo "bindcmdaddress /run/chrony/chronyd.sock"
  echo "cmdallow 127.0.0.1"
  n=0
  for u in ${NTP_UPSTREAMS:-}; do
    port=""
    if [[ $u =~ ^\[([0-9A-Fa-f:]+)\]:([0-9]+)$ ]]; then
      host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
    elif [[ $u =~ ^([A-Za-z0-9.-]+):([0-9]+)$ ]]; then
      host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
    elif [[ $u =~ ^[A-Za-z0-9.-]+$ || $u =~ ^[0-9A-Fa-f:]+$ ]]; then
      host=$u
    else
      log "refusing NTP upstream '$u'"
      exit 64
    fi
    echo "server $host iburst minpoll $minpoll maxpoll $maxpoll${port:+ port $port}"
    n=$((n + 1))
  done
  if [ "$n" -eq 0 ]; then
    echo "# No upstream: serve this host's clock."
    echo "local stratum $stratum"
  fi
  for a in ${NTP_ALLOW:-}; do
    [[ $a =~ ^[0-9A-Fa-f.:/]+$ || $a == all ]] || { log "refusing NTP_ALLOW entry '$a'"; exit 64; }
    echo "allow $a"
  done
  echo "makestep 1 3"
  echo "maxupdateskew 100.0"
} >"$conf.new"
mv "$conf.new" "$conf"
if [ -z "${NTP_UPSTREAMS// /}" ]; then
  log "no NTP_UPSTREAMS: serving the local clock at stratum $stratum"
else
  log "upstreams: $NTP_UPSTREAMS"
fi
log "clients allowed: ${NTP_ALLOW:-none}"

# chronyd -p parses the config and prints it back; a syntax error stops here with a clear message.
if ! out=$(chronyd -p -f "$conf" 2>&1); then
  log "configuration rejected by chronyd -p:"
  printf '%s\n' "$out" >&2
  exit 78
fi
mkdir -p /run/chrony
chown _chrony:_chrony /run/chrony /var/lib/chrony
chmod 0750 /run/chrony
exec "$@"
