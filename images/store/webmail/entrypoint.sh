#!/bin/bash
# PIC webmail: checks what the store injected, prepares the volumes (the des_key and the SQLite
# database are created here at the first start, never in the image), then runs php-fpm and nginx
# in the foreground and exits as soon as either stops (the engine restarts the container).
# Runs as www-data (uid 33) with no capability:
#   /var/lib/pic-webmail        data volume (backed up)    des_key 0600, roundcube.sqlite 0600
#   /run/pic-webmail            run volume                 php-fpm socket, pid files, nginx and
#                                                          Roundcube temporary files (emptied here)
#   /etc/pic-webmail/tls/ca.pem tls volume (the store's)   the root the email certificate chains to
set -euo pipefail
umask 077

die() {
  echo "pic-webmail: $*" >&2
  exit 1
}

# The same patterns as config.inc.php (which checks them again): a lowercase domain of two labels
# or more, and a Docker container name.
domain_re='^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'
name_re='^[a-z0-9]([a-z0-9_.-]{0,126}[a-z0-9])?$'
d=${PIC_CELL_DOMAIN-}
m=${PIC_SVC_EMAIL_MAIL-}
[[ ${#d} -le 253 && $d =~ $domain_re ]] || die "PIC_CELL_DOMAIN must be the cell's domain (lowercase, such as home.cell)"
[[ $m =~ $name_re ]] || die "PIC_SVC_EMAIL_MAIL must be the email container's name (the store sets it when email is installed)"

data=/var/lib/pic-webmail
run=/run/pic-webmail
ca=/etc/pic-webmail/tls/ca.pem
for dir in "$data" "$run"; do
  [[ -d $dir && -w $dir ]] || die "$dir is not a writable directory (the volume must belong to uid $(id -u))"
done
[[ -r $ca && -s $ca ]] || die "$ca is missing: the store writes the root the cell's certificate chains to (the cell's CA in local mode, the ACME chain's root in a public mode) into the tls volume before the first start"

# The run volume holds nothing worth keeping across starts.
find "$run" -mindepth 1 -delete
mkdir -p "$run/temp" "$run/nginx"

# des_key: 24 characters from 18 random bytes (base64), written once, atomically, 0600.
key=$data/des_key
if [[ ! -e $key ]]; then
  tmp=$(mktemp "$data/.des_key.XXXXXX")
  head -c 18 /dev/urandom | base64 >"$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$key"
fi
chmod 0600 "$key"
[[ $(<"$key") =~ ^[A-Za-z0-9+/]{24}$ ]] || die "$key is not a 24-character key (remove it to generate a new one; stored sessions end)"

# The database: created from Roundcube's schema at the first start (into a temporary file, then
# renamed: an interrupted start never leaves half a database), then brought up to date on every start.
db=$data/roundcube.sqlite
if [[ ! -e $db ]]; then
  tmp=$(mktemp "$data/.roundcube.sqlite.XXXXXX")
  sqlite3 -bail "$tmp" ".read /usr/share/roundcube/SQL/sqlite.initial.sql" >/dev/null
  chmod 0600 "$tmp"
  mv -f "$tmp" "$db"
fi
chmod 0600 "$db"
/usr/share/roundcube/bin/updatedb.sh --package=roundcube --dir=/usr/share/roundcube/SQL >/dev/null
# What Debian's systemd timers would do (none run here): expired sessions and cache rows, and records
# flagged deleted; PHP's session GC repeats the first while the container runs.
/usr/share/roundcube/bin/gc.sh >/dev/null
/usr/share/roundcube/bin/cleandb.sh >/dev/null

php-fpm8.2 --test --fpm-config /etc/php/8.2/fpm/php-fpm.conf 2>/dev/null || php-fpm8.2 --test --fpm-config /etc/php/8.2/fpm/php-fpm.conf
nginx -t -q -e stderr

# Supervision: both daemons in the foreground; the first to exit stops the other, and its status is
# the container's. SIGTERM (docker stop) stops both gracefully (SIGQUIT for each).
php-fpm8.2 --nodaemonize --fpm-config /etc/php/8.2/fpm/php-fpm.conf &
fpm=$!
nginx -e stderr &
web=$!
stop() {
  kill -QUIT "$fpm" "$web" 2>/dev/null || true
}
trap 'stop; wait; exit 0' TERM INT
set +e
wait -n "$fpm" "$web"
status=$?
echo "pic-webmail: $(kill -0 "$fpm" 2>/dev/null && echo nginx || echo php-fpm) exited ($status); stopping" >&2
stop
wait
exit $(( status == 0 ? 1 : status ))
