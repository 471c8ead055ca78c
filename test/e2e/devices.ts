// A cell's store services and the devices of its peers, shared by the store end-to-end test and the
// WebDAV bench (bench/webdav/run.ts): the owner's install/uninstall jobs and peers through the API, and
// a device container that brings its tunnel up from the exported config unchanged (wireguard-go, the
// same wg-quick steps) and trusts the cell's root as a user would (downloaded through the tunnel).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ApiClient, docker, type TestCell, tryDocker, until } from './harness.ts';

export const PEER_IMAGE = 'pic-test/peer:latest';
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
}

/** The container name of a peer's device. */
export const deviceName = (cell: TestCell, peer: string) => `${cell.prefix}device-${peer}`;

/**
 * Runs the peer's device: its exported config mounted as is, the tunnel up until it pings the cell,
 * and the cell's root downloaded through the tunnel to /tmp/root.pem (what curl is then given as
 * --cacert). Returns the container's name; the caller removes it.
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
  await until(`${peer} to ping the cell over its tunnel`, async () =>
    exec(name, ['ping', '-c', '1', '-W', '1', CELL_VPN_IP]).status === 0 ? true : undefined,
  );
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
