#!/bin/bash
# Quotas on the WebDAV side. Every PIC_FILES_QUOTA_INTERVAL_S seconds (default 10) it sums the sizes
# of the regular files in each account's folder and writes the accounts at or over the quota
# (settings.json's quota_mb, 1024 MiB by default) into an nginx map, which nginx.conf answers PUT,
# MKCOL and COPY of with 507 Insufficient Storage; nginx reloads (gracefully: uploads in flight go on)
# only when the map changed. It also caps one request body at the quota (client_max_body_size).
# What an account may overshoot by: what it uploads between two scans (a body of at most the quota
# each), plus requests already in flight when the scan marks it. The UI's uploads (cell-api) are
# checked exactly, before and while they are written.
#   pic-files-quota loop    the background scan (started by the entrypoint)
#   pic-files-quota once    one scan now (the settings hook runs it after a change)
# Only names that pass the account pattern reach the map: nothing else is written into nginx's config.
set -uo pipefail
d=${PIC_FILES_DATA:-/srv/files}
run=${PIC_FILES_RUN:-/run/pic-files}
interval=${PIC_FILES_QUOTA_INTERVAL_S:-10}
DEFAULT_MB=1024

valid_user() { [[ $1 =~ ^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$ ]]; }

quota_mb() {
  local s
  s=$(head -c 256 "$d/settings.json" 2>/dev/null) || s=
  if [[ $s =~ ^\{\"quota_mb\":([0-9]{1,7})\}$ ]]; then
    echo "$((10#${BASH_REMATCH[1]}))"
  else
    echo "$DEFAULT_MB"
  fi
}

# Replaces $run/$1 with the content of the temp file $2 when it differs; true when it changed.
install_if_changed() {
  if cmp -s "$2" "$run/$1"; then
    rm -f "$2"
    return 1
  fi
  chmod 0644 "$2"
  mv -f "$2" "$run/$1"
}

scan() {
  local mb limit map body dir u used reload=0
  mb=$(quota_mb)
  limit=$((mb * 1024 * 1024))
  map=$(mktemp "$run/.over-quota.XXXXXX") || return 1
  body=$(mktemp "$run/.body-size.XXXXXX") || return 1
  for dir in "$d"/users/*; do
    u=${dir##*/}
    [ -d "$dir" ] && [ ! -L "$dir" ] && valid_user "$u" || continue
    used=$(find "$dir" -xdev -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
    if ((used >= limit)); then printf '"%s" 1;\n' "$u" >>"$map"; fi
  done
  printf 'client_max_body_size %dm;\n' "$mb" >"$body"
  install_if_changed over-quota.conf "$map" && reload=1
  install_if_changed body-size.conf "$body" && reload=1
  if ((reload)) && [ -s /run/nginx.pid ]; then
    nginx -s reload 2>/dev/null || true
  fi
  return 0
}

install -d -m 0755 "$run"
case "${1:-}" in
  once) scan ;;
  loop)
    while :; do
      scan || true
      sleep "$interval"
    done
    ;;
  *)
    echo "usage: pic-files-quota once|loop" >&2
    exit 2
    ;;
esac
