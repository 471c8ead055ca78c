// Test kit for the built-in store images (images/store/<id>): builds a service's image with
// buildImage, runs its container on the real engine with the manifest's own settings (user,
// read-only root, all capabilities dropped but the manifest's, memory limit, its volume as a temp
// host folder) on a bridge network of its own, and reaches it from the host on its bridge address.
// Everything it creates is named pic-storetest-*; stop() removes the container, network and folder
// and keeps the image: it is the build cache, and test files running at the same time share its tag.
// For a service run beside others (email and webmail, and bench/mail): runStore, the same settings on
// a network the caller makes, every volume a host folder, the tls files and accounts as the store
// writes and adds them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import { loadBuiltinCatalog } from '../catalog/builtin-catalog.ts';
import { type BuiltImage, buildImage } from './build-image.ts';
import { DockerEngine } from './engine.ts';
import { engineSkipReason } from './engine-skip-kit.ts';

export const engine = new DockerEngine();

export const skipReason = () => engineSkipReason(engine);

export type Container = ServiceManifest['containers'][number];
/** argv in a container as the container's user (as the store runs hooks); stdin written then closed. */
export type Exec = (
  argv: string[],
  stdin?: string,
) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

export interface RunningService {
  manifest: ServiceManifest;
  image: BuiltImage;
  /** The build context the image was built from. */
  context: string;
  container: string;
  ip: string;
  hostDir: string;
  exec: Exec;
  /** Runs the manifest's account hook. */
  hook(name: 'add' | 'remove' | 'list', username?: string, password?: string): Promise<string>;
  /** Memory in use as `docker stats` shows it (usage less the inactive page cache), in MiB. */
  memoryMiB(): Promise<number>;
  /** [uid, command] of every process, as `docker top` shows them. */
  processes(): Promise<Array<[string, string]>>;
  stop(): Promise<void>;
}

/** A built-in service: its manifest, its (only) container, the absolute folder its image builds from. */
export interface Builtin {
  manifest: ServiceManifest;
  c: Container;
  context: string;
}

export async function builtin(id: string): Promise<Builtin> {
  const e = (await loadBuiltinCatalog()).find((x) => x.manifest.id === id);
  assert.ok(e, `no built-in service ${id}`);
  const c = e.manifest.containers[0]!;
  assert.ok('build' in c.image, `${id}: not a built image`);
  return { manifest: e.manifest, c, context: join(e.dir, c.image.build) };
}

/**
 * Docker's options for a store container with the manifest's own settings: its user, command, health
 * check, read-only root, every capability dropped but the manifest's, no-new-privileges, its memory
 * limit; each volume that has a folder in `dirs` bound from it; `env` (as the store injects it) over
 * the manifest's environment.
 */
function createOptions(
  name: string,
  network: string,
  image: string,
  c: Container,
  dirs: Record<string, string>,
  env: Record<string, string> = {},
) {
  return {
    name,
    Image: image,
    ...(c.user ? { User: c.user } : {}),
    ...(c.command ? { Cmd: c.command } : {}),
    ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
    Env: Object.entries({ ...c.environment, ...env }).map(([k, v]) => `${k}=${v}`),
    ...(c.healthcheck
      ? {
          Healthcheck: {
            Test: ['CMD', ...c.healthcheck.test],
            Interval: c.healthcheck.interval_s * 1e9,
            Timeout: c.healthcheck.timeout_s * 1e9,
            Retries: c.healthcheck.retries,
          },
        }
      : {}),
    HostConfig: {
      NetworkMode: network,
      Binds: (c.volumes ?? []).filter((v) => dirs[v.name]).map((v) => `${dirs[v.name]}:${v.path}`),
      ReadonlyRootfs: c.read_only === true,
      CapDrop: ['ALL'],
      CapAdd: c.capabilities ?? [],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      ...(c.memory_limit_mb ? { Memory: c.memory_limit_mb * 1024 * 1024 } : {}),
    },
  };
}

