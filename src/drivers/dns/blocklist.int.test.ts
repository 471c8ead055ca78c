// The blocklists' policy zones (ADR 0020) on a real Unbound started on loopback: blocked names answer
// NXDOMAIN to the clients of views with blocking on (127.0.0.2), a client exempted (127.0.0.3) and a
// client without a view (127.0.0.1, like the LAN) are not filtered (their query goes on and, with no
// upstream here, fails with SERVFAIL), a toggle or a new list is a live auth_zone_reload, and a
// 100k-name list's load time is printed (PIC_BLOCKLIST_NAMES changes the count).
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BlockedNames } from '../../core/ports/dns-server.ts';
import type { CellZoneInput } from '../../render/unbound/cell-zone.ts';
import { localExec, type UnboundControl } from './unbound-control.ts';
import { startControlled, type TestUnbound } from './unbound-kit.ts';

const ZONE = 'mycell.cell';
const zone = (exempt: string[]): CellZoneInput => ({
  zone: ZONE,
  records: [{ name: 'web', type: 'A', value: '172.20.0.2', ttl: 300 }],
  views: ['127.0.0.2', '127.0.0.3'].map((address) => ({
    address,
    deny: [],
    block: !exempt.includes(address),
  })),
});
const blocked = (names: string[], digest = names.join(',')): BlockedNames => ({ digest, names: () => names });

