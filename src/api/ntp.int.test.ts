// GET /api/ntp/status against a real chronyd: the test runs an "upstream" chronyd serving its own
// clock (local stratum 8) on a free loopback port, and the cell's chronyd following it with -x (never
// touching the system clock), each with a temp config, pid file and command socket. No public pool.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from './test-kit.ts';

const freeUdpPort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// chronyd refuses a command socket in a directory others can enter: mkdtemp makes it 0700.
const dir = mkdtempSync(join(tmpdir(), 'pic-ntp-'));
const daemons: ChildProcess[] = [];

function chronyd(name: string, lines: string[]): ChildProcess {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    [
      ...lines,
      `bindcmdaddress ${join(dir, `${name}.sock`)}`,
      'cmdport 0',
      `pidfile ${join(dir, `${name}.pid`)}`,
      `driftfile ${join(dir, `${name}.drift`)}`,
      '',
    ].join('\n'),
  );
  // -d foreground, -x no clock control; as root, stay root (no _chrony user owning the temp dir).
  const args = ['-d', '-x', ...(process.getuid?.() === 0 ? ['-u', 'root'] : []), '-f', conf];
  const child = spawn('chronyd', args, { stdio: 'ignore' });
  daemons.push(child);
  return child;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('GET /api/ntp/status against a real chronyd', () => {
  let kit: Kit;
  let admin: Login;
  let cell: ChildProcess;
  before(async () => {
    const port = await freeUdpPort();
    chronyd('upstream', ['local stratum 8', 'allow 127.0.0.1', `port ${port}`, 'bindaddress 127.0.0.1']);
    cell = chronyd('cell', [`server 127.0.0.1 port ${port} iburst minpoll -2 maxpoll 0`, 'port 0']);
    kit = await makeKit({}, { chronycSocket: join(dir, 'cell.sock') });
    admin = await completeSetup(kit);
    await kit.cell.deps.auth.createUser('pat', 'peer', 'peer password 123');
  });
  after(async () => {
    for (const d of daemons) d.kill();
    await kit?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async (s: Login) => {
    const r = await kit.app.inject({ url: '/api/ntp/status', headers: authed(s) });
    assert.equal(r.statusCode, 200, r.body);
    return r.json();
  };

  test('synchronised to the upstream at stratum 9, the source selected and reached', async () => {
    const s = await waitFor('chronyd to select its source', async () => {
      const st = await status(admin);
      return st.synchronised && st.sources[0]?.reach > 0 ? st : undefined;
    });
    assert.equal(s.running, true);
    assert.equal(s.stratum, 9);
    assert.equal(s.reference, '127.0.0.1');
    assert.equal(typeof s.offset_seconds, 'number');
    assert.ok(Math.abs(s.offset_seconds) < 0.5, 'same machine, same clock');
    assert.equal(s.sources.length, 1);
    const [src] = s.sources;
    assert.equal(src.address, '127.0.0.1');
    assert.equal(src.mode, 'server');
    assert.equal(src.state, 'selected');
    assert.equal(src.stratum, 8);
    assert.equal(typeof src.last_rx_seconds, 'number');
    assert.equal(typeof src.poll, 'number');
  });

  test('a peer is refused, and so is an anonymous caller', async () => {
    const peer = await login(kit.app, 'pat', 'peer password 123');
    assert.equal((await kit.app.inject({ url: '/api/ntp/status', headers: authed(peer) })).statusCode, 403);
    assert.equal((await kit.app.inject({ url: '/api/ntp/status' })).statusCode, 401);
  });

  test('chronyd gone: 200 with running=false, not a 5xx', async () => {
    cell.kill();
    await new Promise((r) => cell.once('exit', r));
    const s = await status(admin);
    assert.deepEqual(s, {
      running: false,
      synchronised: false,
      offset_seconds: null,
      stratum: null,
      reference: null,
      sources: [],
    });
  });
});

describe('GET /api/ntp/status under pic serve without Docker', () => {
  let kit: Kit;
  before(async () => {
    kit = await makeKit();
  });
  after(() => kit.close());

  test('running=false, 200', async () => {
    const admin = await completeSetup(kit);
    const r = await kit.app.inject({ url: '/api/ntp/status', headers: authed(admin) });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().running, false);
    assert.deepEqual(r.json().sources, []);
  });
});
