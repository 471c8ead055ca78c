#!/bin/bash
# Per-peer accounts of the calendar service. The store runs it in the container (docker exec, argv
# only, as the radicale user) with the manifest's hooks:
#   add <username>      creates the account or changes its password; the password is ONE line on
#                       stdin (never in argv, where `ps` and Docker's exec records would show it)
#   remove <username>   deletes the account and moves its collections aside (removed/), so a later
#                       account of the same name does not inherit someone else's calendars
#   list                prints one username per line
# The users file holds bcrypt hashes only, and is replaced whole so Radicale never reads half of it.
set -euo pipefail
umask 077
# The override lets a test run this outside the image.
data=${PIC_CALENDAR_DATA:-/var/lib/radicale}
db=$data/users

die() {
  printf 'pic-calendar-account: %s\n' "$*" >&2
  exit 2
}
# The store's username field, repeated here: this script must stay safe if called by hand.
valid_user() { [[ $1 =~ ^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$ ]]; }

# One change at a time.
exec 9>"$data/.users.lock"
flock 9
[ -e "$db" ] || : >"$db"

others() { awk -F: -v u="$1" '$1 != u' "$db"; }
replace_db() {
  local tmp
  tmp=$(mktemp "$db.XXXXXX")
  cat >"$tmp"
  mv -f "$tmp" "$db"
}

case "${1:-} $#" in
  "add 2")
    user=$2
    valid_user "$user" || die "invalid username"
    IFS= read -r password || true
    [ -n "$password" ] || die "no password on stdin"
    # bcrypt.hashpw reads the password from this process's stdin, never from argv.
    hash=$(printf '%s\n' "$password" | python3 -c '
import sys, bcrypt
p = sys.stdin.readline().rstrip("\n").encode()
print(bcrypt.hashpw(p, bcrypt.gensalt(rounds=10)).decode())')
    { others "$user"; printf '%s:%s\n' "$user" "$hash"; } | replace_db
    ;;
  "remove 2")
    user=$2
    valid_user "$user" || die "invalid username"
    others "$user" | replace_db
    if [ -d "$data/collections/collection-root/$user" ]; then
      mkdir -p "$data/removed"
      mv "$data/collections/collection-root/$user" "$data/removed/$user-$(date +%s)"
    fi
    ;;
  "list 1")
    awk -F: 'NF > 1 { print $1 }' "$db"
    ;;
  *)
    die "usage: add <username> (password on stdin) | remove <username> | list"
    ;;
esac
