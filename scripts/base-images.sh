#!/usr/bin/env bash
# Makes sure the two base images every PIC Dockerfile starts FROM exist in the local engine:
#   debian:bookworm-slim    created with debootstrap (minbase) and `docker import`
#   node:24-bookworm-slim   debian:bookworm-slim + the Node 24 binary from node_modules/node
# No image registry is reachable on the machines PIC is developed and tested on, so we create them
# under the same names the Dockerfiles use; where Docker Hub is reachable the pulled images work the
# same. An existing image is kept (cache); `--force` rebuilds both.
#
# Env: PIC_DEBIAN_MIRROR  debootstrap mirror (default http://deb.debian.org/debian); the image's own
#                         apt sources always point at deb.debian.org like the host's
#      PIC_NODE_BIN       Node 24 binary to copy (default node_modules/node/bin/node in this repo)
#      PIC_BASE_TMP       where to debootstrap (default: a temp dir under /var/tmp)
set -euo pipefail
export DOCKER_BUILDKIT=0 # the legacy builder never contacts a registry for a local FROM

root=$(cd "$(dirname "$0")/.." && pwd)
force=0
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    -h | --help)
      sed -n '2,14p' "$0"
      exit 0
      ;;
    *)
      echo "usage: $0 [--force]" >&2
      exit 2
      ;;
  esac
done

log() { printf '[base-images] %s\n' "$*"; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
mirror=${PIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cleanup_dirs=()
cleanup() {
  local d
  for d in "${cleanup_dirs[@]}"; do
    [ -n "$d" ] && [ -d "$d" ] && rm -rf --one-file-system "$d"
  done
}
trap cleanup EXIT

build_debian() {
  if [ "$(id -u)" -ne 0 ]; then
    log "debootstrap needs root" >&2
    exit 1
  fi
  command -v debootstrap >/dev/null || {
    log "debootstrap missing: run scripts/install-prereqs.sh" >&2
    exit 1
  }
  local tmp rootfs t0=$SECONDS
  tmp=$(mktemp -d "${PIC_BASE_TMP:-/var/tmp}/pic-debootstrap.XXXXXX")
  cleanup_dirs+=("$tmp")
  rootfs=$tmp/rootfs
  log "debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
    log "debootstrap failed; last lines of its log:" >&2
    tail -n 30 "$tmp/debootstrap.log" >&2
    tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2 2>/dev/null || true
    exit 1
  fi

  log "trimming docs, locales, apt lists and caches"
  # The same apt sources as the host (deb822), whatever mirror debootstrap used.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # What the official slim image does: later `apt-get install`s in our Dockerfiles skip docs, man
  # pages and translations, and apt cleans its caches after itself.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
Acquire::Languages "none";
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes" <<'EOF'
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests" <<'EOF'
Apt::AutoRemove::SuggestsImportant "false";
EOF
  # Nothing starts services inside an image build.
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 0755 "$rootfs/usr/sbin/policy-rc.d"

  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/groff/* \
    "$rootfs"/usr/share/lintian/* "$rootfs"/usr/share/linda/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias \
    -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/var/lib/dpkg/*-old "$rootfs/debootstrap" "$rootfs"/tmp/* "$rootfs"/var/tmp/*
  find "$rootfs/var/log" -type f -delete
  # Per-container files the engine provides or that must differ per machine.
  : >"$rootfs/etc/machine-id"
  rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"

  log "importing as debian:bookworm-slim ($(du -sh "$rootfs" | cut -f1) on disk)"
  tar --numeric-owner --xattrs -C "$rootfs" -c . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --change 'LABEL org.pic.base=debootstrap' \
      --message "debootstrap --variant=minbase bookworm ($mirror)" \
      - debian:bookworm-slim >/dev/null
  log "debian:bookworm-slim ready in $((SECONDS - t0))s"
}

build_node() {
  local node_bin ctx version t0=$SECONDS
  node_bin=$(readlink -f "${PIC_NODE_BIN:-$root/node_modules/node/bin/node}")
  if [ ! -x "$node_bin" ]; then
    log "Node 24 binary not found at $node_bin; run \`npm ci\` (the node@24 devDependency)" >&2
    exit 1
  fi
  version=$("$node_bin" -v)
  case $version in
    v24.*) ;;
    *)
      log "expected Node 24, $node_bin is $version" >&2
      exit 1
      ;;
  esac
  ctx=$(mktemp -d /tmp/pic-node-image.XXXXXX)
  cleanup_dirs+=("$ctx")
  cp "$node_bin" "$ctx/node"
  # The release binary carries ~18 MB of symbols; strip them when binutils is on the host.
  if command -v strip >/dev/null; then
    strip "$ctx/node"
  fi
  cat >"$ctx/Dockerfile" <<EOF
FROM debian:bookworm-slim
# The npm package node@24 ships the binary only (no npm, no corepack); PIC runs with npm on the host.
COPY node /usr/local/bin/node
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node -e 'process.exit(process.versions.node.startsWith("24.") ? 0 : 1)'
ENV NODE_VERSION=${version#v}
LABEL org.pic.base=node-binary
CMD ["node"]
EOF
  log "building node:24-bookworm-slim with Node $version"
  docker build --pull=false -q -t node:24-bookworm-slim "$ctx" >/dev/null
  log "node:24-bookworm-slim ready in $((SECONDS - t0))s"
}

docker info >/dev/null 2>&1 || {
  log "docker engine not reachable; run scripts/ensure-docker.sh" >&2
  exit 1
}

if [ "$force" = 1 ] || ! have_image debian:bookworm-slim; then
  build_debian
  force_node=1
else
  log "debian:bookworm-slim present (cached; --force rebuilds)"
  force_node=$force
fi
if [ "$force_node" = 1 ] || ! have_image node:24-bookworm-slim; then
  build_node
else
  log "node:24-bookworm-slim present (cached; --force rebuilds)"
fi
for ref in debian:bookworm-slim node:24-bookworm-slim; do
  log "  $ref $(($(docker image inspect -f '{{.Size}}' "$ref") / 1000000)) MB"
done
