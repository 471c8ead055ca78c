// The remote store index end to end through the API, served by a loopback HTTP server: good entries
// are offered beside the built-in ones; a hostile one, a build-based one and one taking a built-in id
// are refused and reported; an oversized, a slow, a failing index and a redirect to another host
// leave the built-in catalog and say why; a same-origin redirect is followed. A remote service with
// no trusted key is refused at once in enforce (422 image_unverified); in warn it is pulled by digest
// after verification, then created. The bundled keys folder of the repository parses.
// Root ring: it joins the composition, the API kit and the bundled-keys driver to the core.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, makeKit } from './api/test-kit.ts';
import type { ServiceEnginePort } from './core/ports/service-store.ts';
import { StoreKeysService } from './core/service-store/store-keys-service.ts';
import { loadBundledKeys } from './drivers/catalog/bundled-keys.ts';
import { LABELS } from './schema/runtime.ts';

const DIGEST = `sha256:${'d'.repeat(64)}`;

function remote(id: string, ref: string, over: Record<string, unknown> = {}) {
  return {
    schema_version: 1,
    id,
    name: `Remote ${id}`,
    description: `The ${id} service from the index`,
    version: '2.0.0',
    kind: 'app',
    containers: [{ name: 'main', image: { ref }, user: '932:932' }],
    ...over,
  };
}

