// pic-dns-control (images/cell-dns/pic-dns-control) run as a local process, the way cell-api runs it
// inside cell-dns through one `docker exec -i`: the unbound-control driver applies the zone through
// the session against a real Unbound on loopback; the helper runs only unbound-control and
// unbound-checkconf; a session that dies is replaced on the next request.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderForwardZone } from '../../render/unbound/forward-zone.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { ControlSession, ControlSessionError, localSession, type OpenSession } from './control-session.ts';
import { UnboundControl } from './unbound-control.ts';
import { startUnbound, type TestUnbound } from './unbound-kit.ts';

const HELPER = join(import.meta.dirname, '..', '..', '..', 'images', 'cell-dns', 'pic-dns-control');
const ZONE = 'mycell.cell';

describe('pic-dns-control session', () => {
  let ub: TestUnbound;
  let opened = 0;
  const kills: Array<() => void> = [];
  const open: OpenSession = async () => {
    opened++;
    const s = await localSession(HELPER)();
    kills.push(() => s.close());
    return s;
  };
  const session = new ControlSession(open);
  const a = (name: string) => {
    const r = new Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`127.0.0.1:${ub.port}`]);
    return r.resolve4(`${name}.${ZONE}`);
  };

  before(async () => {
    ub = await startUnbound({ files: { 'forward.conf': renderForwardZone({ forwarders: [] }).output } });
  });
  after(async () => {
    session.close();
    await ub?.stop();
  });

  test('the driver applies the zone through one session (full, then deltas)', async () => {
    const dns = new UnboundControl({
      exec: session.exec,
      conf: ub.conf,
      zonePath: join(ub.includeDir, 'zone.conf'),
      writeFile: (p, c) => writeFileAtomic(p, c),
    });
    assert.equal(await dns.running(), true);
    const rec = (name: string, value: string) => ({ name, type: 'A' as const, value, ttl: 60 });
    const views = [{ address: '127.0.0.2', deny: ['ntp'] }];
    assert.equal((await dns.apply({ zone: ZONE, records: [rec('web', '192.0.2.1')], views })).mode, 'full');
    assert.deepEqual(await a('web'), ['192.0.2.1']);
    for (let i = 0; i < 5; i++) {
      const records = [
        rec('web', '192.0.2.1'),
        ...Array.from({ length: i + 1 }, (_, j) => rec(`n${j}`, `192.0.2.${j + 10}`)),
      ];
      assert.equal((await dns.apply({ zone: ZONE, records, views })).mode, 'delta');
      assert.deepEqual(await a(`n${i}`), [`192.0.2.${i + 10}`]);
    }
    const txt = { name: 't', type: 'TXT' as const, value: `semi; #hash ${'x'.repeat(300)}`, ttl: 60 };
    assert.equal(
      (await dns.apply({ zone: ZONE, records: [rec('web', '192.0.2.1'), txt], views })).mode,
      'delta',
    );
    const r = new Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`127.0.0.1:${ub.port}`]);
    assert.equal((await r.resolveTxt(`t.${ZONE}`))[0]!.join(''), txt.value);
    await assert.rejects(a('n0'), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND');
    assert.equal(opened, 1, 'one session for every command');
  });

  test('only unbound-control and unbound-checkconf run; arguments with a tab or newline are refused', async () => {
    const r = await session.exec(['ls', '/']);
    assert.equal(r.exitCode, 126);
    assert.match(r.stderr, /not allowed/);
    await assert.rejects(
      session.exec(['unbound-control', '-c', ub.conf, 'local_data', 'a\tb']),
      ControlSessionError,
    );
    await assert.rejects(session.exec(['unbound-control', 'x\ny']), ControlSessionError);
    const st = await session.exec(['unbound-control', '-c', ub.conf, 'status']);
    assert.equal(st.exitCode, 0, st.stderr);
    assert.match(st.stdout, /is running/);
    const bad = await session.exec(['unbound-control', '-c', join(ub.dir, 'missing.conf'), 'status']);
    assert.notEqual(bad.exitCode, 0);
    assert.match(bad.stderr, /could not/i);
  });

  test('a session that dies fails its request and is replaced by the next one', async () => {
    const before = opened;
    kills.at(-1)!();
    await assert.rejects(session.exec(['unbound-control', '-c', ub.conf, 'status']), ControlSessionError);
    const st = await session.exec(['unbound-control', '-c', ub.conf, 'status']);
    assert.equal(st.exitCode, 0);
    assert.equal(opened, before + 1);
  });
});
