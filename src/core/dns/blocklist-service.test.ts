// BlocklistService on in-memory fakes: the daily refresh and the hourly retry after a failure on an
// injected clock (no timer), names of the cell's own zone never blocked, the merged names and their
// digest recomputed only after a change, and every change applied once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BlocklistRow, BlocklistsRepository } from '../ports/blocklists-repository.ts';
import { BlocklistService, REFRESH_MS, RETRY_MS } from './blocklist-service.ts';

function memoryRepo(): BlocklistsRepository {
  const rows = new Map<number, BlocklistRow & { names: string[] }>();
  let next = 1;
  const strip = ({ names: _n, ...r }: BlocklistRow & { names: string[] }): BlocklistRow => ({ ...r });
  return {
    list: () => [...rows.values()].map(strip),
    byId: (id) => (rows.has(id) ? strip(rows.get(id)!) : undefined),
    add: (r) => {
      const row = {
        id: next++,
        ...r,
        enabled: true,
        domain_count: 0,
        invalid_count: 0,
        fetched_at: null,
        last_error: null,
        created_at: '',
        names: [],
      };
      rows.set(row.id, row);
      return strip(row);
    },
    setNames: (id, names, invalid, at) => {
      Object.assign(rows.get(id)!, {
        names: [...names],
        domain_count: names.length,
        invalid_count: invalid,
        fetched_at: at,
        last_error: null,
      });
    },
    setError: (id, error) => {
      rows.get(id)!.last_error = error;
    },
    setEnabled: (id, enabled) => {
      const row = rows.get(id);
      if (row) row.enabled = enabled;
      return row !== undefined;
    },
    remove: (id) => rows.delete(id),
    enabledNames: () => [...rows.values()].filter((r) => r.enabled).flatMap((r) => r.names),
  };
}

function setup() {
  const clock = { t: Date.parse('2030-01-01T00:00:00Z') };
  const bodies: Record<string, string | Error> = {};
  const fetched: string[] = [];
  let applies = 0;
  const svc = new BlocklistService({
    repo: memoryRepo(),
    fetcher: {
      fetch: async (url) => {
        fetched.push(url);
        const b = bodies[url];
        if (b instanceof Error || b === undefined) throw b ?? new Error('HTTP 404');
        return b;
      },
    },
    clock: { now: () => clock.t },
    zone: () => 'home.cell',
    apply: async () => {
      applies++;
    },
    blockedQueries: async () => 7,
    peers: () => [{ blocklists: true }, { blocklists: false }],
    counts: {
      stats: async (window) => ({ window, since: '2026-01-01T00:00:00.000Z', total: 3, top: [], peers: [] }),
      reset: async () => undefined,
    },
  });
  return { svc, clock, bodies, fetched, applies: () => applies };
}

test('a URL is fetched when added, then daily; a failure is retried hourly', async () => {
  const { svc, clock, bodies, fetched } = setup();
  bodies['https://l.example/a'] = '0.0.0.0 ads.example\n';
  const v = await svc.addUrl('https://l.example/a');
  assert.equal(v.domains, 1);
  assert.equal(fetched.length, 1);
  clock.t += REFRESH_MS - 1;
  await svc.tick();
  assert.equal(fetched.length, 1, 'not due yet');
  clock.t += 1;
  bodies['https://l.example/a'] = new Error('the request timed out');
  await svc.tick();
  assert.equal(fetched.length, 2);
  const [row] = svc.list();
  assert.equal(row!.last_error, 'the request timed out');
  assert.equal(row!.domains, 1, 'the names from before stay');
  clock.t += RETRY_MS - 1;
  await svc.tick();
  assert.equal(fetched.length, 2);
  clock.t += 1;
  bodies['https://l.example/a'] = '0.0.0.0 ads.example\n0.0.0.0 more.example\n';
  await svc.tick();
  assert.equal(fetched.length, 3);
  assert.equal(svc.list()[0]!.last_error, null);
  assert.equal(svc.list()[0]!.domains, 2);
});

test("the cell's own names are never blocked; the digest changes only with the names", async () => {
  const { svc, applies } = setup();
  await svc.upload('a.txt', Buffer.from('ads.example\nweb.home.cell\nhome.cell\nx.example\n'));
  const first = svc.blocked();
  assert.deepEqual(first.names(), ['ads.example', 'x.example']);
  assert.equal(svc.blocked().digest, first.digest);
  const b = await svc.upload('b.txt', Buffer.from('x.example\n'));
  assert.equal(svc.blocked().digest, first.digest, 'a duplicate name changes nothing served');
  await svc.setEnabled(1, false);
  assert.deepEqual(svc.blocked().names(), ['x.example']);
  await svc.remove(b.id);
  assert.deepEqual(svc.blocked().names(), []);
  assert.equal(applies(), 4, 'one apply per change');
  assert.deepEqual(await svc.stats('7d'), {
    blocked_names: 0,
    blocked_queries: 7,
    peers_blocking: 1,
    window: '7d',
    since: '2026-01-01T00:00:00.000Z',
    total: 3,
    top: [],
    peers: [],
  });
});

test('refusals: an upload without names, a duplicate URL, an unknown id', async () => {
  const { svc, bodies } = setup();
  await assert.rejects(svc.upload('e.txt', Buffer.from('# none\n"x"\n')), /holds no name/);
  bodies['https://l.example/a'] = 'a.example\n';
  await svc.addUrl('https://l.example/a');
  await assert.rejects(svc.addUrl('https://l.example/a'), /already added/);
  await assert.rejects(svc.remove(99), /not found/);
  await assert.rejects(svc.setEnabled(99, true), /not found/);
});
