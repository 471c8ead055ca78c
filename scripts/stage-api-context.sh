#!/usr/bin/env bash
# Prepares the build context of images/cell-api in DIR (default: a new temp dir, printed on stdout):
# the repository-root layout with only what the API needs at run time:
#   package.json, package-lock.json, bin/, src/ (the files scripts/api-runtime-files.sh lists: no
#   tests, test kits or golden files), images/cell-api/,
#   images/store/ (the built-in catalog, when present) and node_modules/ with production
#   dependencies only.
# node_modules comes from this checkout's node_modules, copied and pruned with
# `npm prune --omit=dev --ignore-scripts` (no network; falls back to
# `npm ci --omit=dev --ignore-scripts` from the npm registry when no node_modules exists).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-}
log() { printf '[stage-api] %s\n' "$*" >&2; }

if [ -z "$out" ]; then
  out=$(mktemp -d /tmp/pic-api-context.XXXXXX)
else
  rm -rf "$out"
  mkdir -p "$out"
fi
npm_bin=$(command -v npm || true)
[ -n "$npm_bin" ] || { log "npm is needed on the host to stage node_modules"; exit 1; }

cd "$root"
cp package.json package-lock.json "$out/"
cp -r bin "$out/bin"
mkdir -p "$out/images"
# src without tests, kits and golden files (not needed at run time, and they change often).
bash scripts/api-runtime-files.sh | tar -cf - --verbatim-files-from -T - | tar -C "$out" -xf -
cp -r images/cell-api "$out/images/cell-api"
[ -d images/store ] && cp -r images/store "$out/images/store"

t0=$SECONDS
if [ -d node_modules ]; then
  # The contents, not the entry: a worktree's node_modules may be a symlink to another checkout's
  # install, and npm prune would drop a symlinked node_modules and reinstall it from the registry.
  mkdir -p "$out/node_modules"
  cp -a node_modules/. "$out/node_modules/"
  (cd "$out" && "$npm_bin" prune --omit=dev --ignore-scripts --no-audit --no-fund --offline --loglevel=error >&2)
else
  log "no node_modules in the checkout: npm ci --omit=dev from the registry"
  (cd "$out" && "$npm_bin" ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi
# Drop what a running server never reads.
find "$out/node_modules" \( -name '*.md' -o -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) \
  -type f -delete 2>/dev/null || true
find "$out/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete
log "production node_modules: $(du -sh "$out/node_modules" | cut -f1) in $((SECONDS - t0))s"
echo "$out"
