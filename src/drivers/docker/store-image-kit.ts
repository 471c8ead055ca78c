// Test kit for the built-in store images (images/store/<id>): builds a service's image with
// buildImage, runs its container on the real engine with the manifest's own settings (user,
// read-only root, all capabilities dropped but the manifest's, memory limit, its volume as a temp
// host folder) on a bridge network of its own, and reaches it from the host on its bridge address.
// Everything it creates is named pic-storetest-*; stop() removes the container, network and folder
// and keeps the image: it is the build cache, and test files running at the same time share its tag.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceManifest } from '../../schema/service-manifest.ts';
import { type CatalogEntry, loadBuiltinCatalog } from '../catalog/builtin-catalog.ts';
import { type BuiltImage, buildImage } from './build-image.ts';
import { DockerEngine } from './engine.ts';
import { BASE_IMAGE } from './service-engine.ts';

export const engine = new DockerEngine();

export async function skipReason(): Promise<string | false> {
  if (!(await engine.reachable()))
    return 'the Docker engine is not reachable (scripts/ensure-docker.sh starts it)';
  if (!(await engine.imageId(BASE_IMAGE)))
    return `${BASE_IMAGE} is not a local image (scripts/base-images.sh creates it)`;
  return false;
}

type Container = ServiceManifest['containers'][number];

export interface RunningService {
  manifest: ServiceManifest;
  image: BuiltImage;
  /** The build context the image was built from. */
  context: string;
  container: string;
  ip: string;
  hostDir: string;
  /** argv in the container as the container's user (as the store runs hooks); stdin written then closed. */
  exec(argv: string[], stdin?: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Runs the manifest's account hook. */
  hook(name: 'add' | 'remove' | 'list', username?: string, password?: string): Promise<string>;
  /** Memory in use as `docker stats` shows it (usage less the inactive page cache), in MiB. */
  memoryMiB(): Promise<number>;
  /** [uid, command] of every process, as `docker top` shows them. */
  processes(): Promise<Array<[string, string]>>;
  stop(): Promise<void>;
}

async function entry(id: string): Promise<CatalogEntry> {
  const e = (await loadBuiltinCatalog()).find((c) => c.manifest.id === id);
  assert.ok(e, `no built-in service ${id}`);
  return e;
}

function createOptions(name: string, network: string, image: string, c: Container, hostDir: string) {
  const vol = c.volumes?.[0];
  return {
    name,
    Image: image,
    ...(c.user ? { User: c.user } : {}),
    ...(c.command ? { Cmd: c.command } : {}),
    ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
    Env: Object.entries(c.environment ?? {}).map(([k, v]) => `${k}=${v}`),
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
      Binds: vol ? [`${hostDir}:${vol.path}`] : [],
      ReadonlyRootfs: c.read_only === true,
      CapDrop: ['ALL'],
      CapAdd: c.capabilities ?? [],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      ...(c.memory_limit_mb ? { Memory: c.memory_limit_mb * 1024 * 1024 } : {}),
    },
  };
}

/** Builds (or reuses) the image of one built-in service's only container and runs it until healthy. */
export async function startService(id: string): Promise<RunningService> {
  const { manifest, dir } = await entry(id);
  const c = manifest.containers[0]!;
  assert.ok('build' in c.image);
  const tag = `pic-storetest-${id}-${c.name}:latest`;
  const context = join(dir, c.image.build);
  const image = await buildImage(engine.docker, { context, tag });

  const suffix = randomBytes(3).toString('hex');
  const container = `pic-storetest-${id}-${suffix}`;
  const network = `pic-storetest-net-${id}-${suffix}`;
  const hostDir = mkdtempSync(join(tmpdir(), `pic-storetest-${id}-`));
  // The store gives the volume to the user the container runs as (manifest `user`, numeric here).
  const [uid, gid] = (c.user ?? '0:0').split(':').map(Number);
  chownSync(hostDir, uid ?? 0, gid ?? uid ?? 0);

  const stop = async () => {
    await engine.docker
      .getContainer(container)
      .remove({ force: true, v: true })
      .catch(() => undefined);
    await engine.docker
      .getNetwork(network)
      .remove()
      .catch(() => undefined);
    rmSync(hostDir, { recursive: true, force: true });
  };
  try {
    await engine.docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true });
    await engine.docker.createContainer(createOptions(container, network, tag, c, hostDir));
    await engine.docker.getContainer(container).start();
    const info = await engine.docker.getContainer(container).inspect();
    const ip = info.NetworkSettings.Networks[network]?.IPAddress;
    assert.ok(ip, 'the container has no address on its network');

    const exec: RunningService['exec'] = (argv, stdin) =>
      engine.exec(container, argv, stdin === undefined ? {} : { stdin });
    // Healthy = the manifest's health check passes in the container (polled; Docker's own first check
    // would wait for the interval).
    const health = c.healthcheck?.test ?? [];
    for (let i = 0; ; i++) {
      const state = (await engine.docker.getContainer(container).inspect()).State;
      assert.ok(state.Running, `${container} stopped: ${await engine.logs(container, 30)}`);
      if ((await exec(health)).exitCode === 0) break;
      assert.ok(i < 200, `${container} never became healthy: ${await engine.logs(container, 30)}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const accounts = manifest.accounts;
    assert.ok(accounts, `${id} has no account hooks`);
    return {
      manifest,
      image,
      context,
      container,
      ip,
      hostDir,
      exec,
      async hook(name, username, password) {
        const argv = accounts[name].map((a) => (a === '{username}' ? (username ?? '') : a));
        const r = await exec(argv, name === 'add' ? `${password}\n` : undefined);
        assert.equal(r.exitCode, 0, `${argv.join(' ')}: ${r.stderr}`);
        return r.stdout;
      },
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
