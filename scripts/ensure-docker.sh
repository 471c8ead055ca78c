#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock. When `docker info` fails, starts
# containerd and then dockerd in the background (no systemd needed), logging to
# /var/log/pic-containerd.log and /var/log/pic-dockerd.log, and waits up to 60 s for the socket.
# Idempotent: does nothing when the engine already answers.
#
# dockerd is started with no registry mirrors and no insecure registries: PIC never pulls (the base
# images are created locally by scripts/base-images.sh); --ip-forward stays on because containers
# need NAT for apt during image builds.
#
# Env: PIC_DOCKERD_ARGS extra dockerd flags; PIC_DOCKER_WAIT seconds to wait (default 60).
set -euo pipefail

log() { printf '[ensure-docker] %s\n' "$*"; }
wait_s=${PIC_DOCKER_WAIT:-60}
sock=/var/run/docker.sock

if docker info >/dev/null 2>&1; then
  log "docker engine already running ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "docker info fails and starting dockerd needs root; run as root or start docker yourself" >&2
  exit 1
fi
for bin in containerd dockerd; do
  if ! command -v "$bin" >/dev/null; then
    log "$bin not found; run scripts/install-prereqs.sh (Debian package docker.io)" >&2
    exit 1
  fi
done

# cgroup v2 is mounted on modern Debian; v1 hosts without systemd need cgroupfs-mount.
if [ ! -e /sys/fs/cgroup/cgroup.controllers ] && [ -x /etc/init.d/cgroupfs-mount ]; then
  /etc/init.d/cgroupfs-mount start >/dev/null 2>&1 || true
fi

if [ -S /run/containerd/containerd.sock ] && pgrep -x containerd >/dev/null; then
  log "containerd already running"
else
  log "starting containerd (log /var/log/pic-containerd.log)"
  # setsid: a session of its own, so the engine outlives the process group that started it (a CI
  # step, a terminal, a tool's job) instead of being killed with it.
  setsid nohup containerd >>/var/log/pic-containerd.log 2>&1 </dev/null &
  for _ in $(seq 1 $((wait_s * 2))); do
    [ -S /run/containerd/containerd.sock ] && break
    sleep 0.5
  done
  if [ ! -S /run/containerd/containerd.sock ]; then
    log "containerd did not create /run/containerd/containerd.sock; see /var/log/pic-containerd.log:" >&2
    tail -n 20 /var/log/pic-containerd.log >&2 || true
    exit 1
  fi
fi

if pgrep -x dockerd >/dev/null; then
  log "dockerd process exists but does not answer yet; waiting"
else
  # A stale pid file from a killed dockerd makes it refuse to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  log "starting dockerd (log /var/log/pic-dockerd.log)"
  # shellcheck disable=SC2086
  setsid nohup dockerd --containerd=/run/containerd/containerd.sock -H "unix://$sock" \
    ${PIC_DOCKERD_ARGS:-} >>/var/log/pic-dockerd.log 2>&1 </dev/null &
fi

for _ in $(seq 1 "$wait_s"); do
  if [ -S "$sock" ] && docker info >/dev/null 2>&1; then
    log "docker engine ready ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    exit 0
  fi
  sleep 1
done

log "docker engine did not answer on $sock within ${wait_s}s; last lines of /var/log/pic-dockerd.log:" >&2
tail -n 30 /var/log/pic-dockerd.log >&2 || true
exit 1
