#!/bin/bash
# Healthy when chronyc answers and chronyd is synchronised to a reference: an upstream server, or its
# own clock (Reference ID 7F7F0101 "LOCL") when there is no upstream.
set -uo pipefail
out=$(chronyc -n tracking 2>&1) || { echo "chronyc tracking failed: $out"; exit 1; }
ref=$(sed -n 's/^Reference ID *: *//p' <<<"$out")
leap=$(sed -n 's/^Leap status *: *//p' <<<"$out")
if [ -z "$ref" ] || [[ $ref == 00000000* ]] || [ "$leap" = "Not synchronised" ]; then
  echo "chrony not synchronised (reference: ${ref:-none}, leap: ${leap:-?})"
  exit 1
fi
echo "chrony ok: reference $ref, leap $leap"
