#!/bin/bash
# Per-peer mailboxes of the email service. The store runs it in the container (docker exec, argv
# only, as root) with the manifest's hooks:
#   add <username>      creates the account (address <username>@<domain>) or changes its password;
#                       the password is ONE line on stdin (never in argv, where `ps` and Docker's exec
#                       records would show it)
#   remove <username>   deletes the login and moves the Maildir aside (/var/mail/vmail/.removed/), so
#                       the mail is kept until the owner purges it and a later account of the same
#                       name does not inherit it
#   list                prints one username per line
# The users file holds bcrypt hashes only ({BLF-CRYPT}, cost 10) and is replaced whole under a lock.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. /usr/local/lib/pic-mail/lib.sh

domain=$(cell_domain)
exec 9>"$LOCK"
flock 9
[ -e "$USERS" ] || : >"$USERS"

others() { awk -F: -v u="$1" '$1 != u' "$USERS"; }
replace_users() { write_atomic "$USERS" 0640 root:dovecot; }
refresh() {
  render_maps "$domain" "$(current_settings)"
  # New maps for Postfix; Dovecot reads the users file at each login (its cache is flushed).
  if postfix status >/dev/null 2>&1; then postfix reload >/dev/null 2>&1 || true; fi
  if [ -e "$STATE/run/dovecot/master.pid" ]; then doveadm auth cache flush >/dev/null 2>&1 || true; fi
}

case "${1:-} $#" in
  "add 2")
    user=$2
    valid_user "$user" || die "invalid username"
    IFS= read -r password || true
    [ -n "$password" ] || die "no password on stdin"
    [[ $password != *[[:cntrl:]]* ]] || die "the password must be one line without control characters"
    # doveadm pw asks twice on stdin; the password never reaches argv.
    hash=$(printf '%s\n%s\n' "$password" "$password" | doveadm pw -s BLF-CRYPT -r 10)
    [[ $hash == '{BLF-CRYPT}$2y$'* ]] || die "hashing failed"
    # passwd-file fields: user:password:uid:gid:gecos:home:shell:extra
    { others "$user"; printf '%s:%s:%s:%s::%s/%s::\n' "$user" "$hash" "$VMAIL_UID" "$VMAIL_UID" "$MAIL" "$user"; } |
      replace_users
    refresh
    ;;
  "remove 2")
    user=$2
    valid_user "$user" || die "invalid username"
    others "$user" | replace_users
    if [ -d "$MAIL/$user" ]; then
      install -d -o vmail -g vmail -m 0700 "$MAIL/.removed"
      mv "$MAIL/$user" "$MAIL/.removed/$user-$(date +%s)"
    fi
    refresh
    if [ -e "$STATE/run/dovecot/master.pid" ]; then doveadm kick "$user" >/dev/null 2>&1 || true; fi
    ;;
  "list 1")
    account_names || true
    ;;
  *)
    die "usage: add <username> (password on stdin) | remove <username> | list"
    ;;
esac
