#!/bin/bash
# Healthy when Postfix greets on 25 and 587, Dovecot on 993 (TLS: the port accepts) and OpenDKIM's
# milter socket is there (the supervisor stops the container if OpenDKIM exits). Bash's /dev/tcp: no
# extra tool, nothing written.
set -uo pipefail
greets() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  IFS= read -r -t 3 line <&3 || { exec 3<&-; return 1; }
  printf 'QUIT\r\n' >&3
  exec 3<&-
  [[ $line == 220* ]]
}
accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
greets 25 || { echo "postfix: no greeting on 25"; exit 1; }
greets 587 || { echo "postfix: no greeting on 587"; exit 1; }
accepts 993 || { echo "dovecot: 993 closed"; exit 1; }
[ -S /var/spool/postfix/opendkim/opendkim.sock ] || { echo "opendkim: no milter socket"; exit 1; }
echo "postfix, dovecot, opendkim: up"
