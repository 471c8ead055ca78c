// The catalog with a remote index, on fakes: what is offered, what is refused and why (build images,
// a built-in id, a duplicate, schema and policy failures, not an object), the cache and its refresh
// on a new URL, and a failing fetch that leaves the built-in catalog and the last good list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServiceManifest, type ServiceManifest } from '../../schema/service-manifest.ts';
import type { CatalogService } from '../ports/service-store.ts';
import type { HeldPort } from './manifest-policy.ts';
import { MAX_INDEX_SERVICES, mergeIndex, StoreCatalog } from './store-catalog.ts';

const DIGEST = `sha256:${'c'.repeat(64)}`;

function remote(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 1,
    id,
    name: `Remote ${id}`,
    description: `The ${id} service`,
    version: '1.0.0',
    kind: 'app',
    containers: [{ name: 'main', image: { ref: `127.0.0.1:5000/pic/${id}@${DIGEST}` }, user: '932:932' }],
    ...over,
  };
}

function builtin(id: string): CatalogService {
  const r = parseServiceManifest({
    ...remote(id),
    containers: [{ name: 'main', image: { build: '.' }, user: '932:932' }],
  });
  assert.ok(r.ok);
  return { manifest: r.manifest as ServiceManifest, dir: `/catalog/${id}` };
}

const held: HeldPort[] = [{ proto: 'tcp', port: 443, holder: 'core (cell-caddy)' }];
const ids = (s: readonly CatalogService[]) => s.map((c) => c.manifest.id);

test('mergeIndex: good entries are offered; every refused one is reported with why', () => {
  const r = mergeIndex(
    [builtin('calendar')],
    {
      services: [
        remote('notes'),
        remote('calendar'), // a built-in id
        remote('builder', { containers: [{ name: 'main', image: { build: '.' }, user: '932:932' }] }),
        remote('tagged', { containers: [{ name: 'main', image: { ref: '127.0.0.1:5000/pic/x:latest' } }] }),
        remote('root', {
          containers: [{ name: 'main', image: { ref: `127.0.0.1:5000/pic/r@${DIGEST}` }, privileged: true }],
        }),
        remote('porty', {
          host_ports: [{ proto: 'tcp', port: 443, container: 'main', container_port: 443 }],
        }),
        remote('notes'), // twice
        remote('needs', { requires: ['nowhere'] }),
        'not a manifest',
        { id: 'Bad\nId' },
      ],
    },
    held,
  );
  assert.deepEqual(ids(r.services), ['notes']);
  assert.equal(r.services[0]?.source, 'index');
  assert.equal(r.services[0]?.dir, '');
  const by = new Map(r.problems.map((p) => [p.id ?? '(none)', p.message]));
  assert.match(by.get('calendar')!, /built-in/);
  assert.match(by.get('builder')!, /by digest.*main would be built/);
  assert.match(by.get('tagged')!, /containers\.0\.image/);
  assert.match(by.get('root')!, /privileged|containers\.0/);
  assert.match(by.get('porty')!, /policy.*443/);
  assert.match(by.get('notes')!, /listed twice/);
  assert.match(by.get('needs')!, /policy.*requires/);
  assert.equal(r.problems.length, 9, JSON.stringify(r.problems));
  // An id that is not a slug is not echoed back.
  assert.ok(r.problems.every((p) => p.id === undefined || /^[a-z][a-z0-9-]*$/.test(p.id)));
});

test('mergeIndex: an index must be {services: [...]}; a bare list or junk is one problem', () => {
  for (const raw of [[remote('notes')], null, 'x', 42, { services: 'no' }, {}]) {
    const r = mergeIndex([], raw, held);
    assert.deepEqual(r.services, []);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]!.message, /"services" list/);
  }
  const many = mergeIndex([], { services: Array.from({ length: MAX_INDEX_SERVICES + 5 }, () => ({})) }, held);
  assert.ok(many.problems.some((p) => /only the first/.test(p.message)));
  assert.ok(many.problems.length <= 51);
});

function catalog(over: { url?: string; answer?: () => Promise<unknown> } = {}) {
  let now = new Date('2026-01-01T00:00:00Z');
  let url: string | undefined = over.url ?? 'https://store.example.org/index.json';
  const fetched: string[] = [];
  let answer = over.answer ?? (async () => ({ services: [remote('notes')] }));
  const c = new StoreCatalog({
    builtin: { list: async () => [builtin('calendar')] },
    fetcher: {
      fetch: async (u) => {
        fetched.push(u);
        return answer();
      },
    },
    url: () => url,
    heldPorts: () => held,
    ttlMs: 60_000,
    retryMs: 10_000,
    now: () => now,
  });
  return {
    c,
    fetched,
    setUrl: (u: string | undefined) => {
      url = u;
    },
    tick: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
    answer: (a: () => Promise<unknown>) => {
      answer = a;
    },
  };
}

test('StoreCatalog: built-in plus the index, cached for the TTL, fetched again on a new URL', async () => {
  const k = catalog();
  assert.deepEqual(ids(await k.c.list()), ['calendar', 'notes']);
  assert.deepEqual(ids(await k.c.list()), ['calendar', 'notes']);
  assert.equal(k.fetched.length, 1, 'cached');
  assert.equal(k.c.status()?.services, 1);
  assert.equal(k.c.status()?.error, undefined);
  k.tick(60_001);
  await k.c.list();
  assert.equal(k.fetched.length, 2, 'fetched again once due');
  k.setUrl('https://other.example.org/index.json');
  await k.c.list();
  assert.deepEqual(k.fetched.at(-1), 'https://other.example.org/index.json');
  k.setUrl(undefined);
  assert.deepEqual(ids(await k.c.list()), ['calendar']);
  assert.equal(k.c.status(), undefined);
});

test('StoreCatalog: a failing index keeps the built-in catalog and the last good list, and says why', async () => {
  const k = catalog({ answer: async () => Promise.reject(new Error('the index did not answer in time')) });
  assert.deepEqual(ids(await k.c.list()), ['calendar']);
  assert.equal(k.c.status()?.error, 'the index did not answer in time');
  assert.equal(k.c.status()?.fetched_at, null);
  k.answer(async () => ({ services: [remote('notes')] }));
  k.tick(10_001); // a failure is retried sooner than the TTL
  assert.deepEqual(ids(await k.c.list()), ['calendar', 'notes']);
  k.answer(async () => Promise.reject(new Error('the index answered HTTP 500')));
  k.tick(60_001);
  assert.deepEqual(ids(await k.c.list()), ['calendar', 'notes'], 'the last good list stays');
  assert.equal(k.c.status()?.error, 'the index answered HTTP 500');
  assert.ok(k.c.status()?.fetched_at);
});

test('StoreCatalog: callers during a fetch share it', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const k = catalog({ answer: () => gate.then(() => ({ services: [remote('notes')] })) });
  const all = Promise.all([k.c.list(), k.c.list(), k.c.list()]);
  release();
  for (const l of await all) assert.deepEqual(ids(l), ['calendar', 'notes']);
  assert.equal(k.fetched.length, 1);
});