describe('blocklist policy zones on a real Unbound', () => {
  let ub: TestUnbound;
  let dns: UnboundControl;
  const outcome = async (name: string, from: string) => {
    const r = new Resolver({ timeout: 3000, tries: 1 });
    r.setServers([`127.0.0.1:${ub.port}`]);
    r.setLocalAddress(from);
    try {
      return (await r.resolve4(name)).join(',');
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOTFOUND' ? 'NXDOMAIN' : 'not blocked';
    }
  };

  before(async () => {
    ({ ub, dns } = await startControlled({ exec: localExec, tap: true }));
  });
  after(() => ub?.stop());

  test('blocked for views with blocking on only; the cell zone still answers', async () => {
    assert.equal(
      (await dns.apply(zone(['127.0.0.3']), blocked(['ads.example', 'tracker.example']))).mode,
      'full',
    );
    assert.equal(await outcome('ads.example', '127.0.0.2'), 'NXDOMAIN');
    assert.equal(await outcome('tracker.example', '127.0.0.2'), 'NXDOMAIN');
    assert.equal(await outcome('sub.ads.example', '127.0.0.2'), 'not blocked', 'exact names only');
    assert.equal(await outcome('ads.example', '127.0.0.3'), 'not blocked', 'exempted peer');
    assert.equal(await outcome('ads.example', '127.0.0.1'), 'not blocked', 'a client without a view');
    assert.equal(await outcome(`web.${ZONE}`, '127.0.0.2'), '172.20.0.2');
    assert.match(
      readFileSync(join(ub.includeDir, 'exempt.rpz'), 'utf8'),
      /^32\.3\.0\.0\.127\.rpz-client-ip CNAME rpz-passthru\.$/m,
    );
    assert.ok(((await dns.blockedQueries()) ?? 0) >= 2);
  });

  test('a toggle and a list change apply live (no reload)', async () => {
    const before = (await dns.blockedQueries())!;
    assert.equal((await dns.apply(zone([]), blocked(['ads.example', 'tracker.example']))).mode, 'delta');
    assert.equal(await outcome('ads.example', '127.0.0.3'), 'NXDOMAIN');
    assert.equal((await dns.apply(zone(['127.0.0.2']), blocked(['other.example']))).mode, 'delta');
    assert.equal(await outcome('ads.example', '127.0.0.3'), 'not blocked');
    assert.equal(await outcome('other.example', '127.0.0.3'), 'NXDOMAIN');
    assert.equal(await outcome('other.example', '127.0.0.2'), 'not blocked');
    assert.equal((await dns.apply(zone(['127.0.0.2']), blocked(['other.example']))).mode, 'unchanged');
    assert.equal(await dns.blockedQueries(), before + 2, 'two more blocked answers');
  });

  test('per client: a blocked answer counts for the address that asked; nothing else counts', async () => {
    await dns.drainBlocked(); // what the tests before asked
    assert.equal(
      (await dns.apply(zone(['127.0.0.3']), blocked(['ads.example', 'tracker.example']))).mode,
      'delta',
    );
    assert.equal(await outcome('ads.example', '127.0.0.2'), 'NXDOMAIN');
    assert.equal(await outcome('ads.example', '127.0.0.2'), 'NXDOMAIN', 'again: RPZ is applied per query');
    assert.equal(await outcome('tracker.example', '127.0.0.2'), 'NXDOMAIN');
    assert.equal(await outcome(`web.${ZONE}`, '127.0.0.2'), '172.20.0.2', 'an allowed name');
    assert.equal(await outcome('other.example', '127.0.0.2'), 'not blocked', 'a name on no list');
    assert.equal(await outcome('ads.example', '127.0.0.3'), 'not blocked', 'an exempted peer');
    assert.equal(await outcome('ads.example', '127.0.0.1'), 'not blocked', 'a client without a view');
    // Unbound writes the log line before it answers, but the tap reads it a moment later: poll.
    let counts: Array<{ client: string; name: string; count: number }> = [];
    const deadline = Date.now() + 5000;
    while (counts.reduce((n, c) => n + c.count, 0) < 3 && Date.now() < deadline) {
      counts = [...counts, ...((await dns.drainBlocked())?.counts ?? [])];
      await new Promise((r) => setTimeout(r, 20)); // polling a condition (the counts arrived)
    }
    const sum = new Map<string, number>();
    for (const c of counts)
      sum.set(`${c.client} ${c.name}`, (sum.get(`${c.client} ${c.name}`) ?? 0) + c.count);
    assert.deepEqual(Object.fromEntries(sum), { '127.0.0.2 ads.example': 2, '127.0.0.2 tracker.example': 1 });
    assert.deepEqual((await dns.drainBlocked())?.counts, [], 'nothing more, and the drain forgot them');
  });

  test('a list of 100k names loads; its load time is printed', async () => {
    const n = Number(process.env.PIC_BLOCKLIST_NAMES ?? 100_000);
    const names = Array.from({ length: n }, (_, i) => `ads${i}.tracker${i % 97}.example`);
    let t0 = performance.now();
    assert.equal((await dns.apply(zone([]), blocked(names))).mode, 'delta');
    const live = performance.now() - t0;
    assert.equal(await outcome(`ads${n - 1}.tracker${(n - 1) % 97}.example`, '127.0.0.2'), 'NXDOMAIN');
    assert.equal(await outcome(`web.${ZONE}`, '127.0.0.2'), '172.20.0.2');
    // A toggle with the big list loaded only reloads the small exemptions zone.
    t0 = performance.now();
    assert.equal((await dns.apply(zone(['127.0.0.2']), blocked(names))).mode, 'delta');
    const toggle = performance.now() - t0;
    assert.equal(await outcome('ads5.tracker5.example', '127.0.0.2'), 'not blocked');
    dns.reset();
    t0 = performance.now();
    assert.equal((await dns.apply(zone(['127.0.0.2']), blocked(names))).mode, 'full');
    const full = performance.now() - t0;
    assert.equal(await outcome('ads5.tracker5.example', '127.0.0.3'), 'NXDOMAIN');
    const answering = performance.now() - t0;
    process.stdout.write(
      `# ${n} names: list change (write + auth_zone_reload) ${Math.round(live)} ms, peer toggle ` +
        `${Math.round(toggle)} ms, full reload ${Math.round(full)} ms (answering after ${Math.round(answering)} ms)\n`,
    );
  });
});
