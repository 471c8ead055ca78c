# Shared by the email service's scripts (sourced, never run): paths, the strict checks every input
# passes, atomic writes, and the rendering of every generated configuration file from validated
# values only (the cell's domain and the last applied settings, checked again here).
# shellcheck shell=bash

STATE=/var/lib/pic-mail
ETC=$STATE/etc
USERS=$STATE/users
SETTINGS=$STATE/settings.json
LOCK=$STATE/.lock
MAIL=/var/mail/vmail
QUEUE=/var/spool/postfix
DKIM=/var/lib/pic-mail-dkim
TLS=/var/lib/pic-mail-tls
SELECTOR=pic
VMAIL_UID=945

die() {
  printf '%s: %s\n' "${0##*/}" "$*" >&2
  exit 2
}

# The store's username field, repeated: these scripts must stay safe if called by hand.
valid_user() { [[ $1 =~ ^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$ ]]; }
# An alias is a local part of the same shape.
valid_local_part() { valid_user "$1"; }
valid_domain() {
  [[ ${#1} -le 240 && $1 =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$ ]]
}
valid_hostname() {
  [[ ${#1} -le 253 && $1 =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$ ]]
}
valid_ipv4() {
  local IFS=. o
  [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
  for o in $1; do ((10#$o <= 255)) || return 1; done
}
valid_ipv6() { [[ ${#1} -le 45 && $1 =~ ^[0-9A-Fa-f:.]+$ && $1 == *:*:* ]]; }

# PIC_CELL_DOMAIN, the cell's domain the store injects; nothing is rendered from anything else.
cell_domain() {
  local d=${PIC_CELL_DOMAIN:-}
  valid_domain "$d" || die "PIC_CELL_DOMAIN is missing or not a lowercase domain name"
  printf '%s' "$d"
}

# Replaces `path` with stdin in one rename; `mode` and `owner` are set before the rename.
write_atomic() {
  local path=$1 mode=$2 owner=${3:-root:root} tmp
  tmp=$(mktemp "$path.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  mv -f "$tmp" "$path"
}

# Reads one settings JSON object on stdin, checks every value, prints it back normalised (every key,
# defaults filled in). Refuses unknown keys, wrong types, control characters anywhere, and values
# outside their field's rules, naming the field.
validate_settings() {
  local json err
  json=$(head -c 65536) || die "settings: cannot read stdin"
  err=$(jq -r '
    def printable: type == "string" and test("^[\\x20-\\x7e]*$");
    def oneline: type == "string" and (test("[\u0000-\u001f\u007f-\u009f\u2028\u2029]") | not);
    if type != "object" then "settings: must be one JSON object"
    else
      ([keys[] | select(IN("smarthost_host","smarthost_port","smarthost_username","smarthost_password","smarthost_verify","quota_mb","aliases") | not)] | first) as $k
      | if $k then "settings: unknown key \($k | tojson)"
        elif (.smarthost_host // "" | printable | not) then "smarthost_host: must be a host name or an address on one line"
        elif (.smarthost_username // "" | oneline | not) then "smarthost_username: must be one line without control characters"
        elif (.smarthost_password // "" | oneline | not) then "smarthost_password: must be one line without control characters"
        elif (.smarthost_port != null and (.smarthost_port | type != "number" or . != floor or . < 1 or . > 65535)) then "smarthost_port: must be an integer 1..65535"
        elif (.smarthost_verify != null and (.smarthost_verify | type != "boolean")) then "smarthost_verify: must be true or false"
        elif (.quota_mb != null and (.quota_mb | type != "number" or . != floor or . < 10 or . > 1048576)) then "quota_mb: must be an integer 10..1048576"
        elif (.aliases != null and (.aliases | type != "array" or length > 500)) then "aliases: must be a list of at most 500 {alias, to}"
        elif ([.aliases // [] | .[] | select(type != "object" or (keys != ["alias","to"]) or (.alias | printable | not) or (.to | printable | not))] | length > 0) then "aliases: each must be {\"alias\": local part, \"to\": username}"
        else empty end
    end' <<<"$json" 2>/dev/null) || die "settings: not valid JSON"
  [ -z "$err" ] || die "$err"

  local host port user pass quota
  host=$(jq -r '.smarthost_host // ""' <<<"$json")
  port=$(jq -r '.smarthost_port // 587' <<<"$json")
  user=$(jq -r '.smarthost_username // ""' <<<"$json")
  pass=$(jq -r '.smarthost_password // ""' <<<"$json")
  quota=$(jq -r '.quota_mb // 1024' <<<"$json")
  if [ -n "$host" ]; then
    valid_hostname "$host" || valid_ipv4 "$host" || valid_ipv6 "$host" ||
      die "smarthost_host: must be a host name or an IP address"
  fi
  [[ $port =~ ^[0-9]{1,5}$ ]] && ((port >= 1 && port <= 65535)) || die "smarthost_port: must be an integer 1..65535"
  [[ $quota =~ ^[0-9]{1,7}$ ]] && ((quota >= 10 && quota <= 1048576)) || die "quota_mb: must be an integer 10..1048576"
  if [ -n "$user" ]; then
    [ -n "$host" ] || die "smarthost_username: set smarthost_host too"
    # Postfix's SASL table holds `user:password` after the key: no blank or colon in the name.
    [[ ${#user} -le 256 && $user =~ ^[^[:space:]:]+$ ]] ||
      die "smarthost_username: at most 256 characters, no space or colon"
    [ -n "$pass" ] || die "smarthost_password: required with smarthost_username"
    # The table's values lose their edges' blanks.
    [[ ${#pass} -le 1024 && $pass =~ ^[^[:space:]](.*[^[:space:]])?$ ]] ||
      die "smarthost_password: must not start or end with a space (1024 characters at most)"
  fi
  local alias to seen=" "
  while IFS=$'\t' read -r alias to; do
    [ -n "$alias$to" ] || continue
    valid_local_part "$alias" || die "aliases: ${alias@Q} is not a valid local part (a-z, 0-9, . _ -)"
    valid_user "$to" || die "aliases: ${to@Q} is not a valid username"
    [[ $seen != *" $alias "* ]] || die "aliases: $alias is listed twice"
    seen+="$alias "
  done < <(jq -r '.aliases // [] | .[] | "\(.alias)\t\(.to)"' <<<"$json")

  jq -c --arg port "$port" --arg quota "$quota" '{
      smarthost_host: (if (.smarthost_host // "") == "" then null else .smarthost_host end),
      smarthost_port: ($port | tonumber),
      smarthost_username: (if (.smarthost_username // "") == "" then null else .smarthost_username end),
      smarthost_password: (if (.smarthost_username // "") == "" then null else .smarthost_password end),
      smarthost_verify: (.smarthost_verify != false),
      quota_mb: ($quota | tonumber),
      aliases: (.aliases // [] | map({alias, to}))
    }' <<<"$json"
}

# The applied settings, checked again (the state volume may come from a backup); defaults otherwise.
current_settings() {
  local s
  if [ -s "$SETTINGS" ] && s=$( (validate_settings <"$SETTINGS") 2>/dev/null); then
    printf '%s\n' "$s"
  else
    printf '{}' | validate_settings
  fi
}

account_names() { [ -e "$USERS" ] && awk -F: 'NF > 1 { print $1 }' "$USERS"; }

# The certificate in use: the store's (tls volume) once both files are there, else the placeholder.
tls_pair() {
  if [ -s "$TLS/fullchain.pem" ] && [ -s "$TLS/privkey.pem" ]; then
    printf '%s %s' "$TLS/fullchain.pem" "$TLS/privkey.pem"
  else
    printf '%s %s' "$STATE/selfsigned/fullchain.pem" "$STATE/selfsigned/privkey.pem"
  fi
}

# Postfix's lookup tables from the accounts and the aliases (texthash: read whole at each (re)load).
render_maps() {
  local domain=$1 settings=$2 u alias to
  declare -A owners=()
  local names
  names=$(account_names || true)
  {
    for u in $names; do printf '%s@%s OK\n' "$u" "$domain"; done
  } | write_atomic "$ETC/postfix/vmailbox" 0644
  for u in $names; do owners[$u]="$u, $u@$domain"; done
  {
    while IFS=$'\t' read -r alias to; do
      [ -n "$alias" ] || continue
      # An alias never shadows an account, and points at an existing one only.
      [ -z "${owners[$alias]+x}" ] || continue
      [ -n "${owners[$to]+x}" ] || continue
      printf '%s@%s %s@%s\n' "$alias" "$domain" "$to" "$domain"
    done < <(jq -r '.aliases[] | "\(.alias)\t\(.to)"' <<<"$settings")
  } | write_atomic "$ETC/postfix/virtual" 0644
  {
    for u in $names; do printf '%s@%s %s, %s@%s\n' "$u" "$domain" "$u" "$u" "$domain"; done
    while IFS=$'\t' read -r alias to; do
      [ -n "$alias" ] || continue
      [ -z "${owners[$alias]+x}" ] && [ -n "${owners[$to]+x}" ] || continue
      printf '%s@%s %s, %s@%s\n' "$alias" "$domain" "$to" "$to" "$domain"
    done < <(jq -r '.aliases[] | "\(.alias)\t\(.to)"' <<<"$settings")
  } | write_atomic "$ETC/postfix/senders" 0644
  printf '%s quota_check\n' "$domain" | write_atomic "$ETC/postfix/quota_domains" 0644
  printf '%s REJECT 5.7.1 mail from %s is sent on the submission port (587) with a login\n' \
    "$domain" "$domain" | write_atomic "$ETC/postfix/own_domain" 0644
}

render_main_cf() {
  local domain=$1 settings=$2 cert key host port user relay verify
  read -r cert key <<<"$(tls_pair)"
  host=$(jq -r '.smarthost_host // ""' <<<"$settings")
  verify=$(jq -r '.smarthost_verify' <<<"$settings")
  port=$(jq -r '.smarthost_port' <<<"$settings")
  user=$(jq -r '.smarthost_username // ""' <<<"$settings")
  relay=
  if [ -n "$host" ]; then
    if valid_ipv6 "$host"; then relay="[ipv6:$host]:$port"; else relay="[$host]:$port"; fi
  fi
  {
    cat <<CF
# Rendered by PIC at each start and settings change: do not edit (changes are lost).
compatibility_level = 3.6
myhostname = mail.$domain
mydomain = $domain
myorigin = \$mydomain
mydestination =
local_transport = error:5.1.1 no local mailboxes here
alias_maps =
alias_database =
# Only the container itself is trusted: through Docker's port publishing every client may appear
# from a bridge gateway address, so no client address is ever trusted to relay.
mynetworks = 127.0.0.0/8
inet_interfaces = all
inet_protocols = ipv4
maillog_file = /dev/stdout
data_directory = $STATE/postfix-data
biff = no
append_dot_mydomain = no
readme_directory = no
message_size_limit = 26214400
mailbox_size_limit = 0
recipient_delimiter = +
smtpd_banner = \$myhostname ESMTP
# No reverse lookups of clients (nothing here depends on them; they would leave the machine).
smtpd_peername_lookup = no
disable_vrfy_command = yes
smtpd_helo_required = yes

# Mailboxes: one per account (pic-mail-account); aliases from the settings.
virtual_mailbox_domains = $domain
virtual_mailbox_maps = texthash:/etc/postfix/vmailbox
virtual_alias_maps = texthash:/etc/postfix/virtual
virtual_transport = lmtp:unix:private/dovecot-lmtp
smtpd_sender_login_maps = texthash:/etc/postfix/senders

# Port 25: strangers deliver to the cell's recipients only, never relay; nobody may use one of the
# cell's addresses as the envelope sender there (its owners send on 587, logged in, where
# reject_sender_login_mismatch holds them to their own addresses; it needs SASL, so not here).
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_sender_restrictions = reject_non_fqdn_sender, permit_mynetworks,
  check_sender_access texthash:/etc/postfix/own_domain
smtpd_restriction_classes = quota_check
quota_check = check_policy_service unix:private/quota-status
smtpd_recipient_restrictions = reject_non_fqdn_recipient, reject_unlisted_recipient,
  check_recipient_access texthash:/etc/postfix/quota_domains
smtpd_reject_unlisted_recipient = yes

# Authentication (submission only, see master.cf): Dovecot's SASL; failures are slowed by Dovecot
# (auth_failure_delay) and limited here per client address and per connection.
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
broken_sasl_auth_clients = no
smtpd_client_auth_rate_limit = 20
anvil_rate_time_unit = 60s
smtpd_soft_error_limit = 3
smtpd_hard_error_limit = 10
smtpd_error_sleep_time = 1s

# TLS: the cell's certificate from the tls volume (a self-signed placeholder until it is there).
smtpd_tls_cert_file = $cert
smtpd_tls_key_file = $key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtp_tls_CApath = /etc/ssl/certs
smtp_tls_loglevel = 1

# DKIM: OpenDKIM signs mail submitted on 587 and verifies the rest. Its socket is in the queue
# directory (a path relative to it, where Postfix's daemons run, chrooted or not).
milter_protocol = 6
milter_default_action = accept
smtpd_milters = unix:opendkim/opendkim.sock
non_smtpd_milters = \$smtpd_milters

CF
    if [ -n "$relay" ]; then
      cat <<CF
# Outbound: everything for other domains goes through the smarthost, over TLS only.
relayhost = $relay
default_transport = smtp
smtp_tls_mandatory_protocols = >=TLSv1.2
# The smarthost's address as the system finds it: /etc/hosts first, then the cell's DNS (a bracketed
# relayhost is never looked up as MX).
smtp_host_lookup = native
CF
      if [ "$verify" = false ]; then
        cat <<'CF'
# The owner turned the certificate check off (smarthost_verify: a relay on their own network with a
# self-signed certificate): encrypted, but a server between the cell and the relay could pose as it.
smtp_tls_security_level = encrypt
CF
      else
        cat <<'CF'
# Its certificate must chain to a certificate authority Debian trusts and name the smarthost: the
# login is never sent to a server that only claims to be the relay.
smtp_tls_security_level = secure
smtp_tls_secure_cert_match = nexthop
CF
      fi
      [ "$port" != 465 ] || printf 'smtp_tls_wrappermode = yes\n'
      if [ -n "$user" ]; then
        cat <<CF
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = texthash:/etc/postfix/sasl_passwd
smtp_sasl_security_options = noanonymous
smtp_sasl_tls_security_options = noanonymous
CF
      fi
    else
      cat <<'CF'
# Outbound: no smarthost is set, so mail for other domains waits in the queue ("deferred
# transport", which pic-mail-status explains); nothing is ever sent to the internet directly (home
# connections cannot send on port 25). Accepted at RCPT, unlike a retry: transport would be.
relayhost =
default_transport = smtp
defer_transports = smtp
CF
    fi
  } | write_atomic "$ETC/postfix/main.cf" 0644
  if [ -n "$user" ]; then
    jq -r --arg relay "$relay" '"\($relay) \(.smarthost_username):\(.smarthost_password)"' <<<"$settings" |
      write_atomic "$ETC/postfix/sasl_passwd" 0600
  else
    rm -f "$ETC/postfix/sasl_passwd"
  fi
}

render_dovecot_local() {
  local domain=$1 settings=$2 cert key quota
  read -r cert key <<<"$(tls_pair)"
  quota=$(jq -r '.quota_mb' <<<"$settings")
  cat <<CF | write_atomic "$ETC/dovecot/pic-local.conf" 0644
# Rendered by PIC at each start and settings change: do not edit (changes are lost).
postmaster_address = postmaster@$domain
hostname = mail.$domain
ssl_cert = <$cert
ssl_key = <$key
plugin {
  quota_rule = *:storage=${quota}M
}
CF
}

render_opendkim() {
  local domain=$1
  cat <<CF | write_atomic "$ETC/opendkim.conf" 0644
# Rendered by PIC at each start: do not edit.
Syslog no
UMask 007
Mode sv
Socket local:$QUEUE/opendkim/opendkim.sock
Domain $domain
Selector $SELECTOR
KeyFile $DKIM/$SELECTOR.private
Canonicalization relaxed/simple
OversignHeaders From
# Signed: mail from the submission port (Postfix's milter_macro_daemon_name) and from the container
# itself; no client address outside the container is trusted.
MTA ORIGINATING
InternalHosts 127.0.0.1
UserID opendkim:opendkim
RequireSafeKeys yes
CF
}

# Everything generated: main.cf, the maps, Dovecot's and OpenDKIM's parts.
render_all() {
  local domain=$1 settings
  settings=$(current_settings)
  render_main_cf "$domain" "$settings"
  render_maps "$domain" "$settings"
  render_dovecot_local "$domain" "$settings"
}

running() { [ -S "$STATE/run/dovecot/master" ] || [ -e "$STATE/run/dovecot/master.pid" ]; }

# Daemons re-read their configuration without dropping connections (no-op before the first start).
reload_daemons() {
  if postfix status >/dev/null 2>&1; then postfix reload >/dev/null 2>&1 || true; fi
  if [ -e "$STATE/run/dovecot/master.pid" ]; then doveadm reload >/dev/null 2>&1 || true; fi
}
