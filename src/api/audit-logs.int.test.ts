import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { LOGIN_LIMITS } from '../core/auth/login-limits.ts';
import type { AnonymousRefusal, AuditRow } from '../schema/audit.ts';
import {
  authed,
  completeSetup,
  type Kit,
  type Login,
  login,
  makeKit,
  sessionCookieOf,
  setupBody,
} from './test-kit.ts';

const auditRows = (kit: Kit) =>
  kit.cell.db
    .prepare('SELECT * FROM audit ORDER BY id')
    .all()
    .map((r) => ({ ...r }) as unknown as AuditRow);
/** Anonymous refusals, the most recently changed row first. */
const refusalRows = (kit: Kit) =>
  kit.cell.db
    .prepare('SELECT * FROM audit_anon ORDER BY rowid DESC')
    .all()
    .map((r) => ({ ...r }) as unknown as AnonymousRefusal);
const refusalCount = (kit: Kit) =>
  (kit.cell.db.prepare('SELECT coalesce(sum(count), 0) AS n FROM audit_anon').get() as { n: number }).n;

describe('audit trail', () => {
  let kit: Kit;
  let admin: Login;
  before(async () => {
    kit = await makeKit();
    admin = await completeSetup(kit);
  });
  after(() => kit.close());

  test('every state-changing request writes one row: user, role, source, action, outcome', async () => {
    // A step either writes one trail row (`want`), or — refused without a session — adds one to its
    // source's count of anonymous refusals (`anonymous`), never a trail row.
    const steps: Array<{
      req: InjectOptions;
      want?: Partial<AuditRow>;
      anonymous?: Partial<AnonymousRefusal>;
    }> = [
      {
        req: {
          method: 'PUT',
          url: '/api/config',
          headers: authed(admin),
          payload: { identity: { timezone: 'UTC' } },
        },
        want: {
          username: 'admin',
          role: 'admin',
          action: 'PUT /api/config',
          outcome: 'success',
          status: 200,
          target: 'identity',
        },
      },
      {
        req: {
          method: 'PUT',
          url: '/api/config',
          headers: authed(admin),
          payload: { identity: { timezone: 'x' } },
        },
        want: { username: 'admin', action: 'PUT /api/config', outcome: 'failure', status: 400 },
      },
      {
        req: { method: 'PUT', url: '/api/config', headers: { cookie: admin.cookie }, payload: {} },
        want: { username: 'admin', action: 'PUT /api/config', outcome: 'denied', status: 403 },
      },
      {
        req: { method: 'POST', url: '/api/config/apply', payload: {}, remoteAddress: '192.168.3.3' },
        anonymous: { source: '192.168.3.3', last_action: 'POST /api/config/apply', last_status: 401 },
      },
      {
        req: {
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'admin', password: 'wrong password' },
        },
        anonymous: { last_action: 'POST /api/auth/login', last_target: 'user=admin', last_status: 401 },
      },
      {
        req: {
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'ghost', password: 'wrong password' },
        },
        anonymous: { last_action: 'POST /api/auth/login', last_target: 'user=ghost', last_status: 401 },
      },
      {
        req: {
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'admin', password: 'correct horse battery staple' },
        },
        want: {
          username: 'admin',
          role: 'admin',
          action: 'POST /api/auth/login',
          outcome: 'success',
          status: 200,
        },
      },
      {
        req: {
          method: 'PUT',
          url: '/api/logs/levels',
          headers: authed(admin),
          payload: { levels: { dns: 'warn' } },
        },
        want: { username: 'admin', action: 'PUT /api/logs/levels', outcome: 'success' },
      },
      {
        req: { method: 'POST', url: '/api/setup/complete', payload: setupBody('late-token') },
        anonymous: { last_action: 'POST /api/setup/complete', last_status: 409 },
      },
      {
        req: { method: 'DELETE', url: '/api/nothing', headers: authed(admin) },
        want: { action: 'DELETE (unmatched)', outcome: 'failure', status: 404 },
      },
      {
        req: { method: 'POST', url: '/api/auth/logout', headers: { cookie: admin.cookie } },
        want: { username: 'admin', action: 'POST /api/auth/logout', outcome: 'success' },
      },
    ];
    for (const step of steps) {
      const before = auditRows(kit).length;
      const refusalsBefore = refusalCount(kit);
      const res = await kit.app.inject(step.req);
      const rows = auditRows(kit);
      if (step.anonymous) {
        assert.equal(rows.length, before, `${step.req.method} ${step.req.url}: no trail row`);
        assert.equal(refusalCount(kit), refusalsBefore + 1, `${step.req.method} ${step.req.url}: counted`);
        const last = refusalRows(kit)[0]!;
        for (const [k, v] of Object.entries(step.anonymous))
          assert.deepEqual(last[k as keyof AnonymousRefusal], v, `${k} in ${JSON.stringify(last)}`);
        continue;
      }
      assert.equal(
        rows.length,
        before + 1,
        `${step.req.method} ${step.req.url} → ${res.statusCode}: one row`,
      );
      const row = rows.at(-1)!;
      for (const [k, v] of Object.entries(step.want ?? {})) {
        assert.deepEqual(
          row[k as keyof AuditRow],
          v,
          `${step.req.method} ${step.req.url}: ${k} in ${JSON.stringify(row)}`,
        );
      }
      assert.match(row.ts, /^\d{4}-\d\d-\d\dT/);
      assert.ok(row.source, 'source is set');
    }
    // Reads are not audited.
    const before = auditRows(kit).length;
    await kit.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } });
    await kit.app.inject({ url: '/health' });
    assert.equal(auditRows(kit).length, before);
  });

  test('a rate-limited login is counted with its 429 among the anonymous refusals', async () => {
    const before = auditRows(kit).length;
    for (let i = 0; i <= LOGIN_LIMITS.perAccountSource; i++) {
      await kit.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'limited-user', password: 'nope' },
        remoteAddress: '10.44.0.1',
      });
    }
    // Counted per minute: a loop that crosses a minute's end has two rows (newest first).
    const rows = refusalRows(kit).filter((r) => r.source === '10.44.0.1');
    assert.equal(rows[0]!.last_status, 429);
    assert.equal(
      rows.reduce((n, r) => n + r.count, 0),
      LOGIN_LIMITS.perAccountSource + 1,
    );
    assert.equal(auditRows(kit).length, before, 'no trail rows for anonymous noise');
  });

  test('GET /api/logs/audit: newest first, filters and paging', async () => {
    admin = await login(kit.app, 'admin', 'correct horse battery staple');
    const q = async (query: string) => {
      const r = await kit.app.inject({ url: `/api/logs/audit?${query}`, headers: authed(admin) });
      assert.equal(r.statusCode, 200, `${query}: ${r.body}`);
      return r.json() as { total: number; items: AuditRow[] };
    };
    const all = await q('limit=500');
    assert.equal(all.total, auditRows(kit).length);
    assert.ok(all.items[0]!.id > all.items.at(-1)!.id, 'newest first');
    const denied = await q('outcome=denied&limit=500');
    assert.ok(denied.items.length > 0 && denied.items.every((r) => r.outcome === 'denied'));
    const byUser = await q('username=admin');
    assert.ok(byUser.items.every((r) => r.username === 'admin'));
    const byAction = await q('action=logs/levels');
    assert.ok(byAction.items.length >= 1 && byAction.items.every((r) => r.action.includes('logs/levels')));
    const search = await q('q=identity');
    assert.ok(search.items.length >= 1 && search.items.every((r) => r.target?.includes('identity')));
    const page1 = await q('limit=2&offset=0');
    const page2 = await q('limit=2&offset=2');
    assert.equal(page1.items.length, 2);
    assert.notEqual(page1.items[0]!.id, page2.items[0]!.id);
    assert.equal(page1.total, all.total);
    const future = await q(`since=${encodeURIComponent('2999-01-01T00:00:00Z')}`);
    assert.equal(future.total, 0);
    for (const bad of [
      'limit=0',
      'limit=501',
      'offset=-1',
      'outcome=maybe',
      'since=yesterday',
      'bogus=1',
      'limit=abc',
    ]) {
      const r = await kit.app.inject({ url: `/api/logs/audit?${bad}`, headers: authed(admin) });
      assert.equal(r.statusCode, 400, bad);
      assert.ok(r.json().fields.length >= 1, bad);
    }
  });
});

