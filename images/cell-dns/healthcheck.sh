#!/bin/bash
# Healthy when unbound-control answers AND Unbound answers a real query from its own local zone.
set -uo pipefail
unbound-control -c /etc/unbound/unbound.conf status >/dev/null 2>&1 || { echo "unbound-control status failed"; exit 1; }
answer=$(drill -Q @127.0.0.1 health.pic. A 2>/dev/null) || { echo "no answer to health.pic."; exit 1; }
[ "$answer" = 127.0.0.1 ] || { echo "unexpected answer for health.pic.: $answer"; exit 1; }
echo "unbound ok"
