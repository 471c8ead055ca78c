#!/bin/bash
# Prepares the data volume (empty on the first start: the store mounts data/services/files/data
# here), checks the configuration with nginx's own parser, and runs nginx in the foreground.
#   /srv/files/htpasswd   root:www-data 0640   sha512-crypt hashes, read by the workers
#   /srv/files/users/<u>  www-data 0700        one folder per account (made by pic-files-account)
#   /srv/files/tmp        www-data 0700        uploads in progress
#   /srv/files/removed    root 0700            folders of removed accounts, kept for the owner
set -euo pipefail
d=/srv/files
install -d -o root -g www-data -m 0750 "$d" "$d/users"
install -d -o www-data -g www-data -m 0700 "$d/tmp"
install -d -o root -g root -m 0700 "$d/removed"
[ -e "$d/htpasswd" ] || install -o root -g www-data -m 0640 /dev/null "$d/htpasswd"
nginx -t -q
exec "$@"