describe('logs', () => {
  let kit: Kit;
  let admin: Login;
  before(async () => {
    kit = await makeKit();
    admin = await completeSetup(kit);
  });
  after(() => kit.close());

  const apiLog = () => {
    kit.cell.deps.logs.flush(); // request lines are buffered (at most FLUSH_MS) before they reach the file
    return readFileSync(join(kit.cell.paths.logs, 'api.log'), 'utf8');
  };
  const setLevels = (levels: Record<string, string>) =>
    kit.app.inject({ method: 'PUT', url: '/api/logs/levels', headers: authed(admin), payload: { levels } });

  test('levels change at run time: a line below the level appears only after lowering it', async () => {
    assert.equal((await setLevels({ api: 'warn' })).statusCode, 200);
    await kit.app.inject({ url: '/api/setup/status?probe=before', headers: { cookie: admin.cookie } });
    await kit.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } });
    assert.ok(!apiLog().includes('"path":"/api/auth/me"'), 'info lines are not written at warn');
    kit.cell.deps.logs.get('api').debug('debug-probe-before');

    const r = await setLevels({ api: 'debug' });
    assert.equal(r.json().levels.api, 'debug');
    assert.equal(kit.cell.deps.logs.get('api').level, 'debug');
    await kit.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } });
    assert.ok(apiLog().includes('"path":"/api/auth/me"'), 'written once the level allows it');
    kit.cell.deps.logs.get('api').debug('debug-probe-after');
    assert.ok(!apiLog().includes('debug-probe-before'), 'a debug line before the change is dropped');
    assert.ok(apiLog().includes('debug-probe-after'), 'a debug line after the change is written');

    const got = await kit.app.inject({ url: '/api/logs/levels', headers: authed(admin) });
    assert.equal(got.json().levels.api, 'debug');
    assert.equal(got.json().levels.dns, 'info');
    assert.ok(got.json().services.includes('wireguard'));
    assert.equal(kit.cell.deps.config.get().logging.levels.api, 'debug', 'kept in the configuration');
  });

  test('bad levels and services are named', async () => {
    const r = await setLevels({ api: 'verbose', nosuch: 'info' });
    assert.equal(r.statusCode, 400);
    const f = r
      .json()
      .fields.map((x: { field: string }) => x.field)
      .sort();
    assert.deepEqual(f, ['levels.api', 'levels.nosuch']);
  });

  test('GET /api/logs finds lines by text, service and level', async () => {
    kit.cell.deps.logs.get('dns').warn({ zone: 'home.cell' }, 'unique-needle-7781');
    kit.cell.deps.logs.get('dns').info('other line');
    const find = async (query: string) => {
      const r = await kit.app.inject({ url: `/api/logs?${query}`, headers: authed(admin) });
      assert.equal(r.statusCode, 200, r.body);
      return r.json().items as Array<{ service: string; level: string; msg: string }>;
    };
    const hits = await find('q=unique-needle-7781');
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.service, 'dns');
    assert.equal(hits[0]!.level, 'warn');
    assert.equal((await find('q=unique-needle-7781&service=api')).length, 0);
    assert.equal((await find('q=unique-needle-7781&level=error')).length, 0);
    assert.ok((await find('service=dns&limit=5')).every((l) => l.service === 'dns'));
    assert.equal((await find('limit=1')).length, 1);
    for (const bad of ['service=nope', 'level=loud', 'limit=0', 'limit=5000', 'x=1']) {
      const r = await kit.app.inject({ url: `/api/logs?${bad}`, headers: authed(admin) });
      assert.equal(r.statusCode, 400, bad);
    }
  });
});

