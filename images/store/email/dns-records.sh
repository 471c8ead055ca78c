#!/bin/bash
# The dns_records hook: the records the cell's zone needs for mail, as a JSON array of
# {"name","type","value"} (the DNS records API's formats): MX, SPF, the DKIM public key, DMARC.
set -euo pipefail
# shellcheck source=lib.sh
. /usr/local/lib/pic-mail/lib.sh

domain=$(cell_domain)
[ -s "$DKIM/$SELECTOR.private" ] || die "no DKIM key yet (it is made at the first start)"
pub=$(openssl pkey -in "$DKIM/$SELECTOR.private" -pubout -outform DER | base64 -w0)
[[ $pub =~ ^[A-Za-z0-9+/=]+$ ]] || die "cannot read the DKIM key"
jq -n --arg d "$domain" --arg sel "$SELECTOR" --arg p "$pub" '[
  {name: "@", type: "MX", value: "10 mail.\($d)."},
  {name: "@", type: "TXT", value: "v=spf1 mx -all"},
  {name: "\($sel)._domainkey", type: "TXT", value: "v=DKIM1; k=rsa; p=\($p)"},
  {name: "_dmarc", type: "TXT", value: "v=DMARC1; p=quarantine; adkim=s; aspf=s"}
]'
