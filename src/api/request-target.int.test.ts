// The router and every policy hook read one canonical URL (canonical-url.ts). Over a real socket,
// because inject() parses URLs the WHATWG way and would never send an absolute-form request line.
// Each case is a spelling that once reached a handler past a policy that read the path differently.
import assert from 'node:assert/strict';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, makeKit } from './test-kit.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends one request line exactly as given (no client-side URL parsing) and reads the answer. */
function rawRequest(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const all: Record<string, string> = { host: `127.0.0.1:${port}`, connection: 'close', ...headers };
    if (body !== undefined) {
      all['content-type'] = 'application/json';
      all['content-length'] = String(Buffer.byteLength(body));
    }
    const head = Object.entries(all)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    sock.write(`${method} ${target} HTTP/1.1\r\n${head}\r\n${body ?? ''}`);
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      data += d;
    });
    sock.on('error', reject);
    sock.on('end', () => {
      const [headText = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...lines] = headText.split('\r\n');
      const hs: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) hs[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers: hs, body: rest.join('\r\n\r\n') });
    });
  });
}

/** Spellings with no single reading: refused with 400 before any route or policy runs. */
const REFUSED = [
  (port: number) => `http://evil.example/api/openapi.json`.replace('evil.example', `evil.example:${port}`),
  () => 'http://evil.example/api/config',
  () => 'HTTP://EVIL.EXAMPLE/API/CONFIG',
  () => '/api/setup%2f..%2f..%2fconfig',
  () => '/api/setup/..%2Fconfig',
  () => '/api%5cconfig',
  () => '/api/setup/..%5C..%5Cconfig',
  () => '/api\\config',
  () => '/api;x/config',
  () => '/api/config;jsessionid=1',
  () => '/api/setup/%2e%2e/config',
  () => '/api/setup/%2E%2E/config',
  () => '/api/setup/%252e%252e/config',
];

describe('request targets before setup', () => {
  let kit: Kit;
  let port: number;
  before(async () => {
    kit = await makeKit();
    await kit.app.listen({ host: '127.0.0.1', port: 0 });
    port = (kit.app.server.address() as AddressInfo).port;
  });
  after(() => kit.close());

  for (const make of REFUSED) {
    for (const method of ['GET', 'POST']) {
      test(`${method} ${make(0)} → 400 bad_request, never the handler`, async () => {
        const r = await rawRequest(port, method, make(port), {}, method === 'POST' ? '{}' : undefined);
        assert.equal(r.status, 400, r.body);
        assert.equal(JSON.parse(r.body).error, 'bad_request');
        assert.equal(r.headers['cache-control'], 'no-store');
        assert.match(r.headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
      });
    }
  }

  for (const target of [
    '//api/openapi.json',
    '/API/openapi.json',
    '/./api/openapi.json',
    '/x/../api/config',
  ]) {
    test(`GET ${target} is gated like its canonical form (428, no-store)`, async () => {
      const r = await rawRequest(port, 'GET', target);
      assert.ok(r.status === 428 || r.status === 404, `${r.status} ${r.body}`);
      if (!target.startsWith('/API')) assert.equal(r.status, 428, r.body);
      assert.equal(r.headers['cache-control'], 'no-store');
    });
  }
});

describe('request targets after setup', () => {
  let kit: Kit;
  let port: number;
  let admin: Login;
  const config = async () => (await kit.app.inject({ url: '/api/config', headers: authed(admin) })).json();
  const auditActions = async (): Promise<string[]> => {
    const r = await kit.app.inject({ url: '/api/logs/audit?limit=200', headers: authed(admin) });
    return r.json().items.map((i: { action: string }) => i.action);
  };

  before(async () => {
    kit = await makeKit();
    admin = await completeSetup(kit);
    await kit.app.listen({ host: '127.0.0.1', port: 0 });
    port = (kit.app.server.address() as AddressInfo).port;
  });
  after(() => kit.close());

  test('absolute form with the admin cookie, no CSRF token, a foreign Host and Origin: 400, nothing changed, no row', async () => {
    const beforeCfg = await config();
    const rowsBefore = (await auditActions()).length;
    for (const make of REFUSED) {
      const r = await rawRequest(
        port,
        'PUT',
        make(port),
        { cookie: admin.cookie, host: 'evil.example', origin: 'http://evil.example' },
        JSON.stringify({ identity: { timezone: 'UTC' } }),
      );
      assert.equal(r.status, 400, `${make(port)}: ${r.body}`);
    }
    assert.deepEqual(await config(), beforeCfg);
    assert.equal((await auditActions()).length, rowsBefore, 'refused targets write no audit row');
  });

  for (const target of ['//api/config', '///api//config', '/x/../api/config']) {
    test(`PUT ${target}: the Host check, Origin and CSRF checks see /api/config`, async () => {
      const body = JSON.stringify({ identity: { timezone: 'UTC' } });
      const foreignHost = await rawRequest(
        port,
        'PUT',
        target,
        { ...authed(admin), host: 'evil.example' },
        body,
      );
      assert.equal(foreignHost.status, 400, foreignHost.body);
      assert.equal(JSON.parse(foreignHost.body).error, 'invalid_host');
      const noCsrf = await rawRequest(port, 'PUT', target, { cookie: admin.cookie }, body);
      assert.equal(noCsrf.status, 403, noCsrf.body);
      assert.equal(JSON.parse(noCsrf.body).error, 'csrf_failed');
      const foreignOrigin = await rawRequest(
        port,
        'PUT',
        target,
        { ...authed(admin), origin: 'http://evil.example' },
        body,
      );
      assert.equal(foreignOrigin.status, 403, foreignOrigin.body);
      assert.equal(noCsrf.headers['cache-control'], 'no-store');
    });
  }

  test('a PUT through a non-canonical spelling is audited under the route pattern', async () => {
    const r = await rawRequest(
      port,
      'PUT',
      '//api/./config',
      authed(admin),
      JSON.stringify({ identity: { timezone: 'Europe/Paris' } }),
    );
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal((await config()).identity.timezone, 'Europe/Paris');
    assert.equal((await auditActions())[0], 'PUT /api/config');
  });

  test('upper-case spellings reach no handler and are still held to the API rules', async () => {
    const r = await rawRequest(
      port,
      'PUT',
      '/API/CONFIG',
      { cookie: admin.cookie },
      JSON.stringify({ identity: { timezone: 'UTC' } }),
    );
    assert.notEqual(r.status, 200, r.body);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal((await config()).identity.timezone, 'Europe/Paris');
  });
});
