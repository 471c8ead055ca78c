// The blocked-query counts in a real cell-dns container (ADR 0020, amendment): the pic/cell-dns image
// with this checkout's unbound.conf, entrypoint, pic-dns-control and pic-dns-blocked mounted over the
// image's, on a network of its own standing for the cell network, the files PIC renders (zone.conf
// with a view for a peer with blocking on and one exempted, the policy zones). A client container at
// the peer's address asks a blocked name: the drain through the control session (what cell-api runs)
// counts it for that address; an allowed name, the exempted client and a client without a view do not
// count. No blocked name and no client address reaches the container's log; the tap runs as the
// unbound user, its socket 0600. The forward zone is empty: nothing leaves the machine.
// Skipped without the engine or the image (scripts/build-images.sh cell-dns); nothing is pulled.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderCellZone } from '../../render/unbound/cell-zone.ts';
import { renderControlInterfaces } from '../../render/unbound/control-interfaces.ts';
import { renderForwardZone } from '../../render/unbound/forward-zone.ts';
import { renderBlocklistZone, renderExemptZone } from '../../render/unbound/policy-zones.ts';
import { type BlockedCount, parseBlockedDrain } from '../../schema/blocklists.ts';
import { DockerEngine, openExecSession } from '../docker/engine.ts';
import { CONTROL_HELPER, ControlSession } from './control-session.ts';

const IMAGE = process.env.PIC_TEST_DNS_IMAGE ?? 'pic/cell-dns';
const REPO_IMAGE = join(import.meta.dirname, '..', '..', '..', 'images', 'cell-dns');
const engine = new DockerEngine();

async function skipReason(): Promise<string | false> {
  if (!(await engine.reachable()))
    return 'the Docker engine is not reachable (scripts/ensure-docker.sh starts it)';
  if (!(await engine.imageId(IMAGE))) return `${IMAGE} is not built (scripts/build-images.sh cell-dns)`;
  return false;
}
const skip = await skipReason();

const id = randomBytes(4).toString('hex');
const net = `pic-dnsblk-net-${id}`;
const name = `pic-dnsblk-dns-${id}`;
const LABEL = 'pic.test=dnsblk';

