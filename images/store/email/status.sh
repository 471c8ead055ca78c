#!/bin/bash
# The status hook: the mail queue (postqueue -j) and the smarthost in use, as one JSON object:
# {"queue": [{"id","arrival","size","sender","recipients":[...],"reason"}], "smarthost": "host:port"|null}
set -euo pipefail
# shellcheck source=lib.sh
. /usr/local/lib/pic-mail/lib.sh

settings=$(current_settings)
postqueue -j 2>/dev/null | jq -s -c --argjson s "$settings" '{
  queue: map({
    id: .queue_id,
    arrival: (.arrival_time | todate),
    size: .message_size,
    sender: .sender,
    recipients: [.recipients[].address],
    reason: ([.recipients[].delay_reason | select(. != null and . != "")] | first
      | if . == "deferred transport" and $s.smarthost_host == null
        then "no smarthost is set: outbound mail waits in the queue until one is configured in the email service settings"
        else . end)
  }),
  smarthost: (if $s.smarthost_host then "\($s.smarthost_host):\($s.smarthost_port)" else null end)
}'
