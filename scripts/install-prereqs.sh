#!/usr/bin/env bash
# Installs the Debian packages PIC needs on the host, only those missing (checked with dpkg-query).
# Idempotent: a second run installs nothing and says so.
#
# usage: scripts/install-prereqs.sh [--for run|test|bench]
#   --for run   (default; what `./pic up --yes` installs) what the cell needs on a production host:
#     docker.io, containerd  the engine that runs the cell (scripts/ensure-docker.sh starts it)
#     debootstrap            creates the local debian:bookworm-slim base image (scripts/base-images.sh)
#     iptables, iproute2     host networking used by dockerd
#     ca-certificates        TLS to deb.debian.org / the npm registry
#   --for test  (what scripts/test.sh installs) the run set plus what only tests use:
#     chromium               the browser the UI tests drive through Playwright
#     libnss3-tools          certutil: the mail e2e puts the cell's root in the browser's NSS store, as a user would
#     wireguard-tools/-go    wg/wg-quick and the userspace implementation for the netns tests' peers;
#                            on bookworm wireguard-go comes from Debian's bookworm-backports (ADR 0024:
#                            the batching/offload release the cell's images use), through the apt
#                            source file /etc/apt/sources.list.d/pic-bookworm-backports.sources this
#                            script writes (unless the host already lists that suite); nothing else
#                            is taken from backports (NotAutomatic; `-t` for that package only)
#     unbound, caddy, chrony config checkers for integration tests (unbound-checkconf, caddy validate,
#                            chronyd -p); the daemons themselves run in containers, never on the host
#     dns-root-data          the root trust anchor (/usr/share/dns/root.key) the DNSSEC tests validate with
#     pebble                 Let's Encrypt's test ACME server and pebble-challtestsrv, run on loopback
#                            ports by the ACME tests (no service is installed or started)
#     age                    proves backups are real age files (age -d opens PIC's, PIC opens age -p's)
#     curl                   HTTP probes in the netns tests
#     iputils-ping           ping through the tunnels in the netns tests (not on a minimal Debian)
#     python3-bcrypt/-passlib the calendar service's account script hashes, checked as Radicale does
#     docker-registry        Docker's registry (distribution 2.8), run on a loopback port by the store's
#                            signature tests to push, sign and pull images (its service is stopped)
#   --for bench (what `npm run bench:dns`, `bench:https` and `bench:backup` ask for when a tool is missing) the
#   run set plus:
#     unbound, dns-root-data the two resolvers the DNS benchmark starts on loopback
#     dnsperf                its load generator (DNS-OARC's, Debian's package)
#     caddy                  the HTTPS benchmark's two servers (the cell's config and the bare file_server)
#     nghttp2-client         h2load, the HTTPS benchmark's load generator (C; HTTP/1.1 and HTTP/2)
#     age                    the backup benchmark's reference (`age -p`, `age -d`: Go's age, Debian's)
#     time                   GNU time: the CPU seconds of the reference's processes (tar, gzip, age)
#   The daemons of a production cell (Unbound, Caddy, chrony, WireGuard) run in its containers, whose
#   images install them: a production host never gets them.
#
# Daemons that packages start on their own (chrony, unbound, caddy, docker-registry) are stopped afterwards, and kept
# from starting again on boot: their default configs talk to public NTP pools and the DNS root
# servers, the registry's listens on :5000 on every interface (the tests start their own on loopback),
# and the cell's containers need ports 53/80/123 on the host free anyway.
#
# Env: PIC_PREREQS_EXTRA="pkg ..." adds packages; PIC_PREREQS_NO_STOP=1 leaves host daemons alone.
set -euo pipefail

run_packages=(docker.io containerd debootstrap iptables iproute2 ca-certificates)
test_packages=(chromium libnss3-tools wireguard-tools wireguard-go unbound dns-root-data pebble caddy chrony curl iputils-ping age python3-bcrypt python3-passlib docker-registry)
bench_packages=(unbound dns-root-data dnsperf age time caddy nghttp2-client)

purpose=run
while [ $# -gt 0 ]; do
  case $1 in
    --for)
      purpose=${2:-}
      shift 2 || true
      ;;
    --for=*)
      purpose=${1#--for=}
      shift
      ;;
    -h | --help)
      sed -n '2,30p' "$0"
      exit 0
      ;;
    *)
      echo "usage: $0 [--for run|test|bench]" >&2
      exit 2
      ;;
  esac
done
case $purpose in
  run) packages=("${run_packages[@]}") ;;
  test) packages=("${run_packages[@]}" "${test_packages[@]}") ;;
  bench) packages=("${run_packages[@]}" "${bench_packages[@]}") ;;
  *)
    echo "usage: $0 [--for run|test|bench]" >&2
    exit 2
    ;;
esac
# shellcheck disable=SC2206
[ -n "${PIC_PREREQS_EXTRA:-}" ] && packages+=(${PIC_PREREQS_EXTRA})

log() { printf '[install-prereqs] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (apt-get install)" >&2
  exit 1
fi
if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  log "this script supports Debian (dpkg/apt-get) only" >&2
  exit 1
fi

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

# Packages taken from bookworm-backports on a bookworm host (ADR 0024); elsewhere the release's own.
backports_suite=bookworm-backports
backports_wanted=(wireguard-go)
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
from_backports() {
  [ "$codename" = bookworm ] || return 1
  case " ${backports_wanted[*]} " in *" $1 "*) return 0 ;; esac
  return 1
}
# Installed, and from backports when it should be (a backport's version carries ~bpo12).
current() {
  installed "$1" || return 1
  from_backports "$1" || return 0
  case $(dpkg-query -W -f='${Version}' "$1" 2>/dev/null) in *~bpo12*) return 0 ;; esac
  return 1
}

