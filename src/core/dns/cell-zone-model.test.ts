// The zone the cell derives: its own name at Caddy, services, active peers, the owner's records (a
// clash is skipped with a warning, never served twice), and one view per VPN address that denies the
// services its peer is not granted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DnsRecordRow } from '../ports/dns-records-repository.ts';
import {
  cellZoneModel,
  coreServiceNames,
  mailAutoconfigNames,
  storeServiceNames,
  VIEW_RANGE_MAX,
} from './cell-zone-model.ts';

const rec = (id: number, name: string, type: DnsRecordRow['type'], value: string): DnsRecordRow => ({
  id,
  name,
  type,
  value,
  ttl: 60,
  created_at: '2026-01-01T00:00:00Z',
});

const input = {
  zone: 'mycell.cell',
  vpnAddress: '10.0.0.1/29',
  cellNetwork: '172.20.0.0/16',
  services: coreServiceNames('172.20.0.0/16'),
  peers: [
    { name: 'alice', address: '10.0.0.2', services: ['dns', 'web'] },
    { name: 'ntp', address: '10.0.0.3', services: ['dns'] },
  ],
  records: [
    rec(1, 'www', 'CNAME', 'web.mycell.cell'),
    rec(2, 'alice', 'TXT', 'x'),
    rec(3, '@', 'MX', '10 mx.example.org'),
  ],
};

test('names of the cell, its services and peers, then the owner records that do not clash', () => {
  const { zone, warnings } = cellZoneModel(input);
  assert.deepEqual(
    zone.records.map((r) => `${r.name} ${r.type} ${r.value}`),
    [
      '@ A 172.20.0.2',
      'web A 172.20.0.2',
      'dns A 172.20.0.3',
      'ntp A 172.20.0.4',
      'alice A 10.0.0.2',
      'www CNAME web.mycell.cell',
      '@ MX 10 mx.example.org',
    ],
  );
  assert.deepEqual(
    warnings.map((w) => w.path),
    ['peers.ntp', 'records.2'],
  );
});

test('one view per address of the range but the server, at its mapped source; denials are the services not granted', () => {
  const { zone } = cellZoneModel(input);
  assert.deepEqual(
    zone.views.map((v) => `${v.label}@${v.address}:${v.deny.join(',')}`),
    [
      '10.0.0.2@172.20.255.250:ntp',
      '10.0.0.3@172.20.255.251:ntp,web',
      '10.0.0.4@172.20.255.252:',
      '10.0.0.5@172.20.255.253:',
      '10.0.0.6@172.20.255.254:',
    ],
  );
});

test('a range larger than VIEW_RANGE_MAX gets views for its peers only', () => {
  assert.ok(VIEW_RANGE_MAX < 2 ** 11);
  const { zone } = cellZoneModel({ ...input, vpnAddress: '10.0.0.1/16' });
  assert.deepEqual(
    zone.views.map((v) => v.label ?? v.address),
    ['10.0.0.2', '10.0.0.3'],
  );
});

test('installed store services: their names at their virtual IPs, NXDOMAIN for peers not granted', () => {
  const routes = [
    { serviceId: 'files', subdomain: 'files', virtualIp: '172.20.0.65', upstream: 'cell-files_nginx:8080' },
    {
      serviceId: 'calendar',
      subdomain: 'calendar.mycell.cell',
      virtualIp: '172.20.0.64',
      upstream: 'cell-calendar_radicale:5232',
    },
    // A store route can never take a core name.
    { serviceId: 'evil', subdomain: 'web', virtualIp: '172.20.0.66', upstream: 'cell-evil_x:80' },
  ];
  const store = storeServiceNames(routes, 'mycell.cell', '172.20.0.0/16');
  assert.deepEqual(store, [
    { name: 'calendar', service: 'calendar', address: '172.20.0.64' },
    { name: 'files', service: 'files', address: '172.20.0.65' },
  ]);
  const { zone } = cellZoneModel({
    ...input,
    services: [...coreServiceNames('172.20.0.0/16'), ...store],
    peers: [
      { name: 'alice', address: '10.0.0.2', services: ['dns', 'web', 'calendar'] },
      { name: 'bob', address: '10.0.0.3', services: ['dns'] },
    ],
  });
  const a = (n: string) => zone.records.find((r) => r.name === n && r.type === 'A')?.value;
  assert.equal(a('calendar'), '172.20.0.64');
  assert.equal(a('files'), '172.20.0.65');
  const deny = (label: string) => zone.views.find((v) => (v.label ?? v.address) === label)!.deny;
  assert.deepEqual(deny('10.0.0.2'), ['files', 'ntp']);
  assert.deepEqual(deny('10.0.0.3'), ['calendar', 'files', 'ntp', 'web']);
  // An address no peer holds yet denies nothing (its view is empty until a peer takes it).
  assert.deepEqual(deny('10.0.0.4'), []);
});

