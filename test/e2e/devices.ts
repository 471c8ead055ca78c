// A cell's store services and the devices of its peers, shared by the end-to-end tests whose peers
// have devices (peers, backup, store, mail, public-domain) and the WebDAV bench (bench/webdav/run.ts):
// the owner's install/uninstall jobs and peers through the API, a device container that brings its
// tunnel up from the exported config unchanged (wireguard-go, the same wg-quick steps) and trusts the
// cell's root as a user would (downloaded through the tunnel), the peer's own apps (node programs in
// test/e2e/peer) run in a device's network namespace, and a fresh cell with a device network around a
// test file (DeviceCell).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiClient,
  completeSetup,
  docker,
  ensureImages,
  hostRouteAddress,
  leftovers,
  ROOT,
  startCell,
  type TestCell,
  tryDocker,
  until,
} from './harness.ts';

export const PEER_IMAGE = 'pic-test/peer:latest';
/** The image the peer's apps run in (node, sharing a device's network namespace). */
export const NODE_IMAGE = 'node:24-bookworm-slim';
export const CELL_VPN_IP = '10.0.0.1';
/** The domain completeSetup gives the cell (cell name `e2e`, local mode). */
export const DOMAIN = 'e2e.cell';

/** A Docker bridge network for devices, on a free /24 of 172.29.0.0/16. */
export function createDeviceNetwork(name: string): void {
  for (let attempt = 0; attempt < 20; attempt++) {
    const subnet = `172.29.${Math.floor(Math.random() * 256)}.0/24`;
    if (tryDocker(['network', 'create', '--subnet', subnet, name]).ok) return;
  }
  throw new Error('no free /24 in 172.29.0.0/16 for the device network');
}

