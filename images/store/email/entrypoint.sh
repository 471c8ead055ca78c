#!/bin/bash
# Prepares the volumes (empty on the first start: the store hands them over root-owned), renders every
# configuration file from PIC_CELL_DOMAIN (refusing to start without a valid one) and the last applied
# settings, makes the DKIM key on the first start, then runs the supervisor.
#   /var/mail/vmail       `mail`   Maildirs, one folder per account (removed accounts under .removed/)
#   /var/spool/postfix    `queue`  Postfix's queue: survives restarts and is in backups
#   /var/lib/pic-mail     `state`  accounts (users), applied settings, rendered configuration, runtime
#   /var/lib/pic-mail-dkim `dkim`  the DKIM private key (pic.private, 0600, opendkim's)
#   /var/lib/pic-mail-tls `tls`    fullchain.pem, privkey.pem, ca.pem written by the store
set -euo pipefail
umask 022
# shellcheck source=lib.sh
. /usr/local/lib/pic-mail/lib.sh

domain=$(cell_domain)

# Runtime and derived files start empty each time; accounts and settings are kept.
chmod 0755 "$STATE"
rm -rf "$STATE/run" "$STATE/tmp" "$ETC"
mkdir -p "$STATE/run/dovecot" "$STATE/tmp" "$ETC/postfix" "$ETC/dovecot" "$STATE/postfix-data" \
  "$STATE/dovecot-state"
chmod 1777 "$STATE/tmp"
chown postfix:postfix "$STATE/postfix-data"
[ -e "$USERS" ] || : >"$USERS"
chown root:dovecot "$USERS"
chmod 0640 "$USERS"
cp -a /usr/share/pic-mail/postfix-dist/. "$ETC/postfix/"
cp /usr/share/pic-mail/master.cf "$ETC/postfix/master.cf"
cp /usr/share/pic-mail/dovecot.conf "$ETC/dovecot/dovecot.conf"

# Mailboxes belong to vmail; the queue's top is root's (Postfix sets up the rest: postfix check).
chown vmail:vmail "$MAIL"
chmod 0700 "$MAIL"
chown root:root "$QUEUE"
chmod 0755 "$QUEUE"
# OpenDKIM's milter socket, inside the queue directory so that Postfix reaches it by a relative path
# (unix:opendkim/opendkim.sock) chrooted or not; postfix enters the folder as its group, and connects
# to the socket (opendkim's, 0770 by OpenDKIM's UMask 007) as a member of the opendkim group.
mkdir -p "$QUEUE/opendkim"
chown opendkim:postfix "$QUEUE/opendkim"
chmod 0750 "$QUEUE/opendkim"
rm -f "$QUEUE/opendkim/opendkim.sock"

# The DKIM key: RSA 2048, made once, kept in its own volume (in backups), readable by opendkim only.
chown opendkim:opendkim "$DKIM"
chmod 0700 "$DKIM"
if [ ! -s "$DKIM/$SELECTOR.private" ]; then
  umask 077
  openssl genrsa -out "$DKIM/$SELECTOR.private.tmp" 2048 2>/dev/null
  chown opendkim:opendkim "$DKIM/$SELECTOR.private.tmp"
  mv -f "$DKIM/$SELECTOR.private.tmp" "$DKIM/$SELECTOR.private"
  umask 022
fi
chown opendkim:opendkim "$DKIM/$SELECTOR.private"
chmod 0600 "$DKIM/$SELECTOR.private"

# Until the store has written the cell's certificate into the tls volume (it does so before the
# first start), a self-signed placeholder for mail.<domain> keeps TLS up; pic-mail-tls-reload
# switches to the real one.
if [ ! -s "$STATE/selfsigned/privkey.pem" ]; then
  mkdir -p "$STATE/selfsigned"
  chmod 0700 "$STATE/selfsigned"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mail.$domain" \
    -addext "subjectAltName=DNS:mail.$domain" \
    -keyout "$STATE/selfsigned/privkey.pem" -out "$STATE/selfsigned/fullchain.pem" 2>/dev/null
  chmod 0600 "$STATE/selfsigned/privkey.pem"
fi

render_all "$domain"
render_opendkim "$domain"
# Postfix's own check creates the queue's missing folders with their owners (a first start).
postfix check
exec "$@"
