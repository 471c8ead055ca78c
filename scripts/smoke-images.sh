#!/usr/bin/env bash
# Smoke test of the built images (pic/cell-*:latest), each doing its job, on test networks of its own.
# Nothing leaves the machine: the DNS upstream is a second cell-dns with a local zone, the NTP
# upstream a second cell-ntp serving its own clock, the WireGuard peer a second cell-wireguard.
#   cell-dns        healthy; no forwarders -> SERVFAIL (no recursion); forwarders added live with
#                   unbound-control reload -> answer; unbound-control from another container
#   cell-ntp        healthy on its local clock; a second chronyd syncs from it
#   cell-wireguard  healthy (kernel or wireguard-go); peer added live with wg syncconf; a peer on
#                   another network reaches cell-dns through the tunnel (forwarding + NAT)
#   cell-api        healthy (its own /health)
#   cell-caddy      healthy; serves the UI, falls back to index.html, proxies /health and /api/* to
#                   cell-api; accepts POST /load from cell-api; rejects a foreign Host on the admin API
# Everything it creates is named pic-smoke-* and removed on exit (images are kept).
#
# Env: PIC_SMOKE_SUBNET (default 172.31.250.0/24), PIC_SMOKE_PEER_SUBNET (default 172.31.251.0/24),
#      PIC_SMOKE_KEEP=1 keeps the containers for inspection.
set -euo pipefail

subnet=${PIC_SMOKE_SUBNET:-172.31.250.0/24}
peer_subnet=${PIC_SMOKE_PEER_SUBNET:-172.31.251.0/24}
p=${subnet%.*/*}        # 172.31.250
pp=${peer_subnet%.*/*}  # 172.31.251
net=pic-smoke-net
peer_net=pic-smoke-peer-net
label=org.pic.test=smoke-images
work=$(mktemp -d /tmp/pic-smoke.XXXXXX)
containers=(pic-smoke-dns-up pic-smoke-dns pic-smoke-ntp pic-smoke-ntp2 pic-smoke-wg pic-smoke-wgpeer
  pic-smoke-api pic-smoke-caddy pic-smoke-ctl)
fails=0

log() { printf '[smoke] %s\n' "$*"; }
pass() { printf '[smoke] PASS %s\n' "$*"; }
fail() {
  printf '[smoke] FAIL %s\n' "$*" >&2
  fails=$((fails + 1))
}
cleanup() {
  if [ "${PIC_SMOKE_KEEP:-0}" = 1 ]; then
    log "keeping containers (PIC_SMOKE_KEEP=1); work dir $work"
    return
  fi
  local c
  for c in "${containers[@]}"; do
    docker rm -f -v "$c" >/dev/null 2>&1 || true
  done
  docker volume rm pic-smoke-dns-keys >/dev/null 2>&1 || true
  docker network rm "$net" "$peer_net" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

for i in cell-dns cell-ntp cell-wireguard cell-api cell-caddy; do
  docker image inspect "pic/$i:latest" >/dev/null 2>&1 || {
    log "pic/$i:latest missing; run scripts/build-images.sh"
    exit 1
  }
done
for c in "${containers[@]}"; do
  if docker container inspect "$c" >/dev/null 2>&1; then
    log "container $c exists (a previous run?); remove it first"
    trap - EXIT
    exit 1
  fi
done

run() { docker run -d --label "$label" "$@" >/dev/null; }
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1" 2>/dev/null; }
wait_healthy() {
  local c deadline=$((SECONDS + ${2:-90}))
  c=$1
  while [ $SECONDS -lt $deadline ]; do
    case $(health "$c") in
      healthy) return 0 ;;
      unhealthy | "") return 1 ;;
    esac
    [ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = true ] || return 1
    sleep 1
  done
  return 1
}
check_healthy() {
  local c=$1 t0=$SECONDS
  if wait_healthy "$c" "${2:-90}"; then
    pass "$c healthy after $((SECONDS - t0))s: $(docker inspect -f '{{with .State.Health}}{{range .Log}}{{.Output}}{{end}}{{end}}' "$c" | grep -v '^$' | tail -n1)"
  else
    fail "$c not healthy ($(health "$c")); last log lines:"
    docker logs --tail 15 "$c" 2>&1 | sed 's/^/    /' >&2
  fi
}

log "networks $net ($subnet) and $peer_net ($peer_subnet)"
docker network create --subnet "$subnet" --label "$label" "$net" >/dev/null
docker network create --subnet "$peer_subnet" --label "$label" "$peer_net" >/dev/null

# --- containers
mkdir -p "$work/dns-up" "$work/dns" "$work/wg" "$work/wgpeer"
cat >"$work/dns-up/zone.conf" <<'EOF'
server:
    local-zone: "smoke.example." static
    local-data: "www.smoke.example. 300 IN A 192.168.77.7"