describe('secrets appear nowhere', () => {
  test('markers in every secret: not in logs, audit rows, error bodies or the database', async () => {
    const kit = await makeKit();
    try {
      kit.cell.deps.logs.setLevel('api', 'trace');
      kit.cell.deps.logs.setLevel('auth', 'trace');
      const M = 'QZXMK7'; // short enough to sit inside a too-short password
      const secrets: string[] = [];
      const bodies: string[] = [];
      const call = async (req: InjectOptions) => {
        const r = await kit.app.inject(req);
        bodies.push(r.body, JSON.stringify(r.headers.location ?? ''));
        return r;
      };
      const token = kit.cell.deps.setup.issueToken()!;
      secrets.push(token);
      const adminPw = `${M}-admin-password-1`;
      secrets.push(adminPw);
      // Failing and succeeding attempts, each carrying a secret.
      await call({
        method: 'POST',
        url: '/api/setup/complete',
        payload: setupBody(`${M}-wrong-token`, { admin_password: adminPw }),
      });
      secrets.push(`${M}-wrong-token`);
      await call({
        method: 'POST',
        url: '/api/setup/complete',
        payload: setupBody(token, { admin_password: `${M}-s` }),
      });
      secrets.push(`${M}-s`);
      const done = await call({
        method: 'POST',
        url: '/api/setup/complete',
        payload: setupBody(token, { admin_password: adminPw }),
      });
      assert.equal(done.statusCode, 201);
      const s0 = sessionCookieOf(done)!;
      secrets.push(s0.split('=')[1]!, done.json().csrf_token);
      await call({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'admin', password: `${M}-bad-login` },
      });
      secrets.push(`${M}-bad-login`);
      await call({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'admin', password: `${M}-x`.repeat(200) },
      });
      const lg = await call({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'admin', password: adminPw },
      });
      const s1 = { cookie: sessionCookieOf(lg)!, csrf: lg.json().csrf_token };
      secrets.push(s1.cookie.split('=')[1]!, s1.csrf);
      await call({
        method: 'PUT',
        url: '/api/config',
        headers: { cookie: s1.cookie, 'x-csrf-token': `${M}-csrf` },
        payload: {},
      });
      secrets.push(`${M}-csrf`);
      const newPw = `${M}-new-password-2`;
      secrets.push(newPw);
      await call({
        method: 'POST',
        url: '/api/auth/password',
        headers: authed(s1),
        payload: { current_password: `${M}-not-current`, new_password: newPw },
      });
      secrets.push(`${M}-not-current`);
      await call({
        method: 'POST',
        url: '/api/auth/password',
        headers: authed(s1),
        payload: { current_password: adminPw, new_password: `${M}-sh` },
      });
      const ch = await call({
        method: 'POST',
        url: '/api/auth/password',
        headers: authed(s1),
        payload: { current_password: adminPw, new_password: newPw },
      });
      assert.equal(ch.statusCode, 200);
      const s2 = sessionCookieOf(ch)!;
      secrets.push(s2.split('=')[1]!, ch.json().csrf_token);
      await call({ url: '/api/auth/me', headers: { cookie: s2 } });
      // Two-factor: the TOTP secret and the recovery codes go to no log or audit row, and recovery codes
      // and wrong codes are not stored (the secret itself must be, to check codes).
      const s2h = { cookie: s2, 'x-csrf-token': ch.json().csrf_token };
      const setup = await call({ method: 'POST', url: '/api/auth/totp/setup', headers: s2h });
      const totpSecret: string = setup.json().secret;
      secrets.push(totpSecret);
      const totp = new TOTP({ secret: Secret.fromBase32(totpSecret) });
      await call({
        method: 'POST',
        url: '/api/auth/totp/enable',
        headers: s2h,
        payload: { password: newPw, code: `${M}${M}abcd` }, // recovery-code shaped: reaches the check
      });
      secrets.push(`${M}${M}abcd`);
      const en = await call({
        method: 'POST',
        url: '/api/auth/totp/enable',
        headers: s2h,
        payload: { password: newPw, code: totp.generate() },
      });
      assert.equal(en.statusCode, 200);
      const recovery: string[] = en.json().recovery_codes;
      secrets.push(...recovery);
      await call({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'admin', password: newPw, code: `${M}${M}efgh` },
      });
      secrets.push(`${M}${M}efgh`);
      const viaRecovery = await call({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'admin', password: newPw, code: recovery[0] },
      });
      assert.equal(viaRecovery.statusCode, 200);
      secrets.push(sessionCookieOf(viaRecovery)!.split('=')[1]!, viaRecovery.json().csrf_token);
      await call({
        method: 'POST',
        url: '/api/auth/totp/disable',
        headers: s2h,
        payload: { password: `${M}-disable-pw`, code: recovery[1] },
      });
      secrets.push(`${M}-disable-pw`);
      await call({ method: 'POST', url: '/api/auth/logout', headers: { cookie: s2 } });
      // Malformed JSON carrying a secret: the parse error must not echo the body.
      await call({
        method: 'POST',
        url: '/api/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: `{"username":"admin","password":"${M}-malformed"`,
      });
      secrets.push(`${M}-malformed`);

      const logText = readdirSync(kit.cell.paths.logs)
        .map((f) => readFileSync(join(kit.cell.paths.logs, f), 'utf8'))
        .join('\n');
      assert.ok(logText.includes('"msg":"request"'), 'the logs were written');
      const auditText = JSON.stringify(auditRows(kit));
      const bodyText = bodies.join('\n');
      const dbBytes =
        readFileSync(kit.cell.paths.db).toString('latin1') +
        readFileSync(`${kit.cell.paths.db}-wal`).toString('latin1');
      for (const secret of secrets) {
        assert.ok(!logText.includes(secret), `log holds ${secret}`);
        assert.ok(!auditText.includes(secret), `audit holds ${secret}`);
        assert.ok(!logText.includes(M), 'log holds a marker');
        assert.ok(!auditText.includes(M), 'audit holds a marker');
      }
      for (const secret of secrets.filter((x) => x.includes(M) || x === token)) {
        assert.ok(!bodyText.includes(secret), `an answer echoes ${secret}`);
        assert.ok(!dbBytes.includes(secret), `the database holds ${secret}`);
      }
      for (const code of recovery) {
        assert.ok(!dbBytes.includes(code), 'a recovery code is stored as a hash only');
        assert.ok(!dbBytes.includes(code.replaceAll('-', '')));
      }
      // Session ids live only as hashes (CSRF tokens are stored: they are bound to the row).
      for (const id of [s0, s1.cookie, s2].map((c) => c.split('=')[1]!)) assert.ok(!dbBytes.includes(id));
    } finally {
      await kit.close();
    }
  });
});