/** A command in a container; its exit status is part of the answer. */
export function exec(container: string, argv: string[], timeoutMs = 60_000) {
  const r = spawnSync('docker', ['exec', container, ...argv], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** One ping from a container to `ip` (an answer within a second): whether the tunnel carries it now. */
export const pings = (container: string, ip = CELL_VPN_IP): boolean =>
  exec(container, ['ping', '-c', '1', '-W', '1', ip]).status === 0;

/** Caddy's address on the cell network (the front door a device reaches through the tunnel). */
export const caddyIp = (cell: TestCell) =>
  docker([
    'inspect',
    '-f',
    `{{(index .NetworkSettings.Networks "${cell.prefix}cell-network").IPAddress}}`,
    cell.name('caddy'),
  ]).trim();

/** Starts an install or uninstall and follows its job to the end; fails with the job's error. */
export async function waitJob(admin: ApiClient, id: string, action: 'install' | 'uninstall'): Promise<void> {
  const r = await admin.call('POST', `/api/services/catalog/${id}/${action}`);
  assert.equal(r.status, 202, JSON.stringify(r.json));
  const want = action === 'install' ? 'running' : 'not_installed';
  const deadline = Date.now() + 20 * 60_000;
  let item: { state: string; job?: { phase: string; error?: string } } | undefined;
  while (Date.now() < deadline) {
    const d = await admin.call('GET', `/api/services/catalog/${id}`);
    item = d.json as typeof item;
    if (item?.job?.error || item?.job?.phase === 'failed' || item?.state === 'failed')
      throw new Error(`${action} of ${id} failed: ${JSON.stringify(item)}`);
    if ((!item?.job || item.job.phase === 'done') && item?.state === want) return;
    await new Promise((res) => setTimeout(res, 1000));
  }
  throw new Error(`${action} of ${id} did not finish: ${JSON.stringify(item)}`);
}

/** Adds a peer (split routing); returns its generated cell login, if it got one. */
export async function addPeer(
  admin: ApiClient,
  name: string,
  services: string[],
): Promise<string | undefined> {
  const r = await admin.call('POST', '/api/peers', { name, routing: 'split', services });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const body = r.json as { apply: { applied: boolean }; password?: string };
  assert.equal(body.apply.applied, true);
  return body.password;
}

export interface DeviceOptions {
  /** The device network (createDeviceNetwork), or `none` with `onStarted` making its link. */
  network: string;
  /** Called once the container runs, before the tunnel is waited for (e.g. to give it a link). */
  onStarted?: (container: string) => void;
  /** A host directory for the exported configs (mode 0600 files). */
  confDir: string;
  /** Extra `docker run` arguments (mounts, tmpfs). */
  runArgs?: string[];
  /**
   * Whether the device downloads the cell's root through the tunnel (default true). False for a peer
   * not granted `web`: it cannot reach Caddy's front door, so it has no way to (peers' bob, backup's alice).
   */
  trustRoot?: boolean;
  /**
   * Called with the exported config before the device runs it: a test's checks on what a phone scanning
   * the QR code gets (the endpoint it dials). The config is run as it is, never changed.
   */
  onConfig?: (config: string) => void;
}

/** The container name of a peer's device. */
export const deviceName = (cell: TestCell, peer: string) => `${cell.prefix}device-${peer}`;

/**
 * Runs the peer's device: its exported config mounted as is, the tunnel up until it pings the cell,
 * and (unless `trustRoot` is false) the cell's root downloaded through the tunnel to /tmp/root.pem (what
 * curl is then given as --cacert). Returns the container's name; the caller removes it.
 */
export async function startDevice(
  cell: TestCell,
  admin: ApiClient,
  peer: string,
  opts: DeviceOptions,
): Promise<string> {
  const r = await admin.call('GET', `/api/peers/${peer}/config`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const { config } = r.json as { config: string };
  opts.onConfig?.(config);
  const conf = join(opts.confDir, `${peer}.conf`);
  writeFileSync(conf, config, { mode: 0o600 });
  const name = deviceName(cell, peer);
  docker([
    'run',
    '-d',
    '--name',
    name,
    '--network',
    opts.network,
    '--cap-add',
    'NET_ADMIN',
    '--device',
    '/dev/net/tun',
    '-v',
    `${conf}:/peer/wg0.conf:ro`,
    ...(opts.runArgs ?? []),
    PEER_IMAGE,
  ]);
  opts.onStarted?.(name);
  await until(`${peer} to ping the cell over its tunnel`, async () => (pings(name) ? true : undefined));
  if (opts.trustRoot === false) return name;
  // Trust the cell's root the way the peer's config page hands it over: downloaded through the tunnel.
  const root = exec(name, [
    'curl',
    '-fsS',
    '--max-time',
    '5',
    '-o',
    '/tmp/root.pem',
    `http://${caddyIp(cell)}/api/vault/ca.crt`,
  ]);
  assert.equal(root.status, 0, `${peer} downloads the root: ${root.stderr}`);
  return name;
}

/**
 * A fresh cell for a test file whose peers have devices: the images (and the peer image) built, a
 * device network, a work directory (exported configs, roots copied out of devices), the cell started
 * on the host's own address with setup completed. `start()` in before(), `stop()` in after(): stop
 * removes the devices, the network, the directory and the cell, then checks that nothing labelled for
 * the cell is left behind (also after a start that failed half way).
 */
export class DeviceCell {
  cell!: TestCell;
  admin!: ApiClient;
  /** The device network's name. */
  net = '';
  /** The work directory (mode 0700, removed by stop). */
  work = '';
  /** The host's default-route address: the cell publishes its ports there. */
  hostAddress = '';
  /** The devices started through startDevice, removed by stop. */
  readonly devices: string[] = [];
  readonly #tag: string;

  /** `tag` names the device network (`pic-e2e-<tag>-…`) and the work directory. */
  constructor(tag: string) {
    this.#tag = tag;
  }

  async start(): Promise<void> {
    ensureImages();
    // The legacy builder takes FROM from the local store; it never asks a registry.
    process.env.DOCKER_BUILDKIT = '0';
    docker(['build', '-q', '-t', PEER_IMAGE, join(ROOT, 'test', 'e2e', 'peer')]);
    const net = `pic-e2e-${this.#tag}-${Math.random().toString(36).slice(2, 7)}`;
    createDeviceNetwork(net);
    this.net = net;
    this.work = mkdtempSync(join(tmpdir(), `pic-e2e-${this.#tag}-`));
    this.hostAddress = hostRouteAddress();
    this.cell = await startCell({ bindAddress: this.hostAddress });
    this.admin = new ApiClient(this.cell.url);
    await completeSetup(this.cell, this.admin);
  }

  /** Runs the peer's device (startDevice, configs in the work directory); stop removes it. */
  async startDevice(peer: string, opts: Pick<DeviceOptions, 'trustRoot' | 'onConfig'> = {}): Promise<string> {
    this.devices.push(deviceName(this.cell, peer));
    return startDevice(this.cell, this.admin, peer, { ...opts, network: this.net, confDir: this.work });
  }

  stop(): void {
    for (const d of this.devices) tryDocker(['rm', '-f', d]);
    if (this.net) tryDocker(['network', 'rm', this.net]);
    if (this.work) rmSync(this.work, { recursive: true, force: true });
    if (!this.cell) return;
    this.cell.destroy();
    assert.deepEqual(leftovers(this.cell.prefix), [], 'containers, networks or volumes left behind');
  }
}

export interface DeviceAppOptions {
  /** The program, a path under test/e2e/peer (dav-client.ts, mail-client.ts). */
  script: string;
  /** The environment variable the program reads its job from. */
  jobVariable: string;
  /** The job (passwords included: it goes in the environment, never in argv). */
  job: Record<string, unknown>;
  /** Where the root copied out of the device is written (`<dir>/<peer>-root.pem`). */
  dir: string;
  /** More environment for the program (names and values; passed by name, like the job). */
  env?: Record<string, string>;
}

/** Where a device app finds the cell's root its device downloaded through the tunnel. */
export const APP_ROOT = '/root.pem';

/**
 * One of the peer's apps (a node program in test/e2e/peer) in the device's network namespace: a node
 * container sharing the device's network stack and resolv.conf, the repository read-only for the
 * program and its libraries, the root the device downloaded through its tunnel copied out to `dir` and
 * mounted at APP_ROOT. The job goes in an environment variable, never in argv. Answers the JSON object
 * the program prints last; fails with its output when there is none.
 */
export function runDeviceApp(cell: TestCell, peer: string, opts: DeviceAppOptions): Record<string, unknown> {
  const root = join(opts.dir, `${peer}-root.pem`);
  docker(['cp', `${deviceName(cell, peer)}:/tmp/root.pem`, root]);
  // A worktree's node_modules may be a symlink to another checkout's: mount its target where it points.
  const modules = realpathSync(join(ROOT, 'node_modules'));
  const modulesMount = modules.startsWith(`${ROOT}/`) ? [] : ['-v', `${modules}:${modules}:ro`];
  const env = { ...opts.env, [opts.jobVariable]: JSON.stringify(opts.job) };
  const r = spawnSync(
    'docker',
    [
      'run',
      '--rm',
      '--network',
      `container:${deviceName(cell, peer)}`,
      '-v',
      `${ROOT}:/pic:ro`,
      ...modulesMount,
      '-v',
      `${root}:${APP_ROOT}:ro`,
      ...Object.keys(env).flatMap((name) => ['-e', name]),
      NODE_IMAGE,
      'node',
      `/pic/test/e2e/peer/${opts.script}`,
    ],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } },
  );
  const line = (r.stdout ?? '').trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`${opts.script}: ${r.status} ${r.stdout} ${r.stderr}`);
  }
}
