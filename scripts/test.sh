#!/usr/bin/env bash
# Every test, in order of cost. Called by `npm test`, `./pic test` and .ci/run.
# PIC_TEST_SKIP="e2e ui" skips tiers (for quick local runs only; CI runs everything).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
skip=" ${PIC_TEST_SKIP:-} "
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
t0=$(date +%s)

if [ "$(id -u)" -eq 0 ] && [[ $skip != *" prereqs "* ]]; then
  step "prerequisites (Debian packages, with what only tests use)"
  bash scripts/install-prereqs.sh --for test
fi

step "lint and format (biome)"
biome check .
step "types (tsc)"
tsc --noEmit -p .
tsc --noEmit -p web
step "unit tests (schemas, renderers, planners, policies; the generated UI client is fresh)"
npm run --silent test:unit
step "integration tests (API on a real database, real daemons and tools)"
npm run --silent test:int

if [[ $skip != *" ui "* ]]; then
  step "web UI build"
  npm run --silent build:web
  step "UI tests (Playwright in Debian's Chromium)"
  node --test --test-concurrency=1 --test-reporter=spec "test/ui/*.test.ts"
fi

if [[ $skip != *" e2e "* ]] && compgen -G "test/e2e/*.test.ts" >/dev/null; then
  step "end-to-end tests (real cell on the Docker engine)"
  node --test --test-concurrency=1 --test-reporter=spec --test-timeout=1800000 "test/e2e/*.test.ts"
fi

step "all tests passed in $(( $(date +%s) - t0 ))s"
