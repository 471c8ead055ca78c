#!/bin/bash
# Prepares the data volume (empty on the first start: the store mounts data/services/files/data
# here), writes the quota map, checks the configuration with nginx's own parser, starts the quota
# scan in the background and runs nginx in the foreground.
#   /srv/files/htpasswd       root:pic-files 0640   sha512-crypt hashes, read by the workers
#   /srv/files/settings.json  root:pic-files 0640   {"quota_mb":N} (pic-files-settings; absent: 1024)
#   /srv/files/users/<u>      pic-files 0700        one folder per account (made by pic-files-account)
#   /srv/files/tmp            pic-files 0700        uploads in progress (nginx's and cell-api's)
#   /srv/files/removed        root 0700             folders of removed accounts, kept for the owner
# pic-files is uid/gid 1000, cell-api's uid (the UI's file browser works on this volume, ADR 0010).
set -euo pipefail
d=/srv/files
install -d -o root -g pic-files -m 0750 "$d" "$d/users"
install -d -o pic-files -g pic-files -m 0700 "$d/tmp"
install -d -o root -g root -m 0700 "$d/removed"
[ -e "$d/htpasswd" ] || install -o root -g pic-files -m 0640 /dev/null "$d/htpasswd"
chgrp pic-files "$d/htpasswd"
# Folders made by an earlier image, whose workers were www-data (33): handed to pic-files once (-h:
# a symlink itself, never what it points to).
if [ -n "$(find "$d/users" "$d/tmp" -xdev -uid 33 -print -quit)" ]; then
  find "$d/users" "$d/tmp" -xdev -uid 33 -exec chown -h pic-files:pic-files {} +
fi
/usr/local/bin/pic-files-quota once
nginx -t -q
/usr/local/bin/pic-files-quota loop &
exec "$@"
