// The cell's zone and its per-peer views (config/dns/zone.conf, written by cell-api's DNS driver, the
// file a restart of cell-dns loads; the running Unbound gets the same changes through unbound-control,
// see zone-delta.ts). One static local zone holds the cell's own name, its services, its peers and the
// owner's records; a name outside them answers NXDOMAIN, never a query upstream.
//
// Per-peer views (ADR 0017): `access-control-view: <peer address>/32 peer-<address>` and a view holding
// one `always_nxdomain` local zone per service the peer is not granted. `view-first: yes` sends
// every other name to the global zone, so a view carries only its denials.
import { z } from 'zod';
import { DNS_VALUE, type DnsRecordType, dnsRecordType, dnsTtl } from '../../schema/dns.ts';
import { domainName, ipv4 } from '../../schema/fields.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';
import { BLOCKED_LOG_NAME, BLOCKLIST_ZONE, EXEMPT_ZONE } from './policy-zones.ts';

export interface ZoneRecord {
  /** Relative to the zone: `@` or `www`, `_sip._tcp`. */
  name: string;
  type: DnsRecordType;
  /** As DNS_VALUE normalizes it (names without the trailing dot). */
  value: string;
  ttl: number;
}

export interface ZoneView {
  /** The client address the view is for, as Unbound sees it (a peer's mapped source, ADR 0015). */
  address: string;
  /** What the view is named after (the peer's VPN address); default: address. */
  label?: string | undefined;
  /** Relative names (and everything below them) this client gets NXDOMAIN for. */
  deny: readonly string[];
  /** false: the blocklists are not applied to this client (an exemption in the policy zone). */
  block?: boolean | undefined;
}

/** Where cell-dns reads the two policy zones (ADR 0020); absent: no blocklist machinery at all. */
export interface PolicyFiles {
  exemptFile: string;
  blocklistFile: string;
}

export interface CellZoneInput {
  zone: string;
  records: readonly ZoneRecord[];
  views: readonly ZoneView[];
  policy?: PolicyFiles | undefined;
}

const LABEL = '_?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
export const relativeName = z
  .string()
  .max(253)
  .regex(new RegExp(`^(@|${LABEL}(\\.${LABEL})*)$`), 'must be @ or a relative name');

const record = z
  .object({ name: relativeName, type: dnsRecordType, value: z.string(), ttl: dnsTtl })
  .strict()
  .refine((r) => DNS_VALUE[r.type].safeParse(r.value).success, 'value must match its type');

/** An absolute path without `..`, quotes or spaces: it is written inside `zonefile: "..."`. */
const policyPath = z
  .string()
  .max(300)
  .regex(/^\/[A-Za-z0-9._/-]+$/, 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');

export const cellZoneSchema = z
  .object({
    zone: domainName,
    records: z.array(record).max(100_000),
    views: z
      .array(
        z
          .object({
            address: ipv4,
            label: ipv4.optional(),
            deny: z.array(relativeName).max(256),
            block: z.boolean().optional(),
          })
          .strict(),
      )
      .max(70_000),
    policy: z.object({ exemptFile: policyPath, blocklistFile: policyPath }).strict().optional(),
  })
  .strict();

/** The absolute owner name of a relative one, with the trailing dot. */
export function ownerName(zone: string, name: string): string {
  return name === '@' ? `${zone}.` : `${name}.${zone}.`;
}

/** TXT data as 255-byte character-strings (the value holds no quote or backslash: see DNS_VALUE). */
function txtStrings(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return parts.join(' ');
}

function rdata(type: DnsRecordType, value: string): string {
  switch (type) {
    case 'A':
    case 'AAAA':
      return value;
    case 'CNAME':
      return `${value}.`;
    case 'TXT':
      return txtStrings(value);
    case 'MX': {
      const [pref, host] = value.split(' ');
      return `${pref} ${host}.`;
    }
    case 'SRV': {
      const [p, w, port, host] = value.split(' ');
      return `${p} ${w} ${port} ${host === '.' ? '.' : `${host}.`}`;
    }
  }
}

/** One record as zone-file text, what `local-data:` and `unbound-control local_data` take. */
export function rrLine(zone: string, r: ZoneRecord): string {
  return `${ownerName(zone, r.name)} ${r.ttl} IN ${r.type} ${rdata(r.type, r.value)}`;
}

export const viewName = (address: string) => `peer-${address}`;

const byAddress = (a: ZoneView, b: ZoneView) => {
  const n = (s: string) => s.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  return n(a.address) - n(b.address);
};

/** Records sorted the one way every render and delta uses. */
export function sortedLines(zone: string, records: readonly ZoneRecord[]): string[] {
  return [...new Set(records.map((r) => rrLine(zone, r)))].sort();
}

export function renderCellZone(raw: CellZoneInput): Rendered {
  const i = must(cellZoneSchema, raw, 'the cell zone');
  const zone = i.zone;
  const lines = [
    '# Rendered by PIC from the cell name, its services, its peers and the DNS records; edits are',
    '# overwritten. cell-api changes the running server through unbound-control and rewrites this file.',
    'server:',
    `    local-zone: "${zone}." static`,
    ...sortedLines(zone, i.records).map((l) => `    local-data: '${l}'`),
  ];
  const views = [...i.views].sort(byAddress);
  for (const v of views)
    lines.push(`    access-control-view: ${v.address}/32 "${viewName(v.label ?? v.address)}"`);
  // Blocklists (ADR 0020): every view's client carries the tag the blocklist zone is limited to, so
  // other clients (the LAN, the cell's containers) are never filtered; a peer with blocking off is an
  // exemption in the first policy zone, which cell-api changes live (auth_zone_reload), no reload.
  if (i.policy) {
    lines.push('    define-tag: "blocklist"', '    extended-statistics: yes');
    for (const v of views) lines.push(`    access-control-tag: ${v.address}/32 "blocklist"`);
  }
  for (const v of views) {
    lines.push('view:', `    name: "${viewName(v.label ?? v.address)}"`, '    view-first: yes');
    for (const d of [...new Set(v.deny)].sort())
      lines.push(`    local-zone: "${ownerName(zone, d)}" always_nxdomain`);
  }
  if (i.policy)
    lines.push(
      'rpz:',
      `    name: "${EXEMPT_ZONE}"`,
      `    zonefile: "${i.policy.exemptFile}"`,
      'rpz:',
      `    name: "${BLOCKLIST_ZONE}"`,
      `    zonefile: "${i.policy.blocklistFile}"`,
      '    tags: "blocklist"',
      // One log line per blocked query, which cell-dns's pic-dns-blocked turns into per-client counts
      // and keeps out of the container's log (ADR 0020, amendment): nothing is logged for the exempt
      // zone or for answered queries.
      '    rpz-log: yes',
      `    rpz-log-name: "${BLOCKED_LOG_NAME}"`,
    );
  return { output: `${lines.join('\n')}\n`, warnings: [] };
}
