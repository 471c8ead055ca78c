#!/bin/bash
# Healthy when Radicale answers HTTP on 127.0.0.1:5232. OPTIONS needs no login; any answer below 500
# means the server is up. `python3 -c`, not a here-document: the root file system is read-only.
set -uo pipefail
exec python3 -c '
import http.client, sys
try:
    c = http.client.HTTPConnection("127.0.0.1", 5232, timeout=4)
    c.request("OPTIONS", "/")
    status = c.getresponse().status
except OSError as e:
    print(f"radicale: no answer: {e}")
    sys.exit(1)
print(f"radicale: HTTP {status}")
sys.exit(0 if status < 500 else 1)'
