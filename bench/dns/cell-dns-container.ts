// A cell-dns container (the pic/cell-dns image, as `pic up` builds it) for the change benchmark: its
// config/dns/ is a temp dir of the benchmark (the forward zone and the control interfaces as PIC
// renders them; the driver writes zone.conf there), on Docker's default bridge, reached at its own
// address from this host. The repository's pic-dns-control, unbound.conf and entrypoint are mounted
// over the image's, so the benchmark measures this checkout's helper and control channel (plain TCP on
// loopback, ADR 0017) even with an image built before them.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from '../../src/drivers/docker/engine.ts';
import { renderControlInterfaces } from '../../src/render/unbound/control-interfaces.ts';
import { renderForwardZone } from '../../src/render/unbound/forward-zone.ts';

const REPO_IMAGE = join(import.meta.dirname, '..', '..', 'images', 'cell-dns');
export const IMAGE = process.env.BENCH_DNS_IMAGE ?? 'pic/cell-dns';

export interface CellDnsContainer {
  name: string;
  address: string;
  confDir: string;
  engine: DockerEngine;
  stop(): void;
}

/** Why Docker cannot be used here, or undefined. */
export async function dockerProblem(): Promise<string | undefined> {
  const engine = new DockerEngine();
  if (!(await engine.reachable())) return 'the Docker engine is not reachable';
  if (!(await engine.imageId(IMAGE))) return `the image ${IMAGE} is not built (scripts/build-images.sh)`;
  return undefined;
}

export async function startCellDns(dir: string): Promise<CellDnsContainer> {
  const confDir = join(dir, 'dns-config');
  mkdirSync(confDir, { recursive: true });
  chmodSync(dir, 0o755);
  chmodSync(confDir, 0o755); // Unbound reads it as its own user
  writeFileSync(join(confDir, 'forward.conf'), renderForwardZone({ forwarders: [] }).output, { mode: 0o644 });
  writeFileSync(
    join(confDir, 'control-interfaces.conf'),
    renderControlInterfaces({ addresses: ['127.0.0.1'] }).output,
    { mode: 0o644 },
  );
  const name = `pic-bench-dns-${process.pid}`;
  const args = ['/tmp/pic-docker.lock', 'docker', 'run', '-d', '--name', name, '--label', 'pic.bench=dns'];
  args.push(
    '-v',
    `${confDir}:/etc/pic/unbound:ro`,
    '-v',
    `${join(REPO_IMAGE, 'pic-dns-control')}:/usr/local/bin/pic-dns-control:ro`,
    '-v',
    `${join(REPO_IMAGE, 'unbound.conf')}:/etc/unbound/unbound.conf:ro`,
    '-v',
    `${join(REPO_IMAGE, 'entrypoint.sh')}:/usr/local/bin/pic-dns-entrypoint:ro`,
    IMAGE,
  );
  const run = spawnSync('flock', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`docker run: ${run.stderr}`);
  const engine = new DockerEngine();
  const stop = () => void spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const st = await engine.exec(name, ['unbound-control', '-c', '/etc/unbound/unbound.conf', 'status']);
      if (st.exitCode === 0) break;
      if (Date.now() > deadline) throw new Error(`cell-dns did not start: ${st.stdout}${st.stderr}`);
      await new Promise((r) => setTimeout(r, 100)); // polling a condition (control answers)
    }
    const info = await engine.docker.getContainer(name).inspect();
    const address = info.NetworkSettings.Networks.bridge?.IPAddress;
    if (!address) throw new Error('the container has no address on the default bridge');
    return { name, address, confDir, engine, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
