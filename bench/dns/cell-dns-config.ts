// What the DNS benchmark serves: a cell's zone as cell-dns gets it (the real model and renderer), and
// the stand-in blocklist. The cell: `bench.cell`, a /24 VPN (one view per host address, ADR 0017), 50
// peers (half of them denied ntp), 300 owner records of every type; its VPN range is mapped into
// 127.0.0.0/16 (ADR 0015's NETMAP block is then 127.0.255.0/24), so a query sent from 127.0.255.7 is a
// query of peer 10.0.0.7 and goes through its view, as on the cell network.
import { writeFileSync } from 'node:fs';
import { cellZoneModel, coreServiceNames } from '../../src/core/dns/cell-zone-model.ts';
import type { DnsRecordRow } from '../../src/core/ports/dns-records-repository.ts';
import { type CellZoneInput, renderCellZone } from '../../src/render/unbound/cell-zone.ts';
import { renderForwardZone } from '../../src/render/unbound/forward-zone.ts';

export const ZONE = 'bench.cell';
export const CELL_NETWORK = '127.0.0.0/16';
export const VPN = '10.0.0.1/24';
/** The peer the load comes from (mapped source 127.0.255.8): denied ntp, so its view has a zone. */
export const LOAD_PEER = { vpn: '10.0.0.8', source: '127.0.255.8' };
/** Stand-in for the blocklists (not merged yet): global always_nxdomain zones. */
export const BLOCKLIST_SIZE = Number(process.env.BENCH_BLOCKLIST ?? 50_000);

export function ownerRecords(): DnsRecordRow[] {
  const rows: DnsRecordRow[] = [];
  const add = (name: string, type: DnsRecordRow['type'], value: string) =>
    rows.push({ id: rows.length + 1, name, type, value, ttl: 300, created_at: '' });
  for (let i = 0; i < 200; i++) add(`host${i}`, 'A', `192.168.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  for (let i = 0; i < 40; i++) add(`v6-${i}`, 'AAAA', `2001:db8::${(i + 1).toString(16)}`);
  for (let i = 0; i < 20; i++) add(`txt${i}`, 'TXT', `v=bench${i} some text for a record`);
  for (let i = 0; i < 20; i++) add(`alias${i}`, 'CNAME', `host${i}.${ZONE}`);
  for (let i = 0; i < 10; i++) add(`mx${i}`, 'MX', `10 host${i}.${ZONE}`);
  for (let i = 0; i < 10; i++) add(`_svc${i}._tcp`, 'SRV', `10 5 5060 host${i}.${ZONE}`);
  return rows;
}

export function cellZone(records = ownerRecords()): CellZoneInput {
  const peers = Array.from({ length: 50 }, (_, i) => ({
    name: `peer${i}`,
    address: `10.0.0.${i + 2}`,
    services: i % 2 ? ['dns', 'ntp', 'web'] : ['dns', 'web'],
  }));
  const { zone } = cellZoneModel({
    zone: ZONE,
    vpnAddress: VPN,
    cellNetwork: CELL_NETWORK,
    peers,
    services: coreServiceNames(CELL_NETWORK),
    records,
  });
  return zone;
}

export function blocklist(n = BLOCKLIST_SIZE): string {
  const lines = ['# Stand-in for the cell blocklists: one always_nxdomain local zone per name.', 'server:'];
  for (let i = 0; i < n; i++)
    lines.push(`    local-zone: "ads${i}.tracker${i % 97}.example." always_nxdomain`);
  return `${lines.join('\n')}\n`;
}

/** The files cell-dns includes from config/dns/, as PIC renders them, plus the blocklist stand-in. */
export function cellFiles(zone = cellZone()): Record<string, string> {
  return {
    'forward.conf': renderForwardZone({ forwarders: [] }).output,
    'zone.conf': renderCellZone(zone).output,
    ...(BLOCKLIST_SIZE ? { 'blocklist.conf': blocklist() } : {}),
  };
}

/** The reference: the same records in one static local zone; no views, no blocklist. */
export function referenceFiles(zone = cellZone()): Record<string, string> {
  return {
    'forward.conf': renderForwardZone({ forwarders: [] }).output,
    'zone.conf': renderCellZone({ ...zone, views: [] }).output,
  };
}

/**
 * The query mix, in dnsperf's format (`name type` per line): every name of the zone with its type
 * (the cell's own name, dns and web, the peers, the owner's records), and one NXDOMAIN name inside the
 * zone per ten. Both servers give the same answer to every line (ntp, denied to the load's peer, and
 * blocked names, answered only by the cell, are left out).
 */
export function queryMix(path: string, zone = cellZone()): number {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const r of zone.records) {
    if (r.name === 'ntp') continue;
    const owner = r.name === '@' ? ZONE : `${r.name}.${ZONE}`;
    const key = `${owner} ${r.type}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(key);
    if (lines.length % 10 === 9) lines.push(`missing${lines.length}.${ZONE} A`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return lines.length;
}
