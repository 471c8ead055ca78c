#!/bin/bash
# Prepares the data volume (empty on the first start: the store mounts data/services/calendar/data
# here, owned by uid 932) and runs Radicale in the foreground.
set -euo pipefail
umask 077
data=/var/lib/radicale
mkdir -p "$data/collections"
[ -e "$data/users" ] || : >"$data/users"
exec "$@"
