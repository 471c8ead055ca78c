// The unbound-control driver against a real Unbound started on loopback: the first apply loads the
// zone (full), later ones change records and per-peer views live, answers checked with node:dns from
// the peers' own source addresses (127.0.0.2, 127.0.0.3 stand for VPN addresses), and a resolver loop
// sees no failed query while 1,000 records change (the figure, ~50 s here; PIC_DNS_CHURN=150
// for a quicker local run). The commands go through pic-dns-control, as in the cell (the helper speaks
// the control protocol itself).
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, test } from 'node:test';
import type { CellZoneInput, ZoneRecord } from '../../render/unbound/cell-zone.ts';
import type { UnboundControl } from './unbound-control.ts';
import { startControlled, type TestUnbound } from './unbound-kit.ts';

const ZONE = 'mycell.cell';
const base: ZoneRecord[] = [
  { name: '@', type: 'A', value: '172.20.0.2', ttl: 300 },
  { name: 'web', type: 'A', value: '172.20.0.2', ttl: 300 },
  { name: 'ntp', type: 'A', value: '172.20.0.4', ttl: 300 },
  { name: 'alice', type: 'A', value: '10.0.0.2', ttl: 300 },
  { name: 'stable', type: 'A', value: '192.0.2.1', ttl: 300 },
];
const zone = (records: ZoneRecord[], views: CellZoneInput['views']): CellZoneInput => ({
  zone: ZONE,
  records,
  views,
});

