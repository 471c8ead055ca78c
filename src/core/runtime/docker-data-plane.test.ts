// The API's config apply goes through plan + apply like `pic up`: an in-memory engine records what
// it was asked to do. Only what renders differently is rewritten and recreated, never cell-api;
// Caddy gets its config through its admin port, and a refusal comes back to the caller.
import assert from 'node:assert/strict';
import { describe as group, test } from 'node:test';
import { desiredState } from '../../render/runtime/desired-state.ts';
import { specHash } from '../../render/runtime/spec-hash.ts';
import { type CellConfig, defaultConfig } from '../../schema/config.ts';
import type { ContainerSpec, RenderedFile } from '../../schema/runtime.ts';
import type { PendingChange } from '../config-service.ts';
import { AppError } from '../errors.ts';
import type { RuntimeEngine } from './apply.ts';
import { dockerDataPlane } from './docker-data-plane.ts';
import type { Observed } from './plan.ts';

const desired = (config: CellConfig) =>
  desiredState({ config, env: {}, cellDir: '/opt/pic', dockerGid: 998 });

/** An engine already running the cell of `config`, recording every change asked of it. */
function fakeEngine(config: CellConfig) {
  const log: string[] = [];
  const d = desired(config);
  const observed: Observed = {
    network: { id: 'net', subnet: d.network.subnet },
    containers: d.containers.map((c) => ({
      id: `id-${c.service}`,
      name: c.name,
      service: c.service,
      specHash: specHash(c, 'img'),
      running: true,
    })),
  };
  const engine: RuntimeEngine & { reachable(): Promise<boolean> } = {
    reachable: async () => true,
    imageId: async () => 'img',
    observe: async () => observed,
    createNetwork: async () => void log.push('create-network'),
    removeNetwork: async () => void log.push('remove-network'),
    createContainer: async (_cell, _net, spec: ContainerSpec) => {
      log.push(`create ${spec.name}`);
      return `new-${spec.service}`;
    },
    start: async (id) => void log.push(`start ${id}`),
    remove: async (id) => void log.push(`remove ${id}`),
    state: async (id) => ({
      id,
      name: '',
      service: '',
      image: 'img',
      state: 'running',
      health: 'healthy',
      startedAt: undefined,
      restartCount: 0,
      ip: undefined,
    }),
  };
  return { engine, log };
}

type Tls = NonNullable<Parameters<typeof dockerDataPlane>[0]['tls']>;

function setup(opts: { refuse?: string | undefined; tls?: Tls } = {}) {
  const before = defaultConfig();
  const { engine, log } = fakeEngine(before);
  const disk = new Map<string, string>();
  for (const c of desired(before).containers) for (const f of c.files) disk.set(f.path, f.content);
  const written: string[] = [];
  const loads: string[] = [];
  let lastLoaded: string | undefined;
  const plane = dockerDataPlane({
    engine,
    desired,
    writeFile: (f: RenderedFile) => {
      if (disk.get(f.path) === f.content) return false;
      disk.set(f.path, f.content);
      written.push(f.path);
      return true;
    },
    caddy: {
      load: async (config) => {
        if (opts.refuse) throw new AppError('unavailable', opts.refuse);
        if (config === lastLoaded) return 'unchanged';
        lastLoaded = config;
        loads.push(config);
        return 'loaded';
      },
      reload: async (config) => {
        lastLoaded = config;
        loads.push(`forced:${config}`);
      },
    },
    ...(opts.tls ? { tls: opts.tls } : {}),
  });
  return { plane, log, written, loads, disk };
}

const change = (field: string): PendingChange[] => [{ field, from: null, to: null, restart: [] }];

