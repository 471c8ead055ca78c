#!/bin/bash
# Healthy when nginx answers its health location on 127.0.0.1:80 with 200 (bash's /dev/tcp: the
# image carries no HTTP client).
set -uo pipefail
exec 3<>/dev/tcp/127.0.0.1/80 || { echo "nginx: no answer on port 80"; exit 1; }
printf 'GET /.pic-health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 4 status <&3 || { echo "nginx: no reply"; exit 1; }
status=${status%$'\r'}
[[ $status == "HTTP/1."?" 200"* ]] || { echo "nginx: $status"; exit 1; }
echo "nginx ok"