EOF
run --name pic-smoke-dns-up --network "$net" --ip "$p.54" -v "$work/dns-up:/etc/pic/unbound:ro" pic/cell-dns:latest
run --name pic-smoke-dns --network "$net" --ip "$p.53" -v "$work/dns:/etc/pic/unbound:ro" \
  -v pic-smoke-dns-keys:/var/lib/unbound/control pic/cell-dns:latest
run --name pic-smoke-ntp --network "$net" --ip "$p.123" pic/cell-ntp:latest
run --name pic-smoke-ntp2 --network "$net" --ip "$p.124" -e NTP_UPSTREAMS="$p.123" pic/cell-ntp:latest
run --name pic-smoke-api --network "$net" --ip "$p.10" pic/cell-api:latest
run --name pic-smoke-caddy --network "$net" --ip "$p.2" -e API_UPSTREAM="$p.10:3000" pic/cell-caddy:latest

skey=$(docker run --rm --entrypoint wg pic/cell-wireguard:latest genkey)
pkey=$(docker run --rm --entrypoint wg pic/cell-wireguard:latest genkey)
spub=$(printf '%s' "$skey" | docker run --rm -i --entrypoint wg pic/cell-wireguard:latest pubkey)
ppub=$(printf '%s' "$pkey" | docker run --rm -i --entrypoint wg pic/cell-wireguard:latest pubkey)
printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 10.99.0.1/24\n' "$skey" >"$work/wg/wg0.conf"
printf '[Interface]\nPrivateKey = %s\nAddress = 10.99.0.2/24\n\n[Peer]\nPublicKey = %s\nEndpoint = %s:51820\nAllowedIPs = 10.99.0.0/24, %s\nPersistentKeepalive = 5\n' \
  "$pkey" "$spub" "$pp.51" "$subnet" >"$work/wgpeer/wg0.conf"
chmod 0600 "$work"/wg*/wg0.conf
docker create --label "$label" --name pic-smoke-wg --network "$net" --ip "$p.51" --cap-add NET_ADMIN \
  --device /dev/net/tun --sysctl net.ipv4.ip_forward=1 -e WG_ADDRESS=10.99.0.1/24 -e WG_NETWORK=10.99.0.0/24 \
  -v "$work/wg:/etc/wireguard" pic/cell-wireguard:latest >/dev/null
docker network connect --ip "$pp.51" "$peer_net" pic-smoke-wg
docker start pic-smoke-wg >/dev/null
run --name pic-smoke-wgpeer --network "$peer_net" --ip "$pp.52" --cap-add NET_ADMIN --device /dev/net/tun \
  -e WG_ADDRESS=10.99.0.2/24 -e WG_NAT=0 -v "$work/wgpeer:/etc/wireguard" pic/cell-wireguard:latest

# --- health
for c in pic-smoke-dns-up pic-smoke-dns pic-smoke-ntp pic-smoke-ntp2 pic-smoke-wg pic-smoke-wgpeer pic-smoke-api pic-smoke-caddy; do
  check_healthy "$c" 120
done

# --- cell-dns
rcode=$(docker exec pic-smoke-dns drill @127.0.0.1 www.smoke.example A 2>&1 | sed -n 's/.*rcode: \([A-Z]*\).*/\1/p' || true)
[ "$rcode" = SERVFAIL ] && pass "cell-dns without forwarders does not recurse (SERVFAIL)" ||
  fail "cell-dns without forwarders answered $rcode"
# Every UDP datagram Unbound sent was a reply (no query to a root server or anywhere else).
read -r udp_in udp_out < <(docker exec pic-smoke-dns awk '/^Udp: [0-9]/ {print $2, $5}' /proc/net/snmp || echo "0 -1")
[ "$udp_out" -ge 0 ] && [ "$udp_out" -le "$udp_in" ] &&
  pass "cell-dns sent no query upstream (UDP in $udp_in, out $udp_out)" ||
  fail "cell-dns UDP counters: in $udp_in, out $udp_out"
printf 'forward-zone:\n    name: "."\n    forward-addr: %s\n' "$p.54" >"$work/dns/forward.conf"
docker exec pic-smoke-dns unbound-control reload >/dev/null 2>&1 || fail "unbound-control reload"
a=$(docker exec pic-smoke-dns drill -Q @"$p.53" www.smoke.example A || true)
[ "$a" = 192.168.77.7 ] && pass "cell-dns forwards after unbound-control reload (www.smoke.example -> $a)" ||
  fail "cell-dns forward answer: '$a'"
