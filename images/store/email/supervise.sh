#!/bin/bash
# PID 1 of the email container: runs OpenDKIM, Dovecot and Postfix in the foreground, forwards
# SIGTERM/SIGINT (Docker's stop) to all three, and stops the container when any of them exits, so
# Docker's restart policy brings the whole service back rather than leaving half of it running.
set -uo pipefail
stopping=0
trap 'stopping=1' TERM INT

opendkim -f -x /etc/opendkim.conf &
dkim=$!
dovecot -F &
dove=$!
# Not PID 1, so `postfix start-fg` runs `master -s` as its child and waits for it.
postfix start-fg &
pf=$!

alive() { kill -0 "$1" 2>/dev/null; }
while :; do
  wait -n
  [ "$stopping" = 1 ] && break
  alive "$dkim" && alive "$dove" && alive "$pf" && continue
  echo "pic-mail-supervise: a daemon exited (opendkim $(alive "$dkim" && echo up || echo down)," \
    "dovecot $(alive "$dove" && echo up || echo down), postfix $(alive "$pf" && echo up || echo down));" \
    "stopping the container" >&2
  break
done

postfix stop >/dev/null 2>&1 || true
kill -TERM "$dove" "$dkim" 2>/dev/null || true
for _ in $(seq 1 50); do
  alive "$pf" || alive "$dove" || alive "$dkim" || break
  sleep 0.2
done
kill -KILL "$pf" "$dove" "$dkim" 2>/dev/null || true
[ "$stopping" = 1 ] && exit 0
exit 1
