// Until setup completes, every /api path but /api/setup/* answers 428 — however the path is spelled.
// The tricky spellings go over a real socket: inject() parses URLs the WHATWG way and would resolve
// `%2e%2e` before the server saw it.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { defineRoute } from './route.ts';
import { allRoutes } from './routes/index.ts';
import { completeSetup, type Kit, makeKit } from './test-kit.ts';

// A parameterised route like the ones later capabilities add (/api/peers/:name).
const paramRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/things/:name',
    access: ['admin'],
    tag: 'test',
    summary: 'test',
    params: z.object({ name: z.string() }),
    handler: ({ params }) => params,
  }),
];

const TRICKY = [
  '/api/peers',
  '/api/config',
  '/api/./peers',
  '/api/%2e/peers',
  '/api/%2e%2e/peers',
  '/api/%2E%2E/peers',
  '/api/%252e%252e/peers',
  '//api/peers',
  '///api/config',
  '/api/setup/../peers',
  '/api/setup/%2e%2e/config',
  '/api/setup/..%2fconfig',
  '/api/setup/%252e%252e/config',
  '/API/peers',
  '/Api/Config',
  '/API/SETUP/../config',
  '/api;x/peers',
  '/api/setup;/../config',
  '/api\\peers',
  '/%61pi/config',
  '/api',
  '/api/',
  '/api/setup',
  '/api/auth/me',
  '/api/logs/audit',
  '/api/things/..%2fsetup%2fstatus',
  '/api/things/%2e%2e%2fsetup%2fstatus',
  '/x/../api/config',
];

/** Spellings with no single reading (encoded separators or dots, `;`, `\\`): 400 before any policy. */
const UNREADABLE = (path: string) => /%2e|%2f|%5c|%25|;|\\/i.test(path);

function rawGet(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('setup gate (before setup)', () => {
  let kit: Kit;
  let port: number;
  before(async () => {
    kit = await makeKit({ routes: [...allRoutes, ...paramRoutes] });
    await kit.app.listen({ host: '127.0.0.1', port: 0 });
    port = (kit.app.server.address() as AddressInfo).port;
  });
  after(() => kit.close());

  for (const path of TRICKY) {
    // No POST route exists under /api/things: that path normalises into /api/setup/ and is a plain 404.
    for (const method of path.startsWith('/api/things/') ? ['GET'] : ['GET', 'POST']) {
      const refused = UNREADABLE(path);
      test(`${method} ${path} → ${refused ? '400 bad_request' : '428 setup_required'}`, async () => {
        const r = await rawGet(port, path, method);
        if (refused) {
          assert.equal(r.status, 400, r.body);
          assert.equal(JSON.parse(r.body).error, 'bad_request');
          return;
        }
        assert.equal(r.status, 428, r.body);
        assert.deepEqual(JSON.parse(r.body), { error: 'setup_required', redirect: '/setup' });
      });
    }
  }

  test('the same through inject() (where its URL parser leaves the path as sent)', async () => {
    for (const url of TRICKY.filter((p) => !/%2e/i.test(p))) {
      const r = await kit.app.inject({ url });
      // inject() may resolve `;/..` itself before sending: refused either way, never answered.
      assert.ok(UNREADABLE(url) ? [400, 428].includes(r.statusCode) : r.statusCode === 428, url);
    }
  });

  test('/health and /api/setup/status answer', async () => {
    const h = await kit.app.inject({ url: '/health' });
    assert.equal(h.statusCode, 200);
    assert.equal(h.json().setup_completed, false);
    const s = await kit.app.inject({ url: '/api/setup/status' });
    assert.equal(s.statusCode, 200);
    assert.deepEqual(s.json(), { completed: false });
    assert.equal((await kit.app.inject({ url: '/api/setup/options' })).statusCode, 200);
  });

  test('a URL the router cannot decode is a 400 in the usual error shape', async () => {
    const r = await rawGet(port, '/api/%zz');
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error, 'bad_request');
  });
});

describe('setup gate (after setup)', () => {
  let kit: Kit;
  before(async () => {
    kit = await makeKit();
    await completeSetup(kit);
  });
  after(() => kit.close());

  test('API paths answer normally: 401 without a session, 404 for unknown ones', async () => {
    assert.equal((await kit.app.inject({ url: '/api/config' })).statusCode, 401);
    const nf = await kit.app.inject({ url: '/api/nothing-here' });
    assert.equal(nf.statusCode, 404);
    assert.equal(nf.json().error, 'not_found');
    assert.deepEqual((await kit.app.inject({ url: '/api/setup/status' })).json(), { completed: true });
  });
});
