#!/bin/bash
# The settings hook: reads ONE JSON object on stdin with every setting of the manifest (smarthost_host,
# smarthost_port, smarthost_username, smarthost_password, smarthost_verify, quota_mb, aliases; unset =
# null), checks
# every value again (the store checked them too: this script never trusts its input), keeps them in
# the state volume, renders Postfix's and Dovecot's files atomically and reloads both. A refused input
# changes nothing: exit 2 and one line on stderr naming the field.
set -euo pipefail
umask 077
# shellcheck source=lib.sh
. /usr/local/lib/pic-mail/lib.sh

[ $# -eq 0 ] || die "usage: settings JSON on stdin"
domain=$(cell_domain)
settings=$(validate_settings)
# A certificate names its host, never an address Postfix could match: checked, an address would
# leave every message in the queue. (Here, not in validate_settings: settings stored before the check
# existed stay readable.)
host=$(jq -r '.smarthost_host // ""' <<<"$settings")
if [ -n "$host" ] && [ "$(jq -r '.smarthost_verify' <<<"$settings")" = true ] &&
  { valid_ipv4 "$host" || valid_ipv6 "$host"; }; then
  die "smarthost_host: its certificate is checked against its name: give the relay's host name, not an address (or turn smarthost_verify off)"
fi
exec 9>"$LOCK"
flock 9
printf '%s\n' "$settings" | write_atomic "$SETTINGS" 0600
render_main_cf "$domain" "$settings"
render_maps "$domain" "$settings"
render_dovecot_local "$domain" "$settings"
reload_daemons
# With a smarthost now, what waited in the queue goes out at once.
if [ "$(jq -r '.smarthost_host // ""' <<<"$settings")" != "" ] && postfix status >/dev/null 2>&1; then
  postqueue -f >/dev/null 2>&1 || true
fi
