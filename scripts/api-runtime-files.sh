#!/usr/bin/env bash
# Prints the src/ files cell-api needs at run time, one repository path per line: everything under
# src/ except tests (*.test.ts), test kits (*-kit.ts) and test data (golden/ and golden-*/ folders of
# the renderers' golden files, __fixtures__/, testdata/). The one list both scripts/build-images.sh
# (input hash) and scripts/stage-api-context.sh (build context) use, so they cannot disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
find src -type f \
  -not -name '*.test.ts' -not -name '*-kit.ts' \
  -not -path '*/golden/*' -not -path '*/golden-*/*' -not -path '*/__golden__/*' \
  -not -path '*/__fixtures__/*' -not -path '*/testdata/*' |
  LC_ALL=C sort
