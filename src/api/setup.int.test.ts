import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { HOSTILE_STRINGS } from '../schema/hostile.ts';
import { ADMIN_PASSWORD, type Kit, makeKit, sessionCookieOf, setCookies, setupBody } from './test-kit.ts';

let kit: Kit;
beforeEach(async () => {
  kit = await makeKit();
});
afterEach(() => kit.close());

const complete = (payload: unknown, headers: Record<string, string> = {}) =>
  kit.app.inject({ method: 'POST', url: '/api/setup/complete', payload: payload as object, headers });

const fieldsOf = (body: { fields?: Array<{ field: string }> }) =>
  [...new Set((body.fields ?? []).map((f) => f.field))].sort();

describe('POST /api/setup/complete', () => {
  test('each bad field is named in one 400, and nothing is created', async () => {
    const token = kit.cell.deps.setup.issueToken()!;
    const r = await complete({
      token,
      cell_name: 'Not A Label',
      domain_mode: 'satellite',
      timezone: 'Mars/Olympus',
      admin_password: 'short',
      services: ['email', 'bitcoin-miner'],
      role: 'admin',
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error, 'validation_failed');
    assert.deepEqual(fieldsOf(r.json()), [
      'admin_password',
      'cell_name',
      'domain_mode',
      'role',
      'services.1',
      'timezone',
    ]);
    assert.equal(kit.cell.users.count(), 0);
    assert.equal(kit.cell.deps.setup.isCompleted(), false);
  });

  test('missing fields are named; custom mode needs a domain; the password needs 12 characters', async () => {
    const token = kit.cell.deps.setup.issueToken()!;
    const r = await complete({ token });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(fieldsOf(r.json()), ['admin_password', 'cell_name', 'domain_mode', 'timezone']);
    const c = await complete(setupBody(token, { domain_mode: 'custom' }));
    assert.deepEqual(fieldsOf(c.json()), ['domain']);
    const p = await complete(setupBody(token, { admin_password: 'x'.repeat(11) }));
    assert.deepEqual(fieldsOf(p.json()), ['admin_password']);
    const d = await complete(setupBody(token, { domain: 'elsewhere.example.org' }));
    assert.deepEqual(fieldsOf(d.json()), ['domain'], 'a domain outside custom mode');
  });

  test('hostile strings in every text field are refused with 400', async () => {
    const token = kit.cell.deps.setup.issueToken()!;
    for (const h of HOSTILE_STRINGS) {
      for (const field of ['cell_name', 'timezone', 'domain_mode']) {
        const r = await complete(setupBody(token, { [field]: h }));
        assert.equal(r.statusCode, 400, `${field}=${JSON.stringify(h)}`);
        assert.deepEqual(fieldsOf(r.json()), [field]);
      }
      const d = await complete(setupBody(token, { domain_mode: 'custom', domain: h }));
      assert.deepEqual(fieldsOf(d.json()), ['domain'], JSON.stringify(h));
    }
    assert.equal(kit.cell.users.count(), 0);
  });

  test('wrong token: 403, then 429 with Retry-After once the limit is reached, even with the right one', async () => {
    const token = kit.cell.deps.setup.issueToken()!;
    for (let i = 0; i < 10; i++) {
      const r = await complete(setupBody(`wrong-${i}`));
      assert.equal(r.statusCode, 403);
      assert.equal(r.json().error, 'invalid_setup_token');
    }
    const limited = await complete(setupBody(token));
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error, 'rate_limited');
    const wait = Number(limited.headers['retry-after']);
    assert.ok(wait > 0 && wait <= 15 * 60, `Retry-After ${wait}`);
    assert.equal(kit.cell.users.count(), 0);
    // Another source address is not locked out by this one.
    const other = await kit.app.inject({
      method: 'POST',
      url: '/api/setup/complete',
      payload: setupBody(token),
      remoteAddress: '192.168.1.77',
    });
    assert.equal(other.statusCode, 201);
  });

  test('success: 201, admin created, session cookie HttpOnly + SameSite=Strict, then 409', async () => {
    const token = kit.cell.deps.setup.issueToken()!;
    const r = await complete(setupBody(token, { services: ['email', 'calendar'] }));
    assert.equal(r.statusCode, 201, r.body);
    const body = r.json();
    assert.equal(body.completed, true);
    assert.equal(body.username, 'admin');
    assert.equal(body.role, 'admin');
    assert.match(body.csrf_token, /^[A-Za-z0-9_-]{40,}$/);
    const cookie = setCookies(r).find((c) => /^pic_session=[^;]+/.test(c))!;
    assert.ok(cookie, String(setCookies(r)));
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\//);
    assert.doesNotMatch(cookie, /; Secure/, 'plain HTTP: no Secure (the browser would drop it)');

    const me = await kit.app.inject({ url: '/api/auth/me', headers: { cookie: sessionCookieOf(r)! } });
    assert.deepEqual(me.json(), {
      username: 'admin',
      role: 'admin',
      csrf_token: body.csrf_token,
      totp_enabled: false,
      cell_name: 'home',
    });
    const cfg = kit.cell.deps.config.get().identity;
    assert.equal(cfg.cell_name, 'home');
    assert.equal(cfg.domain, 'home.cell');
    assert.equal(cfg.timezone, 'Europe/Berlin');

    const again = await complete(setupBody(token));
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error, 'setup_completed');
    assert.equal(kit.cell.deps.setup.issueToken(), undefined, 'no token after setup');
    assert.equal(kit.cell.users.count(), 1);
  });

  test('two concurrent completes: exactly one 201, one 409, one admin', async () => {
    const token = kit.cell.deps.setup.issueToken()!;
    const results = await Promise.all([
      complete(setupBody(token, { cell_name: 'first' })),
      complete(setupBody(token, { cell_name: 'second', admin_password: 'another long password' })),
    ]);
    const codes = results.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [201, 409]);
    const rows = kit.cell.db
      .prepare('SELECT username, role FROM users')
      .all()
      .map((r) => ({ ...r }));
    assert.deepEqual(rows, [{ username: 'admin', role: 'admin' }]);
    const winner = results.find((r) => r.statusCode === 201)!;
    const loser = results.find((r) => r.statusCode === 409)!;
    assert.equal(sessionCookieOf(loser), undefined, 'the loser gets no session');
    const me = await kit.app.inject({ url: '/api/auth/me', headers: { cookie: sessionCookieOf(winner)! } });
    assert.equal(me.statusCode, 200);
    assert.equal(kit.cell.db.prepare('SELECT count(*) AS n FROM sessions').get()?.n, 1);
  });

  test('many concurrent completes still make one admin', async () => {
    const token = kit.cell.deps.setup.issueToken()!;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => complete(setupBody(token, { cell_name: `cell${i}` }))),
    );
    assert.equal(results.filter((r) => r.statusCode === 201).length, 1);
    assert.equal(results.filter((r) => r.statusCode === 409).length, 5);
    assert.equal(kit.cell.users.count(), 1);
  });

  test('the setup token is stored only as a hash: its bytes are in no file of the data dir', async () => {
    const token = kit.cell.deps.setup.issueToken()!;
    const wrong = await complete(setupBody(`${token}x`));
    assert.equal(wrong.statusCode, 403);
    const grep = () => {
      const dir = kit.cell.paths.data;
      const hits: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) walk(p);
          // Not the -shm: closing a descriptor of it would drop SQLite's POSIX locks in this process.
          else if (!e.name.endsWith('-shm')) {
            const bytes = readFileSync(p);
            for (const needle of [token, token.replaceAll('-', ''), ADMIN_PASSWORD])
              if (bytes.includes(needle)) hits.push(`${p}: ${needle === token ? 'token' : 'other'}`);
          }
        }
      };
      walk(dir);
      return hits;
    };
    assert.deepEqual(grep(), [], 'before completing');
    assert.equal((await complete(setupBody(token))).statusCode, 201);
    assert.deepEqual(grep(), [], 'after completing (db, WAL, logs)');
  });

  test('a re-issued token replaces the old one', async () => {
    const old = kit.cell.deps.setup.issueToken()!;
    const fresh = kit.cell.deps.setup.issueToken()!;
    assert.notEqual(old, fresh);
    assert.match(fresh, /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    assert.equal((await complete(setupBody(old))).statusCode, 403);
    // Tokens are typed by people: surrounding space and upper case are forgiven.
    assert.equal((await complete(setupBody(` ${fresh.toUpperCase()} `))).statusCode, 201);
  });
});
