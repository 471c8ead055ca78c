#!/bin/bash
# The files service's settings hook (the manifest's `settings.apply`): the store runs it in the
# container (docker exec, argv only, as root) after each start and each change, with ONE JSON object on
# stdin holding every setting, `null` for one left unset:
#   {"quota_mb": 2048}     every account may keep up to 2048 MiB (MiB = 1048576 bytes)
#   {"quota_mb": null}     the default, 1024 MiB
# The object is matched whole by a strict pattern (no JSON parser in the image, and nothing else is
# accepted: a newline or any other key is refused), then written as /srv/files/settings.json, which
# the quota scan (pic-files-quota) and cell-api's file browser both read. Replaced whole (rename).
set -euo pipefail
umask 027
d=${PIC_FILES_DATA:-/srv/files}
group=${PIC_FILES_GROUP:-pic-files}
DEFAULT_MB=1024
MAX_MB=1048576

die() {
  printf 'pic-files-settings: %s\n' "$*" >&2
  exit 2
}

input=$(head -c 4096)
ws='[[:space:]]*'
[[ $input =~ ^$ws\{$ws\"quota_mb\"$ws:$ws(null|[0-9]{1,7})$ws\}$ws$ ]] ||
  die 'expected {"quota_mb": <integer|null>} on stdin'
value=${BASH_REMATCH[1]}
if [ "$value" = null ]; then
  mb=$DEFAULT_MB
else
  mb=$((10#$value))
  ((mb >= 1 && mb <= MAX_MB)) || die "quota_mb must be between 1 and $MAX_MB"
fi

tmp=$(mktemp "$d/.settings.json.XXXXXX")
printf '{"quota_mb":%d}\n' "$mb" >"$tmp"
chgrp "$group" "$tmp"
chmod 0640 "$tmp"
mv -f "$tmp" "$d/settings.json"
# Applied at once: the scan rewrites nginx's refusals for the new limit.
if [ "${PIC_FILES_NO_SCAN:-}" != 1 ]; then
  /usr/local/bin/pic-files-quota once >/dev/null || true
fi
echo "quota_mb=$mb"
