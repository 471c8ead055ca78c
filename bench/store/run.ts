// The store's install, click → healthy, with its images already built, beside a bare `docker run`
// of the same image with the same user, volume and limits until its own health check passes
// (issue 12, part 9: goal ≤ 3×); and each service's idle memory (goals: calendar ≤ 40 MB, files ≤
// 20 MB). The install goes through the API (inject) of a temp cell on the real engine, as the
// Service Store page calls it: plan, verify the recorded image, network, volume, containers, start,
// health, wire. Run: npm run bench:store (a few minutes; builds the two images the first time).
// Needs dockerd and the local debian:bookworm-slim (scripts/ensure-docker.sh, scripts/base-images.sh).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { authed, completeSetup, makeKit } from '../../src/api/test-kit.ts';
import { loadBuiltinCatalog } from '../../src/drivers/catalog/builtin-catalog.ts';
import { DockerEngine } from '../../src/drivers/docker/engine.ts';
import { dockerServiceEngine } from '../../src/drivers/docker/service-engine.ts';
import { cellIdFor } from '../../src/render/runtime/desired-state.ts';
import { storeContainerName } from '../../src/render/store/service-containers.ts';
import { LABELS } from '../../src/schema/runtime.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SERVICES = ['calendar', 'files'] as const;
const GOAL_MB: Record<string, number> = { calendar: 40, files: 20 };

const engine = new DockerEngine();
if (!(await engine.reachable())) throw new Error('dockerd is not reachable: scripts/ensure-docker.sh');
const docker = (args: string[]) => {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

const prefix = `pic-bs${randomBytes(3).toString('hex')}-`;
const cellDir = mkdtempSync(join(tmpdir(), 'pic-bench-store-'));
const kit = await makeKit(
  {},
  {
    store: {
      engine: dockerServiceEngine(engine),
      cellDir,
      env: { PIC_NAME_PREFIX: prefix },
      healthTimeoutMs: 120_000,
    },
  },
  cellDir,
);
const admin = await completeSetup(kit);
const call = (method: 'GET' | 'POST', url: string) => kit.app.inject({ method, url, headers: authed(admin) });

async function settle(id: string): Promise<void> {
  for (;;) {
    const item = (await call('GET', `/api/services/catalog/${id}`)).json();
    if (item.job?.phase === 'done') return;
    if (item.job?.phase === 'failed') throw new Error(`${id}: ${item.job.error}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** POST install → the job done (containers healthy, wired), in ms. */
async function install(id: string): Promise<number> {
  const t0 = performance.now();
  const res = await call('POST', `/api/services/catalog/${id}/install`);
  if (res.statusCode !== 202) throw new Error(`${id}: ${res.statusCode} ${res.body}`);
  await settle(id);
  return performance.now() - t0;
}

async function uninstall(id: string): Promise<void> {
  await call('POST', `/api/services/catalog/${id}/uninstall`);
  await settle(id);
}

/** `docker run -d` of the service's image, as the store runs it, until its health check passes. */
async function bareRun(id: string): Promise<number> {
  const info = JSON.parse(docker(['inspect', await containerOf(id)]))[0];
  const image: string = info.Image;
  const user: string = info.Config.User;
  const health: string[] = info.Config.Healthcheck.Test.slice(1);
  const mounts: { Destination: string }[] = info.Mounts;
  const vol = mkdtempSync(join(tmpdir(), 'pic-bench-bare-'));
  const [uid, gid] = (user || '0:0').split(':').map(Number) as [number, number];
  const name = `${prefix}bare-${id}`;
  const binds = mounts.flatMap((m, i) => {
    const dir = join(vol, String(i));
    mkdirSync(dir);
    chownSync(dir, uid, Number.isNaN(gid) ? uid : gid);
    return ['-v', `${dir}:${m.Destination}`];
  });
  const t0 = performance.now();
  docker([
    'run',
    '-d',
    '--name',
    name,
    '--cap-drop',
    'ALL',
    ...(info.HostConfig.CapAdd ?? []).flatMap((c: string) => ['--cap-add', c]),
    ...(user ? ['--user', user] : []),
    ...(info.HostConfig.ReadonlyRootfs ? ['--read-only'] : []),
    ...binds,
    image,
  ]);
  while (spawnSync('docker', ['exec', name, ...health]).status !== 0) spawnSync('sleep', ['0.02']);
  const ms = performance.now() - t0;
  docker(['rm', '-f', name]);
  rmSync(vol, { recursive: true, force: true });
  return ms;
}

function memMiB(container: string): number {
  const s = docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', container]);
  const m = /([\d.]+)\s*([KMG]i?B)/.exec(s);
  const unit = { KiB: 1 / 1024, KB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024 }[m?.[2] ?? 'MiB'] ?? 1;
  return Number(m?.[1] ?? 0) * unit;
}

/** The engine's name of a service's (first) container, as the store names it. */
async function containerOf(id: string): Promise<string> {
  const entry = (await loadBuiltinCatalog()).find((e) => e.manifest.id === id);
  if (!entry) throw new Error(`no built-in service ${id}`);
  return storeContainerName(prefix, id, entry.manifest.containers[0]!.name);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  console.log(`load average ${loadavg()[0]!.toFixed(1)}; ${ROUNDS} rounds; images built first (not timed)`);
  for (const id of SERVICES) {
    await install(id); // builds the image if its inputs changed
    await uninstall(id);
  }
  const rows: string[] = [];
  for (const id of SERVICES) {
    const ratios: number[] = [];
    const ours: number[] = [];
    const bare: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const i = await install(id);
      const b = await bareRun(id);
      await uninstall(id);
      ours.push(i);
      bare.push(b);
      ratios.push(i / b);
    }
    rows.push(
      `| ${id} | ${median(ours).toFixed(0)} | ${median(bare).toFixed(0)} | **${median(ratios).toFixed(2)}** (${ratios.map((x) => x.toFixed(2)).join(', ')}) |`,
    );
  }
  console.log(
    '\n| service | install → healthy ms | bare docker run → healthy ms | PIC ÷ bare (rounds; goal ≤ 3) |',
  );
  console.log('|---|---:|---:|---|');
  for (const r of rows) console.log(r);

  for (const id of SERVICES) await install(id);
  await new Promise((r) => setTimeout(r, 15_000)); // settle to idle
  console.log('\n| service | idle memory MiB | goal MB |');
  console.log('|---|---:|---:|');
  for (const id of SERVICES) {
    const c = await containerOf(id);
    console.log(`| ${id} | ${memMiB(c).toFixed(1)} | ${GOAL_MB[id]} |`);
  }
  console.log(`load average at the end ${loadavg()[0]!.toFixed(1)}`);
} finally {
  const filters = { label: [`${LABELS.cell}=${cellIdFor(cellDir)}`] };
  for (const c of await engine.docker.listContainers({ all: true, filters }))
    await engine.docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  for (const n of await engine.docker.listNetworks({ filters }))
    await engine.docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined);
  await kit.close();
  rmSync(cellDir, { recursive: true, force: true });
}
