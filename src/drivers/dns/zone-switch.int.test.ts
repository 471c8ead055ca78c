// A domain-mode switch on a real Unbound (issue 10: "no failed query while records change"): the cell's
// zone moves from `mycell.cell` (local mode) to `home.example.org` (custom) and back, through the
// unbound-control driver as cell-api drives it, while a resolver asks every 20 ms, from a peer's
// address with a view, for the cell's own name and a peer's name in both zones and for a service the
// peer is denied. What must hold (zone-switch-check.ts): in every round the cell's name and the peer's
// name answer with their address in one of the two zones (no round where neither does: no timeout, no
// SERVFAIL of the name being served); each name changes between answering and not exactly as often
// as its zone is switched in or out (no flapping back); a denied service never answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BlockedNames } from '../../core/ports/dns-server.ts';
import type { CellZoneInput, ZoneRecord } from '../../render/unbound/cell-zone.ts';
import type { UnboundControl } from './unbound-control.ts';
import { startControlled, type TestUnbound } from './unbound-kit.ts';
import { checkSwitch, queryLoop } from './zone-switch-check.ts';

const LOCAL = 'mycell.cell';
const PUBLIC = 'home.example.org';
const records: ZoneRecord[] = [
  { name: '@', type: 'A', value: '172.20.0.2', ttl: 300 },
  { name: 'ntp', type: 'A', value: '172.20.0.4', ttl: 300 },
  { name: 'alice', type: 'A', value: '10.0.0.2', ttl: 300 },
];
const views: CellZoneInput['views'] = [
  { address: '127.0.0.2', label: '10.0.0.2', deny: ['ntp'] },
  { address: '127.0.0.3', label: '10.0.0.3', deny: [] },
];

describe('a domain-mode switch on a real Unbound', () => {
  let ub: TestUnbound;
  let dns: UnboundControl;

  before(async () => {
    ({ ub, dns } = await startControlled());
  });
  after(() => ub?.stop());

  const switchUnderQueries = async (blocked?: BlockedNames) => {
    await dns.apply({ zone: LOCAL, records, views }, blocked);
    const expect = {
      [LOCAL]: '172.20.0.2',
      [`alice.${LOCAL}`]: '10.0.0.2',
      [PUBLIC]: '172.20.0.2',
      [`alice.${PUBLIC}`]: '10.0.0.2',
    };
    const denied = [`ntp.${LOCAL}`, `ntp.${PUBLIC}`];
    const loop = queryLoop({
      server: `127.0.0.1:${ub.port}`,
      from: '127.0.0.2',
      // Old, new, old: whichever way an atomic switch goes, one of them answers.
      names: [LOCAL, PUBLIC, LOCAL, `alice.${LOCAL}`, `alice.${PUBLIC}`, `alice.${LOCAL}`, ...denied],
      everyMs: 20,
      timeoutMs: 500,
    });
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const modes: string[] = [];
    try {
      await pause(300);
      modes.push((await dns.apply({ zone: PUBLIC, records, views }, blocked)).mode);
      await pause(300);
      modes.push((await dns.apply({ zone: LOCAL, records, views }, blocked)).mode);
      await pause(300);
    } finally {
      loop.stop();
    }
    const rounds = await loop.done;
    const problems = checkSwitch(rounds, {
      groups: [
        { names: [LOCAL, PUBLIC], transitions: { [LOCAL]: 2, [PUBLIC]: 2 } },
        {
          names: [`alice.${LOCAL}`, `alice.${PUBLIC}`],
          transitions: { [`alice.${LOCAL}`]: 2, [`alice.${PUBLIC}`]: 2 },
        },
      ],
      expect,
      denied,
    });
    const longest = Math.max(...rounds.slice(1).map((r, i) => r.t - rounds[i]!.t));
    const outcomes = [...new Set(rounds.flatMap((r) => r.answers.map(([n, a]) => `${n} ${a}`)))];
    process.stdout.write(
      `# ${rounds.length} rounds, the longest ${longest} ms, applies: ${modes.join(', ')}; seen: ${outcomes.join('; ')}\n`,
    );
    assert.ok(rounds.length > 30, `${rounds.length} rounds`);
    // Live (unbound-control), never a reload: a reload stops every answer while Unbound reads its
    // config (~0.8 s here with the blocklist: past the 500 ms each query may take).
    assert.deepEqual(modes, ['delta', 'delta']);
    assert.deepEqual(problems, []);
  };

  test('local → custom → local: the cell and its peer answer in every round, a denied service never', () =>
    switchUnderQueries());

  test('the same with 100,000 blocked names loaded (blocklists on)', () =>
    switchUnderQueries({
      digest: 'big',
      names: () => Array.from({ length: 100_000 }, (_, i) => `ads-${i}.example`),
    }));
});
