// The two response policy zones (RPZ) behind the blocklists (ADR 0020), as zone files cell-dns loads:
//   exempt.pic.     client-IP triggers `rpz-passthru` for the peers with blocking off; it is the
//                   first policy zone, so a passthru there ends policy processing for that client;
//   blocklist.pic.  one QNAME trigger `<name> CNAME .` (NXDOMAIN) per blocked name, limited by the
//                   `blocklist` tag to the peers' addresses (cell-zone.ts).
// A change to either is a file write and `unbound-control auth_zone_reload <zone>`: Unbound reads the
// names from disk, nothing is re-sent through unbound-control and the rest of the config stays loaded.
import { isBlockableName } from '../../schema/blocklists.ts';
import { ipv4 } from '../../schema/fields.ts';

export const EXEMPT_ZONE = 'exempt.pic.';
export const BLOCKLIST_ZONE = 'blocklist.pic.';
/**
 * The blocklist zone's rpz-log-name: its log lines read `rpz: applied [blocklist] ...`, which
 * images/cell-dns/pic-dns-blocked counts (it matches this name literally).
 */
export const BLOCKED_LOG_NAME = 'blocklist';

/** SOA and NS: a zone file without them does not load. The serial only needs to differ per content. */
function head(zone: string, serial: number): string {
  return [
    '; Rendered by PIC (DNS blocklists, ADR 0020); edits are overwritten.',
    `$ORIGIN ${zone}`,
    '$TTL 60',
    `@ SOA localhost. nobody.invalid. ${serial >>> 0} 3600 600 86400 60`,
    '@ NS localhost.',
    '',
  ].join('\n');
}

/** Exact names only (like Pi-hole's gravity): `ads.example` is blocked, `x.ads.example` is not. */
export function renderBlocklistZone(names: readonly string[], serial = 1): string {
  const out: string[] = [head(BLOCKLIST_ZONE, serial)];
  for (const n of names) {
    if (!isBlockableName(n)) throw new Error(`refusing to render the blocklist: ${JSON.stringify(n)}`);
    out.push(`${n} CNAME .\n`);
  }
  return out.join('');
}

/** One /32 client-IP trigger per address (the address Unbound sees: a peer's mapped source). */
export function renderExemptZone(addresses: readonly string[], serial = 1): string {
  const out: string[] = [head(EXEMPT_ZONE, serial)];
  for (const a of [...new Set(addresses)].sort()) {
    if (!ipv4.safeParse(a).success)
      throw new Error(`refusing to render the exemptions: ${JSON.stringify(a)}`);
    out.push(`32.${a.split('.').reverse().join('.')}.rpz-client-ip CNAME rpz-passthru.\n`);
  }
  return out.join('');
}
