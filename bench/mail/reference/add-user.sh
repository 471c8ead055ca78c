#!/bin/sh
# add-user <name>: makes <name>@bench.cell a mailbox; the password is one line on stdin.
set -eu
user="$1"
case "$user" in '' | *[!a-z0-9]*) echo "add-user: bad name" >&2; exit 2 ;; esac
IFS= read -r pw
hash=$(printf '%s\n%s\n' "$pw" "$pw" | doveadm pw -s SHA512-CRYPT)
echo "$user@bench.cell:$hash::::::" >>/etc/dovecot/users
echo "$user@bench.cell OK" >>/etc/postfix/vmailbox
postfix reload >/dev/null
