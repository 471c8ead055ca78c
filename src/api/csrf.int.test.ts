// CSRF and cross-origin rules: a state-changing call made with a session needs the session's own
// X-CSRF-Token (auth/* and setup/* excepted, as the spec says), a same-origin Origin when one is sent,
// a JSON body and a Host that names this cell.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ADMIN_PASSWORD,
  authed,
  completeSetup,
  type Kit,
  type Login,
  login,
  makeKit,
  sessionCookieOf,
} from './test-kit.ts';

let kit: Kit;
let admin: Login;
before(async () => {
  kit = await makeKit();
  admin = await completeSetup(kit);
});
after(() => kit.close());

const put = (
  headers: Record<string, string>,
  payload: unknown = { identity: { timezone: 'Europe/Paris' } },
) => kit.app.inject({ method: 'PUT', url: '/api/config', headers, payload: payload as object });

const tz = () => kit.cell.deps.config.get().identity.timezone;

describe('X-CSRF-Token', () => {
  test('missing, empty, wrong or oversized token → 403 and nothing changes', async () => {
    const before = tz();
    for (const token of [undefined, '', 'wrong', `${admin.csrf}x`, admin.csrf.slice(1), 'x'.repeat(300)]) {
      const headers: Record<string, string> = { cookie: admin.cookie };
      if (token !== undefined) headers['x-csrf-token'] = token;
      const r = await put(headers);
      assert.equal(r.statusCode, 403, String(token));
      assert.equal(r.json().error, 'csrf_failed');
    }
    assert.equal(tz(), before);
  });

  test("another session's token → 403", async () => {
    const other = await login(kit.app, 'admin', ADMIN_PASSWORD);
    const r = await put({ cookie: admin.cookie, 'x-csrf-token': other.csrf });
    assert.equal(r.statusCode, 403);
    const ok = await put({ cookie: other.cookie, 'x-csrf-token': other.csrf });
    assert.equal(ok.statusCode, 200);
  });

  test('every state-changing method is checked (POST, PUT, DELETE)', async () => {
    for (const [method, url] of [
      ['POST', '/api/config/apply'],
      ['PUT', '/api/logs/levels'],
      ['DELETE', '/api/config'],
    ] as const) {
      const r = await kit.app.inject({ method, url, headers: { cookie: admin.cookie } });
      // DELETE /api/config does not exist: 404 is fine, it must not be a success.
      assert.ok(r.statusCode === 403 || r.statusCode === 404, `${method} ${url} → ${r.statusCode}`);
      if (r.statusCode === 403) assert.equal(r.json().error, 'csrf_failed');
    }
  });

  test('the right token passes', async () => {
    const r = await put(authed(admin));
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(tz(), 'Europe/Paris');
  });

  test('auth/* and setup/* need no token (per spec)', async () => {
    const s = await login(kit.app, 'admin', ADMIN_PASSWORD);
    const out = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { cookie: s.cookie },
    });
    assert.equal(out.statusCode, 200);
    const lg = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { cookie: admin.cookie },
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    assert.equal(lg.statusCode, 200);
    admin = { cookie: sessionCookieOf(lg)!, csrf: lg.json().csrf_token };
  });
});

describe('content types', () => {
  test('text/plain, form and multipart bodies → 415', async () => {
    for (const [type, body] of [
      ['text/plain', '{"identity":{"timezone":"UTC"}}'],
      ['application/x-www-form-urlencoded', 'identity=1'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
      ],
      ['application/xml', '<a/>'],
    ]) {
      const r = await kit.app.inject({
        method: 'PUT',
        url: '/api/config',
        headers: { ...authed(admin), 'content-type': type! },
        payload: body,
      });
      assert.equal(r.statusCode, 415, type);
      assert.equal(r.json().error, 'unsupported_media_type');
    }
  });

  test('text/plain is refused on exempt routes too (login CSRF)', async () => {
    const r = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    assert.equal(r.statusCode, 415);
  });

  test('application/json with a charset is accepted', async () => {
    const r = await kit.app.inject({
      method: 'PUT',
      url: '/api/config',
      headers: { ...authed(admin), 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify({ identity: { timezone: 'UTC' } }),
    });
    assert.equal(r.statusCode, 200, r.body);
  });
});

describe('Origin and Host', () => {
  test('a foreign or null Origin → 403, even with the right token', async () => {
    for (const origin of [
      'https://evil.example',
      'null',
      'http://localhost:8080',
      'http://home.cell.evil.example',
    ]) {
      const r = await put(authed(admin, { origin }));
      assert.equal(r.statusCode, 403, origin);
      assert.equal(r.json().error, 'csrf_failed');
    }
  });

  test('the same Origin passes', async () => {
    const r = await put(authed(admin, { origin: 'http://localhost:80', host: 'localhost:80' }));
    assert.equal(r.statusCode, 200, r.body);
  });

  test('exempt routes are still Origin-checked', async () => {
    for (const [url, payload] of [
      ['/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD }],
      ['/api/auth/logout', undefined],
      ['/api/auth/password', { current_password: ADMIN_PASSWORD, new_password: 'y'.repeat(16) }],
      ['/api/setup/complete', { token: 'x' }],
    ] as const) {
      const r = await kit.app.inject({
        method: 'POST',
        url,
        headers: { cookie: admin.cookie, origin: 'https://evil.example' },
        ...(payload ? { payload } : {}),
      });
      assert.equal(r.statusCode, 403, url);
    }
    assert.equal(
      (await kit.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } })).statusCode,
      200,
    );
  });

  test('a foreign Host → 400 (DNS rebinding), on reads too', async () => {
    for (const host of ['evil.example', 'evil.example:80', 'home.cell.evil.example']) {
      const r = await kit.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie, host } });
      assert.equal(r.statusCode, 400, host);
      assert.equal(r.json().error, 'invalid_host');
    }
    const w = await put(authed(admin, { host: 'evil.example' }));
    assert.equal(w.statusCode, 400);
  });

  test("the cell's own names, IPs and localhost are accepted", async () => {
    for (const host of [
      'home.cell',
      'api.home.cell',
      '192.168.1.10:8081',
      '127.0.0.1:3000',
      '[::1]:3000',
      'localhost',
    ]) {
      const r = await kit.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie, host } });
      assert.equal(r.statusCode, 200, host);
    }
  });
});

describe('security headers', () => {
  test('on API answers, errors, 404s and /health', async () => {
    for (const url of ['/health', '/api/auth/me', '/api/nothing', '/api/config']) {
      const r = await kit.app.inject({ url, headers: { cookie: admin.cookie } });
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.match(csp, /default-src 'self'/, url);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(r.headers['referrer-policy'], 'no-referrer', url);
      assert.equal(r.headers['x-frame-options'], 'DENY', url);
    }
    const api = await kit.app.inject({ url: '/api/config', headers: { cookie: admin.cookie } });
    assert.equal(api.headers['cache-control'], 'no-store');
  });
});