group('docker data plane: one reconciler', () => {
  test('a new NTP upstream rewrites chrony.conf and recreates cell-ntp only', async () => {
    const { plane, log, written, disk } = setup();
    const config = defaultConfig();
    config.network.ntp_servers = ['192.168.1.1'];
    const r = await plane.applyConfig(config, change('network.ntp_servers'));
    assert.deepEqual(r.restarted, ['cell-ntp']);
    assert.deepEqual(written, ['/opt/pic/config/ntp/chrony.conf']);
    assert.match(disk.get('/opt/pic/config/ntp/chrony.conf')!, /^server 192\.168\.1\.1 /m);
    assert.deepEqual(log, ['remove id-ntp', 'create cell-ntp', 'start new-ntp']);
  });

  test('nothing rendered differently: nothing written, nothing recreated, Caddy offered its config once', async () => {
    const { plane, log, written, loads } = setup();
    const config = defaultConfig();
    config.identity.timezone = 'Europe/Paris';
    assert.deepEqual((await plane.applyConfig(config, change('identity.timezone'))).restarted, []);
    assert.deepEqual((await plane.applyConfig(config, change('identity.timezone'))).restarted, []);
    assert.deepEqual([log, written], [[], []]);
    assert.equal(loads.length, 1, 'the second apply sends nothing to Caddy');
  });

  test('cell-api is never recreated by itself, even when its definition changed', async () => {
    const { plane, log } = setup();
    const config = defaultConfig();
    config.identity.vpn_address = '10.8.0.1/24';
    const r = await plane.applyConfig(config, change('identity.vpn_address'));
    assert.ok(!r.restarted.includes('cell-api'));
    assert.ok(!log.some((l) => l.includes('api')), log.join(', '));
  });

  test('moving the cell network is refused before anything is touched', async () => {
    const { plane, log, written } = setup();
    const config = defaultConfig();
    config.identity.ip_range = '10.77.0.0/16';
    await assert.rejects(plane.applyConfig(config, []), (e: AppError) => e.code === 'conflict');
    await assert.rejects(plane.applyConfig(config, change('identity.ip_range')), /pic up/);
    assert.deepEqual([log, written], [[], []]);
  });

  test("Caddy refusing its new config: the error (Caddy's reason) reaches the caller", async () => {
    const { plane } = setup({ refuse: 'Caddy refused the new configuration and keeps the old one: bad' });
    await assert.rejects(plane.applyConfig(defaultConfig(), []), /keeps the old one: bad/);
  });

  test('a config written by a run whose load failed is offered again by the next run, unchanged on disk', async () => {
    const opts: { refuse?: string | undefined } = { refuse: 'Caddy refused: not ready' };
    const { plane, written, loads, disk } = setup(opts);
    disk.set('/opt/pic/config/caddy/caddy.json', '{"an":"older config"}');
    const config = defaultConfig();
    await assert.rejects(plane.applyConfig(config, change('identity.domain')), /not ready/);
    assert.ok(written.includes('/opt/pic/config/caddy/caddy.json'), 'the first run wrote the file');
    opts.refuse = undefined;
    written.length = 0;
    await plane.applyConfig(config, change('identity.domain'));
    assert.deepEqual(written, [], 'nothing new on disk');
    assert.equal(loads.length, 1, 'yet Caddy was offered the config it never loaded');
  });

  test('a new cell name: its certificate is delivered first, then Caddy is made to load (and read it)', async () => {
    const order: string[] = [];
    const tls: Tls = {
      ensure: async (c, o) => {
        order.push(`ensure ${c.identity.domain} reload=${o?.reload}`);
        return 'delivered';
      },
    };
    const { plane, loads } = setup({ tls });
    const config = defaultConfig();
    config.identity.cell_name = 'home';
    config.identity.domain = 'home.cell';
    await plane.applyConfig(config, change('identity.cell_name'));
    assert.deepEqual(order, ['ensure home.cell reload=false']);
    assert.equal(loads.length, 1);
    assert.match(loads[0]!, /^forced:.*"home\.cell"/s);
  });

  test('an unchanged certificate: the ordinary load, which skips an equal config', async () => {
    const tls: Tls = { ensure: async () => 'unchanged' };
    const { plane, loads } = setup({ tls });
    await plane.applyConfig(defaultConfig(), []);
    await plane.applyConfig(defaultConfig(), []);
    assert.equal(loads.length, 1);
    assert.doesNotMatch(loads[0]!, /^forced:/);
  });
});