const execIn =
  (container: string): Exec =>
  (argv, stdin) =>
    engine.exec(container, argv, stdin === undefined ? {} : { stdin });

/** Polls the manifest's health check in the container until it passes (Docker's own first check would wait for the interval). */
export async function untilHealthy(container: string, c: Container, withinMs = 60_000): Promise<void> {
  const exec = execIn(container);
  const deadline = Date.now() + withinMs;
  for (;;) {
    const state = (await engine.docker.getContainer(container).inspect()).State;
    assert.ok(state.Running, `${container} stopped: ${await engine.logs(container, 40)}`);
    if ((await exec(c.healthcheck?.test ?? ['true'])).exitCode === 0) return;
    assert.ok(
      Date.now() < deadline,
      `${container} never became healthy: ${await engine.logs(container, 40)}`,
    );
    await new Promise((r) => setTimeout(r, 100)); // polling a condition (the health check), not a sleep
  }
}

/** The manifest's account hook `name` in the container, the password one line on stdin; its stdout. */
export async function accountHook(
  exec: Exec,
  manifest: ServiceManifest,
  name: 'add' | 'remove' | 'list',
  username?: string,
  password?: string,
): Promise<string> {
  const accounts = manifest.accounts;
  assert.ok(accounts, `${manifest.id} has no account hooks`);
  const argv = accounts[name].map((a) => (a === '{username}' ? (username ?? '') : a));
  const r = await exec(argv, name === 'add' ? `${password}\n` : undefined);
  assert.equal(r.exitCode, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Builds (or reuses) the image of one built-in service's only container and runs it until healthy. */
export async function startService(id: string): Promise<RunningService> {
  const { manifest, c, context } = await builtin(id);
  const tag = `pic-storetest-${id}-${c.name}:latest`;
  const image = await buildImage(engine.docker, { context, tag });

  const suffix = randomBytes(3).toString('hex');
  const container = `pic-storetest-${id}-${suffix}`;
  const network = `pic-storetest-net-${id}-${suffix}`;
  const hostDir = mkdtempSync(join(tmpdir(), `pic-storetest-${id}-`));
  // The store gives the volume to the user the container runs as (manifest `user`, numeric here).
  const [uid, gid] = (c.user ?? '0:0').split(':').map(Number);
  chownSync(hostDir, uid ?? 0, gid ?? uid ?? 0);

  const stop = () => removeAll([container], network, [hostDir]);
  try {
    await engine.docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true });
    const vol = c.volumes?.[0];
    const dirs = vol ? { [vol.name]: hostDir } : {};
    await engine.docker.createContainer(createOptions(container, network, tag, c, dirs));
    await engine.docker.getContainer(container).start();
    const info = await engine.docker.getContainer(container).inspect();
    const ip = info.NetworkSettings.Networks[network]?.IPAddress;
    assert.ok(ip, 'the container has no address on its network');

    const exec = execIn(container);
    await untilHealthy(container, c, 20_000);
    assert.ok(manifest.accounts, `${id} has no account hooks`);
    return {
      manifest,
      image,
      context,
      container,
      ip,
      hostDir,
      exec,
      hook: (name, username, password) => accountHook(exec, manifest, name, username, password),
      async memoryMiB() {
        const s = (await engine.docker.getContainer(container).stats({ stream: false })) as {
          memory_stats: { usage: number; stats?: Record<string, number> };
        };
        const m = s.memory_stats;
        const cache = m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0;
        return (m.usage - cache) / 1024 / 1024;
      },
      async processes() {
        const top = await engine.docker.getContainer(container).top({ ps_args: '-eo pid,uid,args' });
        return (top.Processes as string[][]).map((p) => [p[1]!, p[2]!] as [string, string]);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Removes the containers (their anonymous volumes too), the network and the folders; what is gone is skipped. */
export async function removeAll(containers: string[], network: string, folders: string[]): Promise<void> {
  for (const name of containers)
    await engine.docker
      .getContainer(name)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  await engine.docker
    .getNetwork(network)
    .remove()
    .catch(() => undefined);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
}

/** A folder per volume in `base`, owned by the container's numeric user, 0700 (as the store prepares them). */
export function volumeDirs(c: Container, base: string): Record<string, string> {
  const [uid, gid] = (c.user ?? '0:0').split(':').map(Number);
  const dirs: Record<string, string> = {};
  for (const v of c.volumes ?? []) {
    const dir = join(base, v.name);
    mkdirSync(dir);
    chownSync(dir, uid ?? 0, gid ?? uid ?? 0);
    chmodSync(dir, 0o700);
    dirs[v.name] = dir;
  }
  return dirs;
}

/** What the store writes into a service's tls volume: the certificate chain, its key, the cell's CA. */
export interface TlsFiles {
  fullchain?: string;
  privkey?: string;
  ca?: string;
}

/** Writes the files given into a tls volume's folder as the store does: the key 0600, the rest 0644. */
export function writeTls(dir: string, files: TlsFiles): void {
  for (const [name, mode] of [
    ['fullchain', 0o644],
    ['privkey', 0o600],
    ['ca', 0o644],
  ] as const) {
    const text = files[name];
    if (text === undefined) continue;
    const path = join(dir, `${name}.pem`);
    writeFileSync(path, text, { mode });
    chmodSync(path, mode);
  }
}

export interface StoreRun {
  service: Builtin;
  /** The container's name: the caller records it before the call and removes the container. */
  name: string;
  image: string;
  /** A network the caller made and removes. */
  network: string;
  /** A folder the caller made and removes: every volume is a folder in it (volumeDirs). */
  base: string;
  /** The store's environment for the container (PIC_CELL_DOMAIN, PIC_SVC_*), over the manifest's. */
  env?: Record<string, string>;
  /** Written into the manifest's tls volume before the first start, as the store does. */
  tls?: TlsFiles;
  /** Added through the manifest's account hook once healthy: username → password. */
  accounts?: Record<string, string>;
  /** How long the health check may take to pass. */
  healthyWithinMs?: number;
}

export interface StoreContainer {
  name: string;
  /** The host folder of each volume. */
  dirs: Record<string, string>;
  exec: Exec;
}

/**
 * Creates and starts one store container with the manifest's own settings (createOptions) on
 * `run.network`, each volume a folder in `run.base` and the tls files in its tls volume first. Returns
 * at once: a container refusing its settings exits.
 */
export async function createStore(run: Omit<StoreRun, 'accounts'>): Promise<StoreContainer> {
  const { manifest, c } = run.service;
  const dirs = volumeDirs(c, run.base);
  if (run.tls) {
    const volume = manifest.tls?.volume;
    assert.ok(volume && dirs[volume], `${manifest.id} declares no tls volume`);
    writeTls(dirs[volume], run.tls);
  }
  await engine.docker.createContainer(createOptions(run.name, run.network, run.image, c, dirs, run.env));
  await engine.docker.getContainer(run.name).start();
  return { name: run.name, dirs, exec: execIn(run.name) };
}

/** createStore, then until the health check passes; its address on the network; the accounts added. */
export async function runStore(run: StoreRun): Promise<StoreContainer & { ip: string }> {
  const made = await createStore(run);
  await untilHealthy(run.name, run.service.c, run.healthyWithinMs);
  const info = await engine.docker.getContainer(run.name).inspect();
  const ip = info.NetworkSettings.Networks[run.network]?.IPAddress;
  assert.ok(ip, `${run.name} has no address on ${run.network}`);
  for (const [user, password] of Object.entries(run.accounts ?? {}))
    await accountHook(made.exec, run.service.manifest, 'add', user, password);
  return { ...made, ip };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP request with the path sent exactly as given (no URL normalisation: `..`, `%2e%2e` and
 * absolute URIs reach the server as written), basic auth when `auth` is `user:password`.
 */
export function request(
  ip: string,
  port: number,
  method: string,
  path: string,
  opts: { auth?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<Reply> {
  const timeout = opts.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ip, port, method, path, headers, agent: false, timeout }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeout / 1000} s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
