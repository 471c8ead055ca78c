// Unbound's control channel in cell-dns is plain TCP without certificates (ADR 0017, amendment), which
// is safe only because it listens on the container's own loopback: this starts a cell-dns container
// (the pic/cell-dns image with this checkout's unbound.conf, entrypoint and pic-dns-control mounted
// over the image's, and the control interfaces PIC renders) on a network of its own standing for the
// cell network, and checks that the channel answers through `docker exec` of pic-dns-control, that
// Unbound's control socket is bound to 127.0.0.1 only, and that neither another container on that
// network nor this host reaches port 8953 at the container's address (while port 53 answers there).
// Skipped without the engine or the image (scripts/build-images.sh cell-dns); nothing is pulled.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderControlInterfaces } from '../../render/unbound/control-interfaces.ts';
import { renderForwardZone } from '../../render/unbound/forward-zone.ts';
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
const net = `pic-dnsctl-net-${id}`;
const name = `pic-dnsctl-dns-${id}`;

// No global lock: every object here has a name of its own, and a cell another job holds the lock
// for (minutes) must not time this test out.
function docker(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Whether a TCP connection from this host to address:port opens (false on refusal or timeout). */
function opens(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port, timeout: 2000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

describe('cell-dns control channel isolation', { skip }, () => {
  let dir: string;
  let address: string;
  let session: ControlSession;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pic-dnsctl-'));
    const conf = join(dir, 'dns-config');
    mkdirSync(conf);
    chmodSync(dir, 0o755);
    chmodSync(conf, 0o755); // Unbound reads it as its own user
    writeFileSync(join(conf, 'forward.conf'), renderForwardZone({ forwarders: [] }).output, { mode: 0o644 });
    writeFileSync(
      join(conf, 'control-interfaces.conf'),
      renderControlInterfaces({ addresses: ['127.0.0.1'] }).output,
      { mode: 0o644 },
    );
    const created = docker(['network', 'create', '--label', 'pic.test=dnsctl', net]);
    assert.equal(created.status, 0, created.stderr);
    const mount = (file: string, at: string) => ['-v', `${join(REPO_IMAGE, file)}:${at}:ro`];
    const run = docker([
      'run',
      '-d',
      '--name',
      name,
      '--label',
      'pic.test=dnsctl',
      '--network',
      net,
      '-v',
      `${conf}:/etc/pic/unbound:ro`,
      ...mount('unbound.conf', '/etc/unbound/unbound.conf'),
      ...mount('entrypoint.sh', '/usr/local/bin/pic-dns-entrypoint'),
      ...mount('pic-dns-control', CONTROL_HELPER),
      IMAGE,
    ]);
    assert.equal(run.status, 0, run.stderr);
    session = new ControlSession(() => openExecSession(engine, name, [CONTROL_HELPER]));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const st = await session
        .exec(['unbound-control', '-c', '/etc/unbound/unbound.conf', 'status'])
        .catch(() => undefined);
      if (st?.exitCode === 0) break;
      if (Date.now() > deadline)
        assert.fail(`cell-dns did not answer control: ${docker(['logs', '--tail', '20', name]).stderr}`);
      await new Promise((r) => setTimeout(r, 100)); // polling a condition (control answers)
    }
    const info = await engine.docker.getContainer(name).inspect();
    address = info.NetworkSettings.Networks[net]?.IPAddress ?? '';
    assert.match(address, /^\d+\.\d+\.\d+\.\d+$/);
  });

  after(() => {
    session?.close();
    docker(['rm', '-f', name]);
    docker(['network', 'rm', net]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the helper controls Unbound through docker exec', async () => {
    const r = await session.exec(['unbound-control', '-c', '/etc/unbound/unbound.conf', 'local_datas'], {
      stdin: 'iso.test. 60 IN A 192.0.2.5\n',
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'added 1 datas\n');
  });

  test('the control port listens on 127.0.0.1 only', () => {
    // /proc/net/tcp: local address as hex IP:port; state 0A is LISTEN. 8953 = 0x22F9.
    const tcp = docker(['exec', name, 'cat', '/proc/net/tcp', '/proc/net/tcp6']);
    const listeners = tcp.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1]?.endsWith(':22F9') && f[3] === '0A')
      .map((f) => f[1]!);
    assert.deepEqual(listeners, ['0100007F:22F9'], tcp.stdout);
  });

  test('another container on the network cannot reach it; DNS there can', () => {
    const probe = docker([
      'run',
      '--rm',
      '--label',
      'pic.test=dnsctl',
      '--network',
      net,
      '--entrypoint',
      'bash',
      IMAGE,
      '-c',
      `for p in 8953 53; do if timeout 3 bash -c "exec 3<>/dev/tcp/${address}/$p" 2>/dev/null; then echo "$p open"; else echo "$p closed"; fi; done`,
    ]);
    assert.equal(probe.status, 0, probe.stderr);
    assert.equal(probe.stdout, '8953 closed\n53 open\n');
  });

  test('this host cannot reach it at the container address; DNS there can', async () => {
    assert.equal(await opens(address, 8953), false);
    assert.equal(await opens(address, 53), true);
  });
});
