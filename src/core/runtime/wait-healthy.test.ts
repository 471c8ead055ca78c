// The wait step of `pic up`: a container counts as ready when its own check passes, without waiting
// for Docker's health status; without a readiness port, Docker's status decides as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredState } from '../../render/runtime/desired-state.ts';
import { defaultConfig } from '../../schema/config.ts';
import type { Readiness } from '../ports/readiness.ts';
import { type RuntimeEngine, waitHealthy } from './apply.ts';

const desired = desiredState({ config: defaultConfig(), env: {}, cellDir: '/opt/pic', dockerGid: 998 });
const names = desired.containers.map((c) => c.name);

/** Every container running; Docker's health stays `starting` (its first check is 15 s away). */
function engine(health: () => string | undefined): RuntimeEngine {
  return {
    observe: async () => ({
      network: undefined,
      containers: names.map((n) => ({ id: n, name: n, service: '', specHash: '', running: true })),
    }),
    state: async (id: string) => ({ name: id, state: 'running', health: health() }),
  } as unknown as RuntimeEngine;
}

test('ready as soon as each daemon passes its own check, while Docker still says starting', async () => {
  const calls = new Map<string, number>();
  // Each container passes from its second check on; DNS only from its fourth.
  const readiness: Readiness = {
    check: async (c) => {
      const n = (calls.get(c) ?? 0) + 1;
      calls.set(c, n);
      return { ready: n >= (c.endsWith('dns') ? 4 : 2), detail: `check ${n}` };
    },
  };
  const lines: string[] = [];
  await waitHealthy(
    desired,
    engine(() => 'starting'),
    {
      timeoutMs: 10_000,
      progress: (l) => lines.push(l),
      readiness,
      intervalMs: 1,
    },
  );
  assert.equal(calls.get('cell-dns'), 4);
  for (const n of names.filter((x) => x !== 'cell-dns'))
    assert.equal(calls.get(n), 2, `${n}: not checked after ready`);
  assert.match(lines[0]!, /waiting for cell-dns \(starting\)/);
});

test('a check that never passes times out with what it printed', async () => {
  const readiness: Readiness = { check: async () => ({ ready: false, detail: 'no answer to health.pic.' }) };
  await assert.rejects(
    waitHealthy(
      desired,
      engine(() => 'starting'),
      {
        timeoutMs: 20,
        progress: () => {},
        readiness,
        intervalMs: 5,
      },
    ),
    (err: Error) =>
      /Timed out: waiting for cell-dns/.test(err.message) && /no answer to health\.pic\./.test(err.message),
  );
});

test("without a readiness port, Docker's health status decides", async () => {
  let polls = 0;
  await waitHealthy(
    desired,
    engine(() => (++polls > names.length ? 'healthy' : 'starting')),
    {
      timeoutMs: 10_000,
      progress: () => {},
      intervalMs: 1,
    },
  );
  assert.ok(polls > names.length);
});