// No global lock: every object here has a name of its own.
function docker(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('blocked queries counted per client in a cell-dns container', { skip }, () => {
  let dir: string;
  let prefix = '';
  let session: ControlSession;
  const dnsAddress = () => `${prefix}.53`;

  /** The rcode a client container at `${prefix}.<host>` gets for name (drill, from the same image). */
  const ask = (host: number, qname: string): string => {
    const r = docker([
      'run',
      '--rm',
      '--label',
      LABEL,
      '--network',
      net,
      '--ip',
      `${prefix}.${host}`,
      '--entrypoint',
      'drill',
      IMAGE,
      `@${dnsAddress()}`,
      qname,
      'A',
    ]);
    assert.equal(r.status, 0, r.stderr);
    return /rcode: (\w+)/.exec(r.stdout)?.[1] ?? r.stdout;
  };

  const drain = async (): Promise<BlockedCount[]> => {
    const r = await session.exec(['pic-dns-blocked', 'drain']);
    assert.equal(r.exitCode, 0, r.stderr);
    const d = parseBlockedDrain(r.stdout);
    assert.ok(d, r.stdout);
    return d.counts;
  };

  before(async () => {
    // A private /24 of its own (another job may hold one: try a few).
    for (let i = 0; i < 8 && !prefix; i++) {
      const p = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]!}`;
      const created = docker(['network', 'create', '--label', LABEL, '--subnet', `${p}.0/24`, net]);
      if (created.status === 0) prefix = p;
    }
    assert.ok(prefix, 'no free subnet for the test network');
    dir = mkdtempSync(join(tmpdir(), 'pic-dnsblk-'));
    const conf = join(dir, 'dns-config');
    mkdirSync(conf);
    chmodSync(dir, 0o755);
    chmodSync(conf, 0o755); // Unbound reads it as its own user
    const files: Record<string, string> = {
      'forward.conf': renderForwardZone({ forwarders: [] }).output,
      'control-interfaces.conf': renderControlInterfaces({ addresses: ['127.0.0.1'] }).output,
      'zone.conf': renderCellZone({
        zone: 'blk.cell',
        records: [{ name: 'web', type: 'A', value: '172.20.0.2', ttl: 300 }],
        views: [
          { address: `${prefix}.7`, deny: [], block: true },
          { address: `${prefix}.8`, deny: [], block: false },
        ],
        policy: {
          exemptFile: '/etc/pic/unbound/exempt.rpz',
          blocklistFile: '/etc/pic/unbound/blocklist.rpz',
        },
      }).output,
      'exempt.rpz': renderExemptZone([`${prefix}.8`]),
      'blocklist.rpz': renderBlocklistZone(['ads.example', 'tracker.example']),
    };
    for (const [f, text] of Object.entries(files)) writeFileSync(join(conf, f), text, { mode: 0o644 });
    const mount = (file: string, at: string) => ['-v', `${join(REPO_IMAGE, file)}:${at}:ro`];
    const run = docker([
      'run',
      '-d',
      '--name',
      name,
      '--label',
      LABEL,
      '--network',
      net,
      '--ip',
      dnsAddress(),
      '-v',
      `${conf}:/etc/pic/unbound:ro`,
      ...mount('unbound.conf', '/etc/unbound/unbound.conf'),
      ...mount('entrypoint.sh', '/usr/local/bin/pic-dns-entrypoint'),
      ...mount('pic-dns-control', CONTROL_HELPER),
      ...mount('pic-dns-blocked', '/usr/local/bin/pic-dns-blocked'),
      IMAGE,
    ]);
    assert.equal(run.status, 0, run.stderr);
    session = new ControlSession(() => openExecSession(engine, name, [CONTROL_HELPER]));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const st = await session
        .exec(['unbound-control', '-c', '/etc/unbound/unbound.conf', 'status'])
        .catch(() => undefined);
      // The tap starts beside Unbound (a process substitution), so it may make its socket later.
      const tap =
        st?.exitCode === 0
          ? await session.exec(['pic-dns-blocked', 'drain']).catch(() => undefined)
          : undefined;
      if (tap?.exitCode === 0) break;
      if (Date.now() > deadline)
        assert.fail(
          `cell-dns did not answer control or its tap: ${docker(['logs', '--tail', '20', name]).stderr}`,
        );
      await new Promise((r) => setTimeout(r, 100)); // polling a condition (control and the tap answer)
    }
  });

  after(() => {
    session?.close();
    docker(['rm', '-f', name]);
    docker(['network', 'rm', net]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the asking address counts a blocked name; nothing else counts', async () => {
    assert.deepEqual(await drain(), []);
    assert.equal(ask(7, 'ads.example'), 'NXDOMAIN');
    assert.equal(ask(7, 'ads.example'), 'NXDOMAIN');
    assert.equal(ask(7, 'web.blk.cell'), 'NOERROR', 'an allowed name');
    assert.equal(ask(8, 'ads.example'), 'SERVFAIL', 'the exempted client: not blocked, and no upstream');
    assert.equal(ask(9, 'tracker.example'), 'SERVFAIL', 'a client without a view: never filtered');
    assert.deepEqual(await drain(), [{ client: `${prefix}.7`, name: 'ads.example', count: 2 }]);
    assert.deepEqual(await drain(), [], 'the drain forgot them');
  });

  test("no blocked name or client in the container log; Unbound's own lines still there", () => {
    const logs = docker(['logs', name]);
    const all = `${logs.stdout}${logs.stderr}`;
    assert.match(all, /start of service/);
    assert.doesNotMatch(all, /ads\.example|tracker\.example|rpz: applied/);
  });

  test('the tap runs as the unbound user; its socket is 0600', () => {
    const st = docker(['exec', name, 'stat', '-c', '%U %a %F', '/run/unbound/blocked.sock']);
    assert.equal(st.status, 0, st.stderr);
    assert.equal(st.stdout.trim(), 'unbound 600 socket');
    // comm is the script's name (15 characters, the kernel's limit): the tap itself, not this probe.
    const users = docker([
      'exec',
      name,
      'bash',
      '-c',
      'for p in /proc/[0-9]*; do if [[ $(cat "$p/comm" 2>/dev/null) == pic-dns-blocked ]]; then stat -c %U "$p"; fi; done',
    ]);
    assert.equal(users.stdout, 'unbound\n', users.stderr);
  });

  test('the control session runs only `pic-dns-blocked drain`', async () => {
    const r = await session.exec(['pic-dns-blocked', 'tap', '/tmp/x.sock']);
    assert.equal(r.exitCode, 126);
    assert.match(r.stderr, /only "pic-dns-blocked drain"/);
  });

  test('if the tap dies, Unbound still answers (blocked names too); the drain then fails', async () => {
    const kill = docker([
      'exec',
      name,
      'bash',
      '-c',
      'for p in /proc/[0-9]*; do if [[ $(cat "$p/comm" 2>/dev/null) == pic-dns-blocked ]]; then kill "$(basename "$p")"; fi; done',
    ]);
    assert.equal(kill.status, 0, kill.stderr);
    assert.equal(ask(7, 'ads.example'), 'NXDOMAIN');
    assert.equal(ask(7, 'web.blk.cell'), 'NOERROR');
    const r = await session.exec(['pic-dns-blocked', 'drain']);
    assert.equal(r.exitCode, 1);
    assert.equal(docker(['inspect', '-f', '{{.State.Running}}', name]).stdout.trim(), 'true');
  });
});