describe('remote store index', () => {
  let server: Server;
  let other: Server;
  let base: string;
  let kit: Kit;
  let admin: Login;
  const calls: string[] = [];
  const created: string[] = [];
  const running = new Map<string, string>();
  const held: Array<() => void> = [];

  const engine: ServiceEnginePort = {
    available: async () => true,
    hasImage: async () => true,
    pull: async (ref) => void calls.push(`pull ${ref}`),
    build: async () => {
      calls.push('build');
      return { id: `sha256:${'b'.repeat(64)}`, built: false };
    },
    ensureNetwork: async () => {},
    removeNetwork: async () => {},
    connect: async () => {},
    prepareVolume: async () => {},
    createContainer: async (_c, _n, spec) => {
      calls.push(`create ${spec.name} ${spec.image}`);
      created.push(spec.name);
      running.set(spec.name, spec.labels?.[LABELS.storeId] ?? '');
      return spec.name;
    },
    start: async () => {},
    restart: async () => {},
    remove: async (id) => void running.delete(id),
    containers: async (_c, id) =>
      [...running]
        .filter(([, s]) => s === id)
        .map(([name]) => ({ id: name, name, running: true, health: 'healthy' })),
    ready: async () => ({ ready: true, detail: '' }),
  };

  before(async () => {
    // Another origin (127.0.0.2): the index must never be followed there.
    other = createServer((_req, res) => {
      calls.push('other host reached');
      res.end(JSON.stringify({ services: [] }));
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.2', r));
    const otherPort = (other.address() as AddressInfo).port;
    server = createServer((req, res) => {
      const port = (server.address() as AddressInfo).port;
      const ref = `127.0.0.1:${port}/pic/notes@${DIGEST}`;
      const json = (body: unknown) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(body));
      };
      switch (req.url) {
        case '/index.json':
          return json({
            services: [
              remote('notes', ref),
              remote('hostile', ref, {
                containers: [{ name: 'main', image: { ref }, privileged: true, network_mode: 'host' }],
              }),
              remote('builder', ref, {
                containers: [{ name: 'main', image: { build: '.' }, user: '932:932' }],
              }),
              remote('calendar', ref),
              remote('sneaky', ref, { volumes_from: '/' }),
            ],
          });
        case '/list.json':
          return json([remote('notes', ref)]);
        case '/big.json':
          return json({
            services: [remote('notes', ref, { description: 'x'.repeat(400) })],
            pad: 'y'.repeat(200_000),
          });
        case '/slow.json':
          held.push(() => res.end('{}'));
          return;
        case '/other.json':
          res.writeHead(302, { location: `http://127.0.0.2:${otherPort}/index.json` });
          return res.end();
        case '/same.json':
          res.writeHead(301, { location: '/index.json' });
          return res.end();
        case '/broken.json':
          return res.end('{"services": [');
        default:
          // Registry paths (/v2/...): nothing is served, so no image here is signed.
          res.statusCode = req.url?.startsWith('/v2/') ? 404 : 500;
          return res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'pic-store-index-'));
    kit = await makeKit(
      {},
      {
        store: { engine, cellDir: dir, env: { PIC_NAME_PREFIX: 'xidx-' } },
        storeIndex: { timeoutMs: 400, maxBytes: 64 * 1024, ttlMs: 0, retryMs: 0 },
      },
      dir,
    );
    admin = await completeSetup(kit);
  });

  after(async () => {
    for (const release of held) release();
    await kit.close();
    server.closeAllConnections();
    other.closeAllConnections();
    await new Promise((r) => server.close(r));
    await new Promise((r) => other.close(r));
  });

  const setUrl = (url: string | null) =>
    kit.app.inject({
      method: 'PUT',
      url: '/api/config',
      payload: { store_index_url: url },
      headers: authed(admin),
    });
  const catalog = async () => {
    const res = await kit.app.inject({ method: 'GET', url: '/api/services/catalog', headers: authed(admin) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as {
      services: Array<{ id: string; source: string; version: string; state: string }>;
      index?: {
        url: string;
        fetched_at: string | null;
        services: number;
        error?: string;
        problems: Array<{ id?: string; message: string }>;
      };
    };
  };
  const ids = (c: Awaited<ReturnType<typeof catalog>>) => c.services.map((s) => `${s.id}:${s.source}`);

  test('without an index: the built-in catalog, no index status', async () => {
    const c = await catalog();
    assert.deepEqual(ids(c), ['calendar:builtin', 'email:builtin', 'files:builtin', 'webmail:builtin']);
    assert.equal(c.index, undefined);
  });

  test('store_index_url is validated (400 naming it)', async () => {
    for (const url of [
      'http://example.org/index.json',
      'https://u:p@example.org/i.json',
      'ftp://127.0.0.1/x',
      'nope',
    ]) {
      const res = await setUrl(url);
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.deepEqual(
        res.json().fields.map((f: { field: string }) => f.field),
        ['store_index_url'],
      );
    }
  });

  test('good entries join the catalog; hostile, build-based and colliding ones are reported', async () => {
    assert.equal((await setUrl(`${base}/index.json`)).statusCode, 200);
    const c = await catalog();
    assert.deepEqual(ids(c), [
      'calendar:builtin',
      'email:builtin',
      'files:builtin',
      'notes:index',
      'webmail:builtin',
    ]);
    assert.equal(c.services.find((s) => s.id === 'calendar')?.version, '1.0.0', 'the built-in one wins');
    assert.equal(c.index?.url, `${base}/index.json`);
    assert.equal(c.index?.services, 1);
    assert.equal(c.index?.error, undefined);
    assert.ok(c.index?.fetched_at);
    const problems = new Map(c.index?.problems.map((p) => [p.id, p.message]));
    assert.deepEqual([...problems.keys()].sort(), ['builder', 'calendar', 'hostile', 'sneaky']);
    assert.match(problems.get('builder')!, /by digest/);
    assert.match(problems.get('calendar')!, /built-in/);
    assert.match(problems.get('hostile')!, /privileged|network_mode/);
    assert.match(problems.get('sneaky')!, /volumes_from|unrecognized|Unrecognized/i);
  });

  test('in enforce, a remote service nobody trusted a key for is refused at once: 422 image_unverified', async () => {
    const res = await kit.app.inject({
      method: 'POST',
      url: '/api/services/catalog/notes/install',
      headers: authed(admin),
    });
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.json().error, 'image_unverified');
    assert.match(res.json().message, /no trusted public key/);
    assert.deepEqual(
      calls.filter((c) => c.startsWith('pull')),
      [],
      'nothing is pulled',
    );
  });

  test('with a trusted key that did not sign it (the registry has no signature): still 422', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const add = await kit.app.inject({
      method: 'POST',
      url: '/api/store/keys',
      payload: { pem },
      headers: authed(admin),
    });
    assert.equal(add.statusCode, 201, add.body);
    const res = await kit.app.inject({
      method: 'POST',
      url: '/api/services/catalog/notes/install',
      headers: authed(admin),
    });
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.json().error, 'image_unverified');
  });

  test('in warn, the remote image is pulled by digest after verification, then run by that digest', async () => {
    assert.equal(
      (
        await kit.app.inject({
          method: 'PUT',
          url: '/api/config',
          payload: { image_verification: 'warn' },
          headers: authed(admin),
        })
      ).statusCode,
      200,
    );
    const res = await kit.app.inject({
      method: 'POST',
      url: '/api/services/catalog/notes/install',
      headers: authed(admin),
    });
    assert.equal(res.statusCode, 202, res.body);
    await kit.cell.deps.store.idle();
    const ref = `${base.replace('http://', '')}/pic/notes@${DIGEST}`;
    assert.deepEqual(
      calls.filter((c) => !c.startsWith('other')),
      [`pull ${ref}`, `create xidx-cell-notes_main ${ref}`],
    );
    assert.equal((await catalog()).services.find((s) => s.id === 'notes')?.state, 'running');
  });

  test('a failing index leaves the built-in catalog (and installed services) and says why', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/big.json', /larger than/],
      ['/slow.json', /did not answer in time/],
      ['/other.json', /another origin/],
      ['/missing.json', /HTTP 500/],
      ['/broken.json', /not JSON/],
      ['/list.json', /"services" list/],
    ];
    for (const [path, why] of cases) {
      assert.equal((await setUrl(`${base}${path}`)).statusCode, 200);
      const c = await catalog();
      // notes stays listed: it is installed (from its recorded manifest), so it can be uninstalled.
      assert.deepEqual(
        ids(c),
        ['calendar:builtin', 'email:builtin', 'files:builtin', 'notes:index', 'webmail:builtin'],
        path,
      );
      const said = c.index?.error ?? c.index?.problems[0]?.message ?? '';
      assert.match(said, why, `${path}: ${JSON.stringify(c.index)}`);
    }
    assert.ok(!calls.includes('other host reached'), 'the redirect to another host was not followed');
  });

  test('a same-origin redirect is followed; clearing the URL drops the index', async () => {
    assert.equal((await setUrl(`${base}/same.json`)).statusCode, 200);
    const c = await catalog();
    assert.equal(c.index?.error, undefined, JSON.stringify(c.index));
    assert.equal(c.index?.services, 1);
    assert.equal((await setUrl('')).statusCode, 400, "'' is not a URL");
    assert.equal((await setUrl(null)).statusCode, 200);
    const cleared = await catalog();
    assert.equal(cleared.index, undefined);
    const config = await kit.app.inject({ method: 'GET', url: '/api/config', headers: authed(admin) });
    assert.equal('store_index_url' in config.json(), false);
    const un = await kit.app.inject({
      method: 'POST',
      url: '/api/services/catalog/notes/uninstall',
      headers: authed(admin),
    });
    assert.equal(un.statusCode, 202, un.body);
    await kit.cell.deps.store.idle();
    assert.deepEqual(ids(await catalog()), [
      'calendar:builtin',
      'email:builtin',
      'files:builtin',
      'webmail:builtin',
    ]);
  });
});

test("the repository's bundled keys folder parses (none is bundled today)", () => {
  const pems = loadBundledKeys();
  const service = new StoreKeysService({
    repo: { list: () => [], get: () => undefined, add: () => {}, remove: () => false },
    bundled: pems,
  });
  assert.equal(service.list().keys.length, pems.length);
});