test("dns_names at the service's virtual IP; a route on a required service's name is one record, resolved by either's peers", () => {
  const routes = [
    {
      serviceId: 'webmail',
      subdomain: 'mail.mycell.cell',
      virtualIp: '172.20.0.66',
      address: '172.20.0.65',
      upstream: 'cell-webmail_roundcube:8080',
    },
  ];
  const services = [
    { serviceId: 'webmail', virtualIp: '172.20.0.66', names: [], hostPorts: [], hostAddress: '172.20.0.1' },
    {
      serviceId: 'email',
      virtualIp: '172.20.0.65',
      names: ['mail', 'dns'],
      hostPorts: [{ proto: 'tcp' as const, port: 25 }],
      hostAddress: '172.20.0.1',
    },
  ];
  const store = storeServiceNames(routes, 'mycell.cell', '172.20.0.0/16', services);
  assert.deepEqual(store, [
    // A core name is never a store service's, whichever field asks for it.
    { name: 'mail', service: 'email', address: '172.20.0.65' },
    { name: 'mail', service: 'webmail', address: '172.20.0.65' },
  ]);
  const { zone } = cellZoneModel({
    ...input,
    services: [...coreServiceNames('172.20.0.0/16'), ...store],
    peers: [
      { name: 'alice', address: '10.0.0.2', services: ['dns', 'email'] },
      { name: 'bob', address: '10.0.0.3', services: ['dns', 'webmail'] },
      { name: 'carol', address: '10.0.0.4', services: ['dns', 'web'] },
    ],
  });
  assert.deepEqual(
    zone.records.filter((r) => r.name === 'mail'),
    [{ name: 'mail', type: 'A', value: '172.20.0.65', ttl: 300 }],
    'one A record, at the address of the service holding the name',
  );
  const deny = (label: string) => zone.views.find((v) => (v.label ?? v.address) === label)!.deny;
  assert.deepEqual(deny('10.0.0.2'), ['ntp', 'web']);
  assert.deepEqual(deny('10.0.0.3'), ['ntp', 'web']);
  assert.deepEqual(deny('10.0.0.4'), ['mail', 'ntp']);
});

test("a store service's own records: at @, at _ names, at its own names; not at another's name or a CNAME", () => {
  const services = [
    ...coreServiceNames('172.20.0.0/16'),
    { name: 'mail', service: 'email', address: '172.20.0.64' },
  ];
  const svc = (name: string, type: 'MX' | 'TXT' | 'SRV', value: string) => ({
    service: 'email',
    name,
    type,
    value,
    ttl: 3600,
  });
  const { zone, warnings } = cellZoneModel({
    ...input,
    services,
    records: [rec(1, '_x', 'CNAME', 'a.example.org')],
    serviceRecords: [
      svc('@', 'MX', '10 mail.mycell.cell'),
      svc('_dmarc', 'TXT', 'v=DMARC1; p=none'),
      svc('mail', 'TXT', 'v=spf1 a -all'),
      svc('web', 'TXT', 'taken'),
      svc('alice', 'TXT', 'a peer'),
      svc('_x', 'TXT', 'beside a CNAME'),
    ],
  });
  const served = zone.records.slice(-3).map((r) => `${r.name} ${r.type} ${r.value}`);
  assert.deepEqual(served, [
    '@ MX 10 mail.mycell.cell',
    '_dmarc TXT v=DMARC1; p=none',
    'mail TXT v=spf1 a -all',
  ]);
  assert.equal(warnings.filter((w) => w.path === 'services.email.dns_records').length, 3);
  // Not denied in any view: only the names of services are.
  for (const v of zone.views) assert.ok(!v.deny.includes('_dmarc') && !v.deny.includes('@'));
});

test('autoconfig is at Caddy while email is installed, under the web grant; absent otherwise', () => {
  assert.deepEqual(mailAutoconfigNames(false, '172.20.0.0/16'), []);
  const names = mailAutoconfigNames(true, '172.20.0.0/16');
  assert.deepEqual(names, [{ name: 'autoconfig', service: 'web', address: '172.20.0.2' }]);
  const { zone } = cellZoneModel({ ...input, services: [...input.services, ...names] });
  assert.ok(zone.records.some((r) => r.name === 'autoconfig' && r.type === 'A' && r.value === '172.20.0.2'));
  // A peer without `web` gets NXDOMAIN for it, as for web itself.
  const ntpOnly = zone.views.find((v) => v.label === '10.0.0.3' || v.address === '10.0.0.3')!;
  assert.ok(ntpOnly.deny.includes('autoconfig') && ntpOnly.deny.includes('web'));
});
