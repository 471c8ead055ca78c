import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerState } from '../ports/container-engine.ts';
import { classify, HealthMonitor, type MonitorEngine } from './monitor.ts';

const STATE: ContainerState = {
  id: '',
  name: '',
  service: 'dns',
  image: 'pic/cell-dns',
  state: 'running',
  health: undefined,
  startedAt: undefined,
  restartCount: 0,
  ip: undefined,
};

test('states: running, starting, unhealthy, stopped', () => {
  assert.equal(classify({ state: 'running', health: 'healthy' }), 'running');
  assert.equal(classify({ state: 'running', health: undefined }), 'running');
  assert.equal(classify({ state: 'running', health: 'starting' }), 'starting');
  assert.equal(classify({ state: 'running', health: 'unhealthy' }), 'unhealthy');
  assert.equal(classify({ state: 'exited', health: 'unhealthy' }), 'stopped');
  assert.equal(classify({ state: 'restarting', health: undefined }), 'starting');
});

test('a stopped container is started again, with growing gaps between attempts, and every change is reported', async () => {
  let now = 0;
  let state = 'exited';
  const starts: number[] = [];
  const engine: MonitorEngine = {
    state: async (id) => ({
      ...STATE,
      id,
      name: id,
      state,
      health: state === 'running' ? 'healthy' : undefined,
      startedAt: undefined,
    }),
    start: async () => {
      starts.push(now);
      throw new Error('no');
    },
  };
  const transitions: string[] = [];
  const m = new HealthMonitor(
    engine,
    [{ service: 'dns', container: 'cell-dns' }],
    {
      transition: (s, from, to) => transitions.push(`${s}:${from}->${to}`),
      restarted: () => {},
    },
    () => now,
  );
  for (now = 0; now <= 20_000; now += 1_000) await m.tick();
  assert.deepEqual(starts, [0, 2_000, 6_000, 14_000]);
  state = 'running';
  await m.tick();
  assert.deepEqual(transitions, ['cell-dns:unknown->stopped', 'cell-dns:stopped->running']);
  const [svc] = await m.services();
  assert.equal(svc!.state, 'running');
});

test('while Docker still says starting, the container’s own check decides: a pass is running at once', async () => {
  let ready = false;
  const checked: string[] = [];
  const engine: MonitorEngine = {
    state: async (id) => ({ ...STATE, id, name: id, health: 'starting' }),
    start: async () => {},
  };
  const transitions: string[] = [];
  const m = new HealthMonitor(
    engine,
    [{ service: 'dns', container: 'cell-dns' }],
    { transition: (s, from, to) => transitions.push(`${s}:${from}->${to}`), restarted: () => {} },
    () => 0,
    {
      check: async (c) => {
        checked.push(c);
        return { ready, detail: ready ? 'ok' : 'no answer yet' };
      },
    },
  );
  await m.tick();
  assert.equal(
    (await m.services())[0]!.state,
    'starting',
    'a failing check is still starting, not unhealthy',
  );
  ready = true;
  await m.tick();
  assert.equal((await m.services())[0]!.state, 'running');
  assert.deepEqual(checked, ['cell-dns', 'cell-dns']);
  assert.deepEqual(transitions, ['cell-dns:unknown->starting', 'cell-dns:starting->running']);
});

test('the readiness check is not run when Docker has a verdict', async () => {
  let health = 'healthy';
  let checks = 0;
  const engine: MonitorEngine = {
    state: async (id) => ({ ...STATE, id, name: id, health }),
    start: async () => {},
  };
  const m = new HealthMonitor(
    engine,
    [{ service: 'dns', container: 'cell-dns' }],
    { transition: () => {}, restarted: () => {} },
    () => 0,
    {
      check: async () => {
        checks++;
        return { ready: true, detail: '' };
      },
    },
  );
  await m.tick();
  health = 'unhealthy';
  await m.tick();
  assert.equal(checks, 0);
  assert.equal((await m.services())[0]!.state, 'unhealthy', 'Docker saying unhealthy is not overruled');
});
