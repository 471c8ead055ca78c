#!/bin/bash
# The tls hook's `reload`: the store has written fullchain.pem and privkey.pem into the tls volume;
# point Postfix and Dovecot at them (they replace the self-signed placeholder on the first run) and
# reload both: new connections get the new certificate, open ones are not dropped.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. /usr/local/lib/pic-mail/lib.sh

domain=$(cell_domain)
if [ -s "$TLS/fullchain.pem" ] || [ -s "$TLS/privkey.pem" ]; then
  openssl x509 -in "$TLS/fullchain.pem" -noout 2>/dev/null || die "tls: fullchain.pem is not a certificate"
  openssl pkey -in "$TLS/privkey.pem" -noout 2>/dev/null || die "tls: privkey.pem is not a private key"
  [ "$(openssl x509 -in "$TLS/fullchain.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)" = \
    "$(openssl pkey -in "$TLS/privkey.pem" -pubout -outform DER | sha256sum)" ] ||
    die "tls: privkey.pem does not match fullchain.pem"
fi
exec 9>"$LOCK"
flock 9
settings=$(current_settings)
render_main_cf "$domain" "$settings"
render_dovecot_local "$domain" "$settings"
reload_daemons
