// cell-dns's upstream settings on real Unbounds: a second Unbound started on a loopback address stands
// for the owner's forwarder (unsigned answers, no root: nothing leaves this machine). With DNSSEC
// validation on (the default) its unsigned answers for a public name are refused (SERVFAIL: the
// validator cannot build a chain from the root trust anchor), a linked cell's zone, marked insecure,
// still resolves; with validation off the same forwarder is believed. (example.org, not a .test name:
// Unbound answers test. itself, as a default local zone.)
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, test } from 'node:test';
import { renderCellZone } from '../../render/unbound/cell-zone.ts';
import { type ForwardZoneInput, renderForwardZone } from '../../render/unbound/forward-zone.ts';
import { startUnbound, type TestUnbound } from './unbound-kit.ts';

let upstream: TestUnbound;
const running: TestUnbound[] = [];
const UPSTREAM = `127.53.${1 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 200)}`;

before(async () => {
  const zone = (name: string, ip: string) =>
    renderCellZone({ zone: name, records: [{ name: 'www', type: 'A', value: ip, ttl: 60 }], views: [] })
      .output;
  // Plain forwarders are addresses (port 53): the stand-in listens on port 53 of its own loopback address.
  upstream = await startUnbound({
    address: UPSTREAM,
    port: 53,
    files: { 'a.conf': zone('example.org', '192.0.2.80'), 'b.conf': zone('othercell.cell', '10.1.0.9') },
  });
});
after(async () => {
  for (const u of running) await u.stop();
  await upstream?.stop();
});

async function cellDns(input: ForwardZoneInput) {
  const u = await startUnbound({ files: { 'forward.conf': renderForwardZone(input).output } });
  running.push(u);
  const r = new Resolver({ timeout: 3000, tries: 1 });
  r.setServers([`127.0.0.1:${u.port}`]);
  return r;
}

test('the stand-in forwarder answers directly', async () => {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`${UPSTREAM}:53`]);
  assert.deepEqual(await r.resolve4('www.example.org'), ['192.0.2.80']);
});

test('DNSSEC on by default: unsigned forwarded answers are refused, a linked zone is not validated', async () => {
  const r = await cellDns({
    forwarders: [UPSTREAM],
    linkedZones: [{ zone: 'othercell.cell', servers: [UPSTREAM] }],
  });
  await assert.rejects(r.resolve4('www.example.org'), (e: NodeJS.ErrnoException) => e.code === 'ESERVFAIL');
  assert.deepEqual(await r.resolve4('www.othercell.cell'), ['10.1.0.9']);
});

test('with dnssec false the forwarder is believed', async () => {
  const r = await cellDns({ forwarders: [UPSTREAM], dnssec: false });
  assert.deepEqual(await r.resolve4('www.example.org'), ['192.0.2.80']);
});
