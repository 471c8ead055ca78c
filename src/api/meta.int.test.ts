import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { allRoutes } from './routes/index.ts';
import { authed, completeSetup, type Kit, type Login, makeKit } from './test-kit.ts';

let kit: Kit;
let admin: Login;
before(async () => {
  kit = await makeKit();
  admin = await completeSetup(kit);
});
after(() => kit.close());

test('GET /health: status, version and setup state, no authentication', async () => {
  const r = await kit.app.inject({ url: '/health' });
  assert.equal(r.statusCode, 200);
  const body = r.json();
  assert.equal(body.status, 'ok', 'not_running is not degraded: pic serve runs without a data plane');
  assert.equal(body.setup_completed, true);
  assert.match(body.version, /^\d+\.\d+\.\d+/);
});

test('GET /api/services/status: the data plane reported as not running', async () => {
  const r = await kit.app.inject({ url: '/api/services/status', headers: authed(admin) });
  assert.equal(r.statusCode, 200);
  const body = r.json();
  assert.equal(body.data_plane, 'not_running');
  assert.ok(body.services.length >= 4);
  for (const s of body.services) assert.equal(s.state, 'not_running');
});

test('GET /api/openapi.json documents every route with its access rule', async () => {
  const r = await kit.app.inject({ url: '/api/openapi.json' });
  assert.equal(r.statusCode, 200);
  const doc = r.json();
  assert.equal(doc.openapi, '3.1.0');
  const ids = new Set<string>();
  for (const def of allRoutes) {
    const path = def.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const op = doc.paths[path]?.[def.method.toLowerCase()];
    assert.ok(op, `${def.method} ${def.url} is documented`);
    assert.deepEqual(op['x-access'], def.access === 'public' ? 'public' : [...def.access]);
    assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
    ids.add(op.operationId);
    if (def.body) assert.ok(op.requestBody, `${def.method} ${def.url} documents its body`);
  }
});