describe('unbound-control driver on a real Unbound', () => {
  let ub: TestUnbound;
  let dns: UnboundControl;
  const resolver = (from = '127.0.0.1') => {
    const r = new Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`127.0.0.1:${ub.port}`]);
    r.setLocalAddress(from);
    return r;
  };
  const a = (name: string, from?: string) => resolver(from).resolve4(`${name}.${ZONE}`);
  const nx = async (name: string, from?: string) =>
    assert.rejects(a(name, from), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND', name);

  before(async () => {
    ({ ub, dns } = await startControlled());
  });
  after(() => ub?.stop());

  test('the first apply loads the zone and its views (full reload)', async () => {
    assert.equal(await dns.running(), true);
    const r = await dns.apply(
      zone(base, [
        { address: '127.0.0.2', deny: ['ntp'] },
        { address: '127.0.0.3', deny: [] },
      ]),
    );
    assert.equal(r.mode, 'full');
    assert.deepEqual(await resolver().resolve4(ZONE), ['172.20.0.2']);
    assert.deepEqual(await a('alice'), ['10.0.0.2']);
    assert.deepEqual(await a('ntp'), ['172.20.0.4']);
    await nx('ntp', '127.0.0.2');
    await nx('ntp.sub', '127.0.0.2');
    assert.deepEqual(await a('ntp', '127.0.0.3'), ['172.20.0.4']);
    assert.deepEqual(await a('web', '127.0.0.2'), ['172.20.0.2'], 'view-first: the rest is global');
    await nx('nothing-here');
  });

  test('records of every type and a grant change apply live (delta)', async () => {
    const more: ZoneRecord[] = [
      ...base,
      { name: 'www', type: 'CNAME', value: 'web.mycell.cell', ttl: 60 },
      { name: '@', type: 'TXT', value: `v=spf1 mx ~all; #not-a-comment ${'x'.repeat(300)}`, ttl: 60 },
      { name: '@', type: 'MX', value: '10 mail.example.org', ttl: 60 },
      { name: '_sip._tcp', type: 'SRV', value: '10 5 5060 sip.example.org', ttl: 60 },
      { name: 'v6', type: 'AAAA', value: '2001:db8::10', ttl: 60 },
      { name: 'multi', type: 'A', value: '192.0.2.7', ttl: 60 },
      { name: 'multi', type: 'A', value: '192.0.2.8', ttl: 60 },
    ];
    const r = await dns.apply(
      zone(more, [
        { address: '127.0.0.2', deny: [] },
        { address: '127.0.0.3', deny: ['ntp'] },
      ]),
    );
    assert.equal(r.mode, 'delta');
    const res = resolver();
    assert.deepEqual(await res.resolveCname(`www.${ZONE}`), ['web.mycell.cell']);
    const txt = await res.resolveTxt(ZONE);
    assert.equal(txt[0]!.join(''), `v=spf1 mx ~all; #not-a-comment ${'x'.repeat(300)}`);
    assert.equal(txt[0]!.length, 2, 'split into 255-byte strings');
    assert.deepEqual(
      (await res.resolveMx(ZONE)).map(({ exchange, priority }) => ({ exchange, priority })),
      [{ exchange: 'mail.example.org', priority: 10 }],
    );
    assert.deepEqual(
      (await res.resolveSrv(`_sip._tcp.${ZONE}`)).map(({ name, port, priority, weight }) => ({
        name,
        port,
        priority,
        weight,
      })),
      [{ name: 'sip.example.org', port: 5060, priority: 10, weight: 5 }],
    );
    assert.deepEqual(await res.resolve6(`v6.${ZONE}`), ['2001:db8::10']);
    assert.deepEqual((await a('multi')).sort(), ['192.0.2.7', '192.0.2.8']);
    assert.deepEqual(await a('ntp', '127.0.0.2'), ['172.20.0.4'], 'granted now');
    await nx('ntp', '127.0.0.3');

    // One record of two removed: the other stays; a removed name is NXDOMAIN.
    const fewer = more.filter((x) => x.value !== '192.0.2.8' && x.name !== 'v6');
    assert.equal((await dns.apply(zone(fewer, [...zoneViews()]))).mode, 'delta');
    assert.deepEqual(await a('multi'), ['192.0.2.7']);
    await assert.rejects(
      resolver().resolve6(`v6.${ZONE}`),
      (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND',
    );
    assert.equal((await dns.apply(zone(fewer, [...zoneViews()]))).mode, 'unchanged');
  });

  const zoneViews = () => [
    { address: '127.0.0.2', deny: [] as string[] },
    { address: '127.0.0.3', deny: ['ntp'] },
  ];

  test('a view the loaded config lacks means a full reload, and it then works', async () => {
    const r = await dns.apply(zone(base, [...zoneViews(), { address: '127.0.0.4', deny: ['web', 'ntp'] }]));
    assert.equal(r.mode, 'full');
    await nx('web', '127.0.0.4');
    assert.deepEqual(await a('web', '127.0.0.2'), ['172.20.0.2']);
  });

  test('a resolver loop sees no failed query while records change', async () => {
    const changes = Number(process.env.PIC_DNS_CHURN ?? 1000);
    const views = [...zoneViews(), { address: '127.0.0.4', deny: ['web', 'ntp'] }];
    let records = [...base];
    let stop = false;
    let queries = 0;
    const failures: string[] = [];
    const loop = (async () => {
      const res = resolver('127.0.0.2');
      while (!stop) {
        for (const name of ['stable', 'alice', 'web']) {
          try {
            const got = await res.resolve4(`${name}.${ZONE}`);
            if (got.length !== 1) failures.push(`${name}: ${got.join(',')}`);
          } catch (err) {
            failures.push(`${name}: ${(err as Error).message}`);
          }
          queries++;
        }
      }
    })();
    const t0 = performance.now();
    try {
      for (let n = 0; n < changes; n++) {
        // Add a record, and every other step remove the one added before it.
        records.push({ name: `churn-${n}`, type: 'A', value: `198.51.100.${n % 250}`, ttl: 60 });
        if (n % 2 === 1) records = records.filter((r) => r.name !== `churn-${n - 1}`);
        const r = await dns.apply(zone(records, views));
        assert.equal(r.mode, 'delta');
      }
    } finally {
      stop = true;
      await loop;
    }
    const ms = performance.now() - t0;
    assert.deepEqual(failures, []);
    assert.ok(queries > changes, `${queries} queries during ${changes} changes`);
    assert.deepEqual(await a(`churn-${changes - 1}`), [`198.51.100.${(changes - 1) % 250}`]);
    process.stdout.write(
      `# ${changes} live changes in ${Math.round(ms)} ms, ${queries} queries, none failed\n`,
    );
  });
});
