#!/usr/bin/env bash
# Builds PIC's images (pic/<name>:latest) from images/<name>/Dockerfile, in dependency order, and
# skips an image whose inputs did not change: the hash of its Dockerfile directory, the context
# files it copies, and the ID of its base image is stored in the label org.pic.inputs and compared
# with `docker image inspect` before building.
#
# usage: scripts/build-images.sh [--force] [name...]     (default: all images)
#
# Never pulls: base images must exist locally (scripts/base-images.sh creates them). Uses the
# legacy builder (DOCKER_BUILDKIT=0): Debian's docker.io 20.10 has no buildx, and the legacy builder
# resolves FROM from the local store without contacting a registry.
# Each build gets a slim context with the repository-root layout (only the files its Dockerfile
# copies), so no .dockerignore is needed and node_modules is never sent whole to the engine.
#
# Env: PIC_WEB_DIST    built UI for cell-caddy (default web/dist; `npm run build:web` makes it)
#      PIC_BUILD_VERBOSE=1  stream the whole docker build output (default: steps only; the full
#                           log is kept in /tmp/pic-build-<name>.log and printed on failure)
set -euo pipefail
export DOCKER_BUILDKIT=0

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
all=(cell-dns cell-ntp cell-wireguard cell-caddy cell-api)
force=0
names=()
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    -h | --help)
      sed -n '2,19p' "$0"
      exit 0
      ;;
    -*)
      echo "unknown option $a" >&2
      exit 2
      ;;
    *) names+=("$a") ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for n in "${names[@]}"; do
  [ -f "images/$n/Dockerfile" ] || { echo "no image named '$n' (images/$n/Dockerfile)" >&2; exit 2; }
done

log() { printf '[build-images] %s\n' "$*"; }
web_dist=${PIC_WEB_DIST:-$root/web/dist}
tmp_dirs=()
cleanup() {
  local d
  for d in "${tmp_dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

docker info >/dev/null 2>&1 || { log "docker engine not reachable; run scripts/ensure-docker.sh" >&2; exit 1; }

# Lists "<repo path>\t<file on disk>" for every context file of an image.
inputs_of() {
  local name=$1
  find "images/$name" -type f | sed 's|.*|&\t&|'
  case $name in
    cell-caddy)
      (cd "$web_dist" && find . -type f) | sed "s|^\./\(.*\)|web/dist/\1\t$web_dist/\1|"
      ;;
    cell-api)
      printf 'package.json\tpackage.json\npackage-lock.json\tpackage-lock.json\n'
      find bin -type f | sed 's|.*|&\t&|'
      bash scripts/api-runtime-files.sh | sed 's|.*|&\t&|'
      [ -d images/store ] && find images/store -type f | sed 's|.*|&\t&|'
      ;;
  esac
  return 0
}

# Hash of: base image ID + for each input (sorted by repo path): path, mode and content hash.
inputs_hash() {
  local name=$1 base_id=$2
  {
    echo "base $base_id"
    inputs_of "$name" | LC_ALL=C sort | while IFS=$'\t' read -r rel disk; do
      printf '%s %s %s\n' "$rel" "$(stat -c '%a' "$disk")" "$(sha256sum <"$disk" | cut -d' ' -f1)"
    done
  } | sha256sum | cut -c1-32
}

stage_context() {
  local name=$1 ctx=$2
  case $name in
    cell-api)
      bash scripts/stage-api-context.sh "$ctx" >/dev/null
      ;;
    *)
      mkdir -p "$ctx/images"
      cp -a "images/$name" "$ctx/images/$name"
      if [ "$name" = cell-caddy ]; then
        mkdir -p "$ctx/web"
        cp -a "$web_dist/." "$ctx/web/dist"
      fi
      ;;
  esac
}

# Preflight, before spending time on any build.
for name in "${names[@]}"; do
  # index.html.gz: the build's precompressed copies (web/precompress.ts); cell-caddy serves them and
  # compresses nothing per request, so a UI built without them would be served uncompressed.
  if [ "$name" = cell-caddy ] && { [ ! -f "$web_dist/index.html" ] || [ ! -f "$web_dist/index.html.gz" ]; }; then
    log "cell-caddy: the built UI is missing or predates its precompressed copies ($web_dist/index.html{,.gz}); run \`npm run build:web\` first" >&2
    log "(or point PIC_WEB_DIST at a built UI directory)" >&2
    exit 1
  fi
done

built=0 skipped=0 t_all=$SECONDS
for name in "${names[@]}"; do
  t0=$SECONDS
  tag=pic/$name:latest
  base=$(awk 'toupper($1)=="FROM"{print $2; exit}' "images/$name/Dockerfile")
  if ! base_id=$(docker image inspect -f '{{.Id}}' "$base" 2>/dev/null); then
    log "$name: base image $base is missing; run scripts/base-images.sh" >&2
    exit 1
  fi
  hash=$(inputs_hash "$name" "$base_id")
  current=$(docker image inspect -f '{{index .Config.Labels "org.pic.inputs"}}' "$tag" 2>/dev/null || true)
  if [ "$force" = 0 ] && [ "$current" = "$hash" ]; then
    log "$name: up to date ($tag, inputs $hash)"
    skipped=$((skipped + 1))
    continue
  fi
  old_id=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  log "$name: building $tag from $base (inputs $hash${current:+, was $current})"
  ctx=$(mktemp -d "/tmp/pic-ctx-$name.XXXXXX")
  tmp_dirs+=("$ctx")
  stage_context "$name" "$ctx"
  logf=/tmp/pic-build-$name.log
  set +e
  if [ "${PIC_BUILD_VERBOSE:-0}" = 1 ]; then
    docker build --pull=false --rm --force-rm --label "org.pic.inputs=$hash" -t "$tag" \
      -f "$ctx/images/$name/Dockerfile" "$ctx" 2>&1 | tee "$logf"
  else
    docker build --pull=false --rm --force-rm --label "org.pic.inputs=$hash" -t "$tag" \
      -f "$ctx/images/$name/Dockerfile" "$ctx" >"$logf" 2>&1
  fi
  rc=$?
  set -e
  if [ "$rc" != 0 ]; then
    log "$name: docker build failed (exit $rc); last lines of $logf:" >&2
    tail -n 40 "$logf" >&2
    exit 1
  fi
  [ "${PIC_BUILD_VERBOSE:-0}" = 1 ] || grep -E '^Step [0-9]+/' "$logf" | sed 's/^/    /' | cut -c1-110
  rm -rf "$ctx"
  new_id=$(docker image inspect -f '{{.Id}}' "$tag")
  # Drop the image this build replaced when nothing uses it any more (it is ours: pic/<name>).
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true
  fi
  size=$(($(docker image inspect -f '{{.Size}}' "$tag") / 1000000))
  log "$name: built in $((SECONDS - t0))s, ${size} MB"
  built=$((built + 1))
done
log "done in $((SECONDS - t_all))s: $built built, $skipped up to date"
