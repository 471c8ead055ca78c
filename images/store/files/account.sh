#!/bin/bash
# Per-peer accounts of the files service. The store runs it in the container (docker exec, argv only,
# as root) with the manifest's hooks:
#   add <username>      creates the account and its folder, or changes its password; the password is
#                       ONE line on stdin (never in argv, where `ps` and Docker's exec records show it)
#   remove <username>   deletes the account and moves its folder aside (removed/), so a later account
#                       of the same name does not see someone else's files
#   list                prints one username per line
# The password file holds sha512-crypt hashes ($6$, glibc crypt: what nginx's auth_basic checks) and is
# replaced whole so nginx never reads half of it.
set -euo pipefail
umask 077
d=${PIC_FILES_DATA:-/srv/files}
db=$d/htpasswd
# Who the workers run as (nginx.conf `user`); the overrides let a test run this outside the image.
owner=${PIC_FILES_OWNER:-pic-files}
group=${PIC_FILES_GROUP:-pic-files}

die() {
  printf 'pic-files-account: %s\n' "$*" >&2
  exit 2
}
# The store's username field, repeated here: this script must stay safe if called by hand.
valid_user() { [[ $1 =~ ^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$ ]]; }

# One change at a time.
exec 9>"$d/.accounts.lock"
flock 9
[ -e "$db" ] || install -g "$group" -m 0640 /dev/null "$db"

others() { awk -F: -v u="$1" '$1 != u' "$db"; }
replace_db() {
  local tmp
  tmp=$(mktemp "$db.XXXXXX")
  cat >"$tmp"
  chgrp "$group" "$tmp"
  chmod 0640 "$tmp"
  mv -f "$tmp" "$db"
}

case "${1:-} $#" in
  "add 2")
    user=$2
    valid_user "$user" || die "invalid username"
    IFS= read -r password || true
    [ -n "$password" ] || die "no password on stdin"
    hash=$(printf '%s\n' "$password" | openssl passwd -6 -stdin)
    { others "$user"; printf '%s:%s\n' "$user" "$hash"; } | replace_db
    install -d -o "$owner" -g "$group" -m 0700 "$d/users/$user"
    ;;
  "remove 2")
    user=$2
    valid_user "$user" || die "invalid username"
    others "$user" | replace_db
    if [ -d "$d/users/$user" ]; then
      install -d -m 0700 "$d/removed"
      mv "$d/users/$user" "$d/removed/$user-$(date +%s)"
    fi
    ;;
  "list 1")
    awk -F: 'NF > 1 { print $1 }' "$db"
    ;;
  *)
    die "usage: add <username> (password on stdin) | remove <username> | list"
    ;;
esac
