// `pic down` and `pic uninstall` choose the cell by its id alone (the hash of its directory), never by
// rendering its desired state: what they remove is exactly what the engine lists under that id.
// A fake engine records what was asked; the real command against Docker is in src/cli/cli.int.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Observed } from '../../core/runtime/plan.ts';
import { cellIdFor } from '../../render/runtime/desired-state.ts';
import { nothingToDo, removeCellOf } from './down.ts';

function fakeEngine(byCell: Record<string, Observed>, reachable = true) {
  const calls: string[] = [];
  return {
    calls,
    engine: {
      reachable: async () => reachable,
      async observe(cellId: string): Promise<Observed> {
        calls.push(`observe ${cellId}`);
        return byCell[cellId] ?? { network: undefined, containers: [], storeNetworks: [] };
      },
      remove: async (id: string) => void calls.push(`remove ${id}`),
      removeNetwork: async (id: string) => void calls.push(`removeNetwork ${id}`),
    },
  };
}

const container = (id: string) => ({ id, name: `pic-${id}`, service: 'dns', specHash: 'h', running: true });

const quiet = async <T>(f: () => Promise<T>): Promise<T> => {
  const log = console.log;
  console.log = () => {};
  try {
    return await f();
  } finally {
    console.log = log;
  }
};

test("the cell is chosen by its directory's id: only that id's containers and networks are removed", async () => {
  const a = '/srv/cells/a';
  const b = '/srv/cells/b';
  const { engine, calls } = fakeEngine({
    [cellIdFor(a)]: {
      network: { id: 'net-a', subnet: '172.20.0.0/24' },
      containers: [container('a1'), container('a2')],
      storeNetworks: ['store-net-a'],
    },
    [cellIdFor(b)]: {
      network: { id: 'net-b', subnet: '172.21.0.0/24' },
      containers: [container('b1')],
      storeNetworks: [],
    },
  });
  // A context whose desired state cannot render (a config the renderers refuse): never asked for.
  const ctx = { cellDir: a, engine, desired: () => assert.fail('the desired state is never rendered') };
  const n = await quiet(() => removeCellOf(ctx));
  assert.equal(n, 4);
  assert.deepEqual(calls, [
    `observe ${cellIdFor(a)}`,
    'remove a1',
    'remove a2',
    'removeNetwork net-a',
    'removeNetwork store-net-a',
  ]);
  assert.match(cellIdFor(a), /^[0-9a-f]{12}$/);
  assert.notEqual(cellIdFor(a), cellIdFor(b));
});

test('a cell with nothing under its id removes nothing (0: "Nothing to do")', async () => {
  const { engine, calls } = fakeEngine({});
  assert.equal(await quiet(() => removeCellOf({ cellDir: '/srv/cells/none', engine })), 0);
  assert.deepEqual(calls, [`observe ${cellIdFor('/srv/cells/none')}`]);
});

test('"Nothing to do" names a directory no cell ran in (no config/ or data/), and only such a one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pic-down-'));
  try {
    assert.equal(
      nothingToDo(dir),
      `Nothing to do: ${dir} is not a cell's directory (it has no config/ or data/). Give --dir the directory \`pic up\` ran in.`,
    );
    mkdirSync(join(dir, 'data'));
    assert.equal(nothingToDo(dir), 'Nothing to do: no container of this cell exists.');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('after the cell, the ended helper containers go (cell-api may have stopped before removing one)', async () => {
  const dir = '/srv/cells/helpers';
  const { engine, calls } = fakeEngine({
    [cellIdFor(dir)]: { network: undefined, containers: [container('dns')], storeNetworks: [] },
  });
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => void lines.push(line);
  try {
    const n = await removeCellOf({
      cellDir: dir,
      engine: {
        ...engine,
        async removeEndedHelpers(cellDir: string) {
          calls.push(`removeEndedHelpers ${cellDir}`);
          return 2;
        },
      },
    });
    assert.equal(n, 3, 'the container and the two helpers');
  } finally {
    console.log = log;
  }
  assert.deepEqual(calls, [`observe ${cellIdFor(dir)}`, 'remove dns', `removeEndedHelpers ${dir}`]);
  assert.ok(lines.includes('  remove 2 ended helper containers'), lines.join('\n'));
});

test('an unreachable engine is an error before anything is listed or removed', async () => {
  const { engine, calls } = fakeEngine({}, false);
  await assert.rejects(removeCellOf({ cellDir: '/srv/cells/a', engine }), /Docker engine is not reachable/);
  assert.deepEqual(calls, []);
});

test('cell-api goes first, then what is listed after it, twice: a store container it was making goes too', async () => {
  const dir = '/srv/cells/busy';
  const api = { id: 'api', name: 'pic-cell-api', service: 'api', specHash: 'h', running: true };
  const late = { ...container('mail'), service: 'email_mail' };
  // What the engine lists: before cell-api went, after it (the mail container is being made), then
  // with the mail container there.
  const lists: Observed[] = [
    {
      network: { id: 'net', subnet: '172.20.0.0/24' },
      containers: [container('dns'), api],
      storeNetworks: [],
    },
    { network: { id: 'net', subnet: '172.20.0.0/24' }, containers: [container('dns')], storeNetworks: [] },
    { network: { id: 'net', subnet: '172.20.0.0/24' }, containers: [late], storeNetworks: ['svc-email'] },
  ];
  const calls: string[] = [];
  const engine = {
    reachable: async () => true,
    observe: async (cellId: string) => {
      calls.push(`observe ${cellId === cellIdFor(dir) ? 'busy' : cellId}`);
      return lists.shift()!;
    },
    remove: async (id: string) => void calls.push(`remove ${id}`),
    removeNetwork: async (id: string) => void calls.push(`removeNetwork ${id}`),
  };
  assert.equal(await quiet(() => removeCellOf({ cellDir: dir, engine })), 5);
  assert.deepEqual(calls, [
    'observe busy',
    'remove api',
    'observe busy',
    'remove dns',
    'observe busy',
    'remove mail',
    'removeNetwork net',
    'removeNetwork svc-email',
  ]);
});