missing=()
missing_bpo=()
for p in "${packages[@]}"; do
  current "$p" && continue
  if from_backports "$p"; then missing_bpo+=("$p"); else missing+=("$p"); fi
done

# The backports suite, as Debian documents it (https://backports.debian.org/Instructions/), in a file
# of PIC's own, written only when the host lists the suite nowhere yet; rewritten (atomically) only if
# its content differs. Signed by the archive key every Debian host already trusts.
backports_file=/etc/apt/sources.list.d/pic-bookworm-backports.sources
backports_source() {
  local want tmp
  want=$(printf '%s\n' '# written by PIC scripts/install-prereqs.sh: wireguard-go for the tests (ADR 0024)' \
    'Types: deb' 'URIs: http://deb.debian.org/debian' "Suites: $backports_suite" 'Components: main' \
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg')
  if [ -f "$backports_file" ] && [ "$(cat "$backports_file")" = "$want" ]; then return 1; fi
  if [ ! -f "$backports_file" ] &&
    grep -rqsE --include='*.list' --include='*.sources' "^[^#]*[[:space:]]$backports_suite([[:space:]]|\$)" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "$backports_suite is already an apt source on this host; not adding $backports_file"
    return 1
  fi
  tmp=$(mktemp "$backports_file.XXXXXX")
  printf '%s\n' "$want" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$backports_file"
  log "wrote $backports_file"
}

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_bpo[@]} -eq 0 ]; then
  log "all ${#packages[@]} packages for '$purpose' already installed; nothing to install"
else
  log "installing for '$purpose': ${missing[*]} ${missing_bpo[*]/%/\/$backports_suite}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages must not start their daemons (see above): invoke-rc.d asks policy-rc.d, and 101 means
  # "not now". Only when the host has no policy of its own, and removed again afterwards.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# written by PIC scripts/install-prereqs.sh while installing\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  # Refresh the lists only when they are absent or older than a day (apt-get update is slow), or when
  # the backports suite was just added or its lists are missing.
  stale=0
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ] || stale=1
  if [ ${#missing_bpo[@]} -gt 0 ]; then
    backports_source && stale=1
    # (captured first: with pipefail, grep -q closing the pipe early would fail the pipeline)
    policy=$(apt-cache policy "${missing_bpo[0]}" 2>/dev/null || true)
    [[ $policy == *" $backports_suite/"* ]] || stale=1
  fi
  if [ $stale = 1 ]; then
    log "apt-get update"
    apt-get update -q
  fi
  apt_install() {
    apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "$@"
  }
  install_all() {
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}" || return 1; fi
    # -t for these packages only: everything else (their dependencies included) stays on the release.
    if [ ${#missing_bpo[@]} -gt 0 ]; then apt_install -t "$backports_suite" "${missing_bpo[@]}" || return 1; fi
  }
  if ! install_all; then
    log "install failed; refreshing package lists and retrying once"
    apt-get update -q
    install_all
  fi
  log "installed: ${missing[*]} ${missing_bpo[*]}"
fi
if [ "$codename" = bookworm ]; then
  for p in "${backports_wanted[@]}"; do
    installed "$p" || continue
    current "$p" || { log "$p is not from $backports_suite:" >&2; apt-cache policy "$p" >&2; exit 1; }
    log "$p $(dpkg-query -W -f='${Version}' "$p") from $backports_suite"
  done
fi

# Stop host daemons that packages may have started (only when a default config would leak to the
# public internet or take a port the cell needs). No systemd here in general: try the init.d script,
# then signal the exact pids. Only processes in the HOST's pid namespace count: the cell's own
# chronyd/unbound/caddy run in containers and are visible from the host with the same names.
host_pids() {
  local pid self_ns
  self_ns=$(readlink /proc/self/ns/pid)
  for pid in $(pgrep -x "$1" 2>/dev/null); do
    [ "$(readlink "/proc/$pid/ns/pid" 2>/dev/null)" = "$self_ns" ] && echo "$pid"
  done
  return 0
}

stop_daemon() {
  local name=$1 proc=$2 pids
  # Kept from starting on the next boot too, whether or not it runs now.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable "$name" >/dev/null 2>&1 || true
  elif command -v update-rc.d >/dev/null 2>&1 && [ -x "/etc/init.d/$name" ]; then
    update-rc.d "$name" disable >/dev/null 2>&1 || true
  fi
  pids=$(host_pids "$proc")
  [ -n "$pids" ] || return 0
  if [ -x "/etc/init.d/$name" ]; then
    "/etc/init.d/$name" stop >/dev/null 2>&1 || true
  fi
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl stop "$name" >/dev/null 2>&1 || true
  fi
  pids=$(host_pids "$proc")
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [ -n "$(host_pids "$proc")" ] || break
      sleep 0.5
    done
  fi
  pids=$(host_pids "$proc")
  if [ -n "$pids" ]; then
    log "WARNING: could not stop host $proc (pid ${pids//$'\n'/ })"
  else
    log "stopped host $proc (its default config reaches public servers; PIC runs it in a container)"
  fi
}

if [ "${PIC_PREREQS_NO_STOP:-0}" != 1 ]; then
  stop_daemon chrony chronyd
  stop_daemon unbound unbound
  stop_daemon caddy caddy
  stop_daemon docker-registry docker-registry
fi

log "done"
