<?php
// Roundcube for PIC's webmail store service. Everything a cell differs by comes from two values the
// store injects and the entrypoint has already checked (PIC_CELL_DOMAIN, PIC_SVC_EMAIL_MAIL), passed
// to PHP by php-fpm's pool (env[...]): they are checked again here with the same patterns, and
// Roundcube stops rather than run with anything else. The des_key is generated per cell at the first
// start (entrypoint) and read from the data volume; nothing secret is in the image.

$pic_env = function (string $name, string $pattern): string {
    $v = getenv($name);
    if (!is_string($v) || strlen($v) > 253 || !preg_match($pattern, $v)) {
        throw new RuntimeException("PIC webmail: $name is missing or not valid");
    }
    return $v;
};
// A lowercase domain of two labels or more (the cell's domain, as PIC's schema takes it).
$pic_domain = $pic_env('PIC_CELL_DOMAIN', '/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/D');
// The email container's name on the email service's network (Docker's embedded DNS resolves it).
$pic_mail = $pic_env('PIC_SVC_EMAIL_MAIL', '/^[a-z0-9]([a-z0-9_.-]{0,126}[a-z0-9])?$/D');

$pic_key = @file_get_contents('/var/lib/pic-webmail/des_key');
if (!is_string($pic_key) || !preg_match('/^[A-Za-z0-9+\/]{24}$/D', $pic_key = trim($pic_key))) {
    throw new RuntimeException('PIC webmail: /var/lib/pic-webmail/des_key is missing or not 24 characters');
}

$config = [];

// SQLite in the data volume (created by the entrypoint, schema updated at each start).
$config['db_dsnw'] = 'sqlite:////var/lib/pic-webmail/roundcube.sqlite?mode=0600';

// The email service over the cell network: IMAPS 993 and submission 587 with STARTTLS, both
// verifying the certificate of mail.<domain> against the tls volume's ca.pem: the root the cell's
// served certificate chains to (the cell's CA in local mode; in a public mode the root the ACME
// chain ends in, the cell's CA while no ACME certificate is served yet).
$pic_tls = [
    'ssl' => [
        'verify_peer' => true,
        'verify_peer_name' => true,
        'peer_name' => "mail.$pic_domain",
        'allow_self_signed' => false,
        'cafile' => '/etc/pic-webmail/tls/ca.pem',
        'capath' => '/nonexistent',
        'SNI_enabled' => true,
    ],
];
$config['imap_host'] = "ssl://$pic_mail:993";
$config['imap_conn_options'] = $pic_tls;
$config['smtp_host'] = "tls://$pic_mail:587";
$config['smtp_conn_options'] = $pic_tls;
// Each user sends with their own credentials (the mailbox's login and password).
$config['smtp_user'] = '%u';
$config['smtp_pass'] = '%p';
$config['imap_auth_type'] = 'PLAIN';
$config['smtp_auth_type'] = 'PLAIN';

// `alice` logs in as alice@<domain>; any other domain typed is replaced by the cell's, so a login
// can never create an identity outside the cell's domain.
$config['username_domain'] = $pic_domain;
$config['username_domain_forced'] = true;
$config['mail_domain'] = $pic_domain;
$config['login_lc'] = 2;
// Checked on what the user typed, before the domain is added: an account name (PIC's username
// rule), optionally followed by the cell's own domain; anything else is refused before IMAP is asked.
$config['login_username_filter'] = '/^[a-z0-9._-]{1,64}(@' . preg_quote($pic_domain, '/') . ')?$/iD';
// Identities may name another address: the email service lets an account send as its aliases, and
// its Postfix refuses any sender address the login does not own (reject_sender_login_mismatch).
$config['identities_level'] = 0;

$config['product_name'] = 'PIC Webmail';
$config['support_url'] = '';
$config['display_product_info'] = 1;
$config['skin'] = 'elastic';
$config['plugins'] = [];
$config['enable_spellcheck'] = false;
$config['enable_installer'] = false;
$config['des_key'] = $pic_key;

// Sessions. Caddy terminates HTTPS in front (https://mail.<domain>): cookies are Secure, HttpOnly
// (PHP's default in Roundcube), SameSite=Strict; only Host mail.<domain> is answered.
$config['use_https'] = true;
$config['session_samesite'] = 'Strict';
$config['session_lifetime'] = 30;
$config['trusted_host_patterns'] = ["mail.$pic_domain"];
// The session is bound to the client's address. nginx sets REMOTE_ADDR from Caddy's
// X-Forwarded-For (realip, trusted from the private networks only), so this is the peer's
// WireGuard address, which stays the same when a phone changes networks.
$config['ip_check'] = true;
// Brute force: at most 3 failed logins per user per minute (then the account is locked for the
// rest of the minute); Dovecot's own auth penalty applies behind it.
$config['login_rate_limit'] = 3;
$config['login_autocomplete'] = 0;
$config['x_frame_options'] = 'sameorigin';

// Logs to stdout (php-fpm passes them on: `docker logs`, rotated by the engine), never a file
// growing in a volume; logins are logged for the owner to audit.
$config['log_driver'] = 'stdout';
$config['log_logins'] = true;
$config['log_session_id'] = 0;
$config['smtp_log'] = true;
// Uploads in progress and other temporary files: the run volume (the root file system is read-only).
$config['temp_dir'] = '/run/pic-webmail/temp/';
$config['temp_dir_ttl'] = '12h';
$config['max_message_size'] = '25M';

unset($pic_env, $pic_domain, $pic_mail, $pic_key, $pic_tls);
