#!/bin/bash
# Healthy when nginx answers on 127.0.0.1:8080 and php-fpm answers its ping through it (200 "pong";
# bash's /dev/tcp: the image carries no HTTP client).
set -uo pipefail
exec 3<>/dev/tcp/127.0.0.1/8080 || { echo "nginx: no answer on port 8080"; exit 1; }
printf 'GET /.pic-ping HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 4 status <&3 || { echo "nginx: no reply"; exit 1; }
status=${status%$'\r'}
[[ $status == "HTTP/1."?" 200"* ]] || { echo "webmail: $status"; exit 1; }
body=$(timeout 4 cat <&3) || true
[[ $body == *pong* ]] || { echo "php-fpm: no pong"; exit 1; }
echo "webmail ok"
