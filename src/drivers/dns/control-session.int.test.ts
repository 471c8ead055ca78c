// pic-dns-control (images/cell-dns/pic-dns-control) run as a local process, the way cell-api runs it
// inside cell-dns through one `docker exec -i`: the unbound-control driver applies the zone through
// the session against a real Unbound on loopback; the helper speaks the control protocol itself (no
// unbound-control process) with unbound-control's answers and exit codes; it runs only unbound-control
// and unbound-checkconf; a session that dies is replaced on the next request.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ControlSession, ControlSessionError, localSession, type OpenSession } from './control-session.ts';
import { CONTROL_LINE_MAX, localExec } from './unbound-control.ts';
import {
  controlOn,
  LOCAL_CONTROL_HELPER,
  localControlSession,
  NO_FORWARDERS,
  startUnbound,
  type TestUnbound,
} from './unbound-kit.ts';

const ZONE = 'mycell.cell';

describe('pic-dns-control session', () => {
  let ub: TestUnbound;
  let opened = 0;
  const kills: Array<() => void> = [];
  const open: OpenSession = async () => {
    opened++;
    const s = await localSession(LOCAL_CONTROL_HELPER)();
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
    ub = await startUnbound({ files: NO_FORWARDERS });
  });
  after(async () => {
    session.close();
    await ub?.stop();
  });

  test('the driver applies the zone through one session (full, then deltas)', async () => {
    const dns = controlOn(ub, session.exec);
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

describe('pic-dns-control speaks the control protocol itself', () => {
  let ub: TestUnbound;
  let bin: string;
  let session: ControlSession;
  const ctl = (...args: string[]) => ['unbound-control', '-c', ub.conf, ...args];

  before(async () => {
    ub = await startUnbound({ files: NO_FORWARDERS });
    // A PATH whose unbound-control fails loudly: every answer below comes from the helper itself.
    bin = mkdtempSync(join(tmpdir(), 'pic-dnsctl-bin-'));
    writeFileSync(join(bin, 'unbound-control'), '#!/bin/sh\necho "unbound-control ran" >&2\nexit 99\n');
    chmodSync(join(bin, 'unbound-control'), 0o755);
    symlinkSync('/usr/sbin/unbound-checkconf', join(bin, 'unbound-checkconf'));
    session = localControlSession({ ...process.env, PATH: `${bin}:/usr/bin:/bin` });
  });
  after(async () => {
    session.close();
    await ub?.stop();
    rmSync(bin, { recursive: true, force: true });
  });

  test('answers and exit codes are those of unbound-control', async () => {
    const same = async (args: string[], stdin?: string) => {
      const o = stdin === undefined ? {} : { stdin };
      const mine = await session.exec(ctl(...args), o);
      const theirs = await localExec(ctl(...args), o);
      assert.doesNotMatch(mine.stderr, /unbound-control ran/, args.join(' '));
      assert.deepEqual(
        { exitCode: mine.exitCode, stdout: mine.stdout },
        { exitCode: theirs.exitCode, stdout: theirs.stdout },
        args.join(' '),
      );
      return mine;
    };
    assert.match(
      (await same(['local_datas'], 'a.x.cell. A 192.0.2.1\nb.x.cell. A 192.0.2.2\n')).stdout,
      /added 2/,
    );
    assert.equal((await same(['local_data', 'bad'])).exitCode, 1); // "error parsing local-data"
    assert.equal((await same(['local_datas'], 'c.x.cell. A 1.2.3\n')).exitCode, 1);
    await same(['local_datas_remove'], 'a.x.cell.\n');
    await same(['view_local_zone', 'no-such-view', 'x.cell.', 'always_nxdomain']);
    await same(['list_local_data']);
    await same(['local_datas']); // no lines: "added 0 datas"
  });

  test('many lines and lines just under the control line limit go through', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `m${i}.x.cell. 60 IN A 192.0.2.${i % 250}`);
    const r = await session.exec(ctl('local_datas'), { stdin: `${many.join('\n')}\n` });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'added 3000 datas\n');
    // A TXT line of CONTROL_LINE_MAX - 1 bytes, then one more record: both are taken.
    const head = 'long.x.cell. 60 IN TXT ';
    const chunk = (n: number) => `"${'a'.repeat(n)}"`;
    let txt = head;
    while (Buffer.byteLength(txt) + 258 < CONTROL_LINE_MAX - 1) txt += `${chunk(255)} `;
    txt += chunk(CONTROL_LINE_MAX - 1 - Buffer.byteLength(txt) - 2);
    assert.equal(Buffer.byteLength(txt), CONTROL_LINE_MAX - 1);
    const l = await session.exec(ctl('local_datas'), { stdin: `${txt}\nafter.x.cell. 60 IN A 192.0.2.7\n` });
    assert.equal(l.stdout, 'added 2 datas\n', l.stdout);
    const r4 = new Resolver({ timeout: 2000, tries: 1 });
    r4.setServers([`127.0.0.1:${ub.port}`]);
    assert.deepEqual(await r4.resolve4('m2999.x.cell'), ['192.0.2.249']);
    assert.deepEqual(await r4.resolve4('after.x.cell'), ['192.0.2.7']);
  });

  test('a stopped Unbound: status says so with exit 3, other commands fail', async () => {
    assert.equal((await session.exec(ctl('status'))).exitCode, 0);
    const conf = ub.conf; // the helper read its channel from it once, before the stop
    await ub.stop();
    const st = await session.exec(['unbound-control', '-c', conf, 'status']);
    assert.equal(st.exitCode, 3);
    assert.match(st.stdout, /unbound is stopped/);
    const add = await session.exec(['unbound-control', '-c', conf, 'local_datas'], {
      stdin: 'z.x.cell. A 192.0.2.1\n',
    });
    assert.equal(add.exitCode, 1);
    assert.match(add.stderr, /connect/);
  });
});