if out=$(docker run --rm --label "$label" --name pic-smoke-ctl --network "$net" \
  -v pic-smoke-dns-keys:/var/lib/unbound/control --entrypoint unbound-control pic/cell-dns:latest \
  -c /etc/unbound/unbound.conf -s "$p.53@8953" list_forwards 2>&1) && [[ $out == *"$p.54"* ]]; then
  pass "unbound-control from another container with the shared keys: $out"
else
  fail "remote unbound-control: $out"
fi

# --- cell-ntp
ref=$(docker exec pic-smoke-ntp chronyc -n tracking 2>&1 | sed -n 's/^Reference ID *: *//p' || true)
[[ $ref == 7F7F0101* ]] && pass "cell-ntp serves its local clock (reference $ref)" || fail "cell-ntp reference: $ref"
ref=$(docker exec pic-smoke-ntp2 chronyc -n tracking 2>&1 | sed -n 's/^Reference ID *: *//p' || true)
[[ $ref == *"($p.123)"* ]] && pass "a second chronyd syncs from cell-ntp (reference $ref)" ||
  fail "second chronyd reference: $ref"

# --- cell-wireguard
mode=$(docker logs pic-smoke-wg 2>&1 | sed -n 's/.*interface wg0 created (\(.*\))/\1/p' | tail -n1)
printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.99.0.2/32\n' "$ppub" >>"$work/wg/wg0.conf"
docker exec pic-smoke-wg bash -c 'wg syncconf wg0 <(wg-quick strip wg0)' || fail "wg syncconf"
query='\x00\x23\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x05smoke\x07example\x00\x00\x01\x00\x01'
reply=$(docker exec pic-smoke-wgpeer bash -c "exec 3<>/dev/tcp/$p.53/53 && printf '$query' >&3 && timeout 5 cat <&3 | od -An -tx1" 2>&1 | tr -d ' \n' || true)
if [[ $reply == *c0a84d07 ]]; then
  pass "peer on $peer_net resolved www.smoke.example through the tunnel ($mode WireGuard, forwarding, NAT)"
else
  fail "query through the tunnel: '$reply'"
fi
hs=$(docker exec pic-smoke-wg wg show wg0 latest-handshakes 2>/dev/null | cut -f2 || true)
[ "${hs:-0}" -gt 0 ] && pass "wg show: handshake with the peer added by wg syncconf" || fail "no handshake"

# --- cell-api and cell-caddy
body=$(curl -fsS --max-time 5 "http://$p.2/" 2>&1 || true)
[[ $body == *"<html"* || $body == *"<!doctype"* || $body == *"<!DOCTYPE"* ]] && pass "cell-caddy serves the UI on :80" ||
  fail "cell-caddy / : ${body:0:200}"
body=$(curl -fsS --max-time 5 "http://$p.2:8081/some/client/route" 2>&1 || true)
[[ $body == *"<html"* || $body == *"<!doctype"* || $body == *"<!DOCTYPE"* ]] && pass "cell-caddy :8081 falls back to index.html for client routes" ||
  fail "cell-caddy SPA fallback: ${body:0:200}"
body=$(curl -fsS --max-time 5 "http://$p.2/health" 2>&1 || true)
[[ $body == *'"status"'* ]] && pass "cell-caddy proxies /health to cell-api: $body" || fail "/health via caddy: $body"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$p.2/api/does-not-exist" || true)
[[ $code =~ ^[1-4][0-9][0-9]$ && $code != 502 ]] && pass "cell-caddy proxies /api/* (HTTP $code from cell-api)" ||
  fail "/api/* via caddy: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: evil.example:2019' "http://$p.2:2019/config/" || true)
[ "$code" = 403 ] && pass "caddy admin API rejects a foreign Host (403)" || fail "admin API with foreign Host: $code"
out=$(docker exec pic-smoke-api node --input-type=module -e "
  const base = 'http://$p.2:2019';
  const cfg = await (await fetch(base + '/config/')).json();
  cfg.apps.http.servers.cell.routes.unshift({ match: [{ path: ['/smoke'] }], handle: [{ handler: 'static_response', body: 'pushed' }] });
  const r = await fetch(base + '/load', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(cfg) });
  console.log(r.status);" 2>&1 || true)
body=$(curl -fsS --max-time 5 "http://$p.2/smoke" 2>&1 || true)
[ "$out" = 200 ] && [ "$body" = pushed ] && pass "cell-api pushed a config through caddy's admin API (POST /load)" ||
  fail "POST /load from cell-api: $out / $body"

log "memory at idle: $(docker stats 2>/dev/null --no-stream --format '{{.Name}}={{.MemUsage}}' pic-smoke-dns pic-smoke-ntp pic-smoke-wg pic-smoke-api pic-smoke-caddy | sed 's| / [^ ]*||' | tr '\n' ' ')"
if [ "$fails" -gt 0 ]; then
  log "$fails check(s) failed"
  exit 1
fi
log "all checks passed"
