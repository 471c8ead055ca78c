// Two-factor login (issue 9 §8) through inject(): setup, enable, disable, login without / with a wrong /
// with a right / with a replayed code, recovery codes once, the login limits, a peer account, the
// /me flag. Codes are made with otpauth from the secret the API hands out, for explicit 30 s steps so a
// test never depends on where in a step it runs (the API accepts the previous, current and next step).
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { LOGIN_LIMITS } from '../core/auth/login-limits.ts';
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

const PEER_PASSWORD = 'peer password 12345';
const STEP_MS = 30_000;

/** The code of `secret` for the step `offset` steps from `base` (a step number). */
const codeAt = (secret: string, step: number) =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({
    timestamp: step * STEP_MS,
  });
const stepNow = () => Math.floor(Date.now() / STEP_MS);

/** `n` six-digit codes that are right for none of the steps around `step`: wrong for sure. */
function wrongCodes(secret: string, step: number, n: number): string[] {
  const right = new Set([-2, -1, 0, 1, 2, 3].map((d) => codeAt(secret, step + d)));
  const out: string[] = [];
  for (let c = 100000; out.length < n; c++) if (!right.has(String(c))) out.push(String(c));
  return out;
}

interface Enabled {
  secret: string;
  codes: string[];
  /** The step whose code enabled two-factor: that code is spent. */
  step: number;
  session: Login;
}

async function enableFor(kit: Kit, username: string, password: string): Promise<Enabled> {
  const session = await login(kit.app, username, password);
  const setup = await kit.app.inject({
    method: 'POST',
    url: '/api/auth/totp/setup',
    headers: authed(session),
  });
  assert.equal(setup.statusCode, 200, setup.body);
  const { secret } = setup.json();
  const step = stepNow();
  const en = await kit.app.inject({
    method: 'POST',
    url: '/api/auth/totp/enable',
    headers: authed(session),
    payload: { password, code: codeAt(secret, step) },
  });
  assert.equal(en.statusCode, 200, en.body);
  return { secret, codes: en.json().recovery_codes, step, session };
}

const loginReq = (kit: Kit, body: Record<string, unknown>, remoteAddress = '192.0.2.50') =>
  kit.app.inject({ method: 'POST', url: '/api/auth/login', payload: body, remoteAddress });

const me = (kit: Kit, s: Login) => kit.app.inject({ url: '/api/auth/me', headers: authed(s) });

describe('two-factor setup and enable', () => {
  let kit: Kit;
  let admin: Login;
  beforeEach(async () => {
    kit = await makeKit();
    admin = await completeSetup(kit);
  });
  afterEach(() => kit.close());

  const post = (url: string, payload?: object, s: Login = admin) =>
    kit.app.inject({ method: 'POST', url, headers: authed(s), ...(payload ? { payload } : {}) });

  test('setup answers a secret, its otpauth URL and a QR code; nothing is on until a code confirms it', async () => {
    assert.equal((await me(kit, admin)).json().totp_enabled, false);
    const r = await post('/api/auth/totp/setup');
    assert.equal(r.statusCode, 200, r.body);
    const { secret, otpauth_url, qr } = r.json();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const url = new URL(otpauth_url);
    assert.equal(url.protocol, 'otpauth:');
    assert.equal(url.searchParams.get('secret'), secret);
    assert.equal(url.searchParams.get('issuer'), 'PIC home');
    assert.equal(url.searchParams.get('digits'), '6');
    assert.equal(url.searchParams.get('period'), '30');
    assert.match(qr, /^data:image\/svg\+xml;base64,/);
    assert.match(Buffer.from(qr.split(',')[1], 'base64').toString(), /<svg/);
    assert.equal((await me(kit, admin)).json().totp_enabled, false, 'pending, not on');
    // Pending only: logging in still needs no code.
    assert.equal((await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD })).statusCode, 200);
  });

  test('a new setup replaces the pending one; a wrong code enables nothing; the right one returns 10 recovery codes', async () => {
    const first = (await post('/api/auth/totp/setup')).json().secret;
    const second = (await post('/api/auth/totp/setup')).json().secret;
    assert.notEqual(first, second);
    const stale = await post('/api/auth/totp/enable', {
      password: ADMIN_PASSWORD,
      code: codeAt(first, stepNow()),
    });
    assert.equal(stale.statusCode, 403, 'the replaced secret no longer counts');
    assert.deepEqual(
      stale.json().fields.map((f: { field: string }) => f.field),
      ['code'],
    );
    assert.equal(
      (await post('/api/auth/totp/enable', { password: ADMIN_PASSWORD, code: '123' })).statusCode,
      400,
      'not a code at all',
    );
    assert.equal((await me(kit, admin)).json().totp_enabled, false);

    const ok = await post('/api/auth/totp/enable', {
      password: ADMIN_PASSWORD,
      code: codeAt(second, stepNow()),
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const codes: string[] = ok.json().recovery_codes;
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    assert.equal((await me(kit, admin)).json().totp_enabled, true);
    // Recovery codes are stored hashed only.
    const stored = kit.cell.db.prepare('SELECT code_hash FROM user_recovery_codes').all();
    assert.equal(stored.length, 10);
    const dump = JSON.stringify(stored);
    for (const c of codes) assert.ok(!dump.includes(c) && !dump.includes(c.replaceAll('-', '')));

    assert.equal((await post('/api/auth/totp/setup')).statusCode, 409, 'no re-keying while it is on');
    assert.equal(
      (await post('/api/auth/totp/enable', { password: ADMIN_PASSWORD, code: codeAt(second, stepNow()) }))
        .statusCode,
      409,
    );
  });

  test('a session alone cannot turn two-factor on: without the right password nothing changes', async () => {
    const { secret } = (await post('/api/auth/totp/setup')).json();
    const code = codeAt(secret, stepNow());
    const missing = await post('/api/auth/totp/enable', { code });
    assert.equal(missing.statusCode, 400);
    assert.ok(missing.json().fields.some((f: { field: string }) => f.field === 'password'));
    const wrong = await post('/api/auth/totp/enable', { password: 'not-the-password', code });
    assert.equal(wrong.statusCode, 403);
    assert.deepEqual(
      wrong.json().fields.map((f: { field: string }) => f.field),
      ['password'],
    );
    assert.equal((await me(kit, admin)).json().totp_enabled, false);
    assert.equal((await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD })).statusCode, 200);
  });

  test('enable before setup: 409; every route needs a session; a code field is required', async () => {
    assert.equal(
      (await post('/api/auth/totp/enable', { password: ADMIN_PASSWORD, code: '123456' })).statusCode,
      409,
    );
    for (const url of ['/api/auth/totp/setup', '/api/auth/totp/enable', '/api/auth/totp/disable']) {
      const r = await kit.app.inject({ method: 'POST', url, payload: { code: '123456', password: 'x' } });
      assert.equal(r.statusCode, 401, url);
    }
    assert.equal((await post('/api/auth/totp/enable', { password: ADMIN_PASSWORD })).statusCode, 400);
    assert.equal(
      (await post('/api/auth/totp/enable', { password: ADMIN_PASSWORD, code: '123456', extra: 1 }))
        .statusCode,
      400,
    );
  });
});

describe('logging in with two-factor on', () => {
  let kit: Kit;
  beforeEach(async () => {
    kit = await makeKit();
    await completeSetup(kit);
    await kit.cell.deps.auth.createUser('bob', 'peer', PEER_PASSWORD);
  });
  afterEach(() => kit.close());

  test('the password first: a wrong one answers exactly as without two-factor, then totp_required, wrong, replayed and right codes', async () => {
    const plainWrong = await loginReq(kit, { username: 'bob', password: 'wrong password' });
    const { secret, step } = await enableFor(kit, 'admin', ADMIN_PASSWORD);

    const wrongPw = await loginReq(kit, { username: 'admin', password: 'wrong password' });
    assert.equal(wrongPw.statusCode, 401);
    assert.equal(wrongPw.body, plainWrong.body, 'two-factor state is not revealed before the password');
    const wrongPwWithCode = await loginReq(kit, {
      username: 'admin',
      password: 'wrong password',
      code: codeAt(secret, step + 1),
    });
    assert.equal(wrongPwWithCode.body, plainWrong.body);

    const failures = async () =>
      Number(
        /^pic_login_failures_total (\d+)$/m.exec((await kit.cell.deps.metrics.exposition()).body)?.[1] ?? NaN,
      );
    const failuresBefore = await failures();
    const noCode = await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD });
    assert.equal(noCode.statusCode, 401);
    assert.equal(noCode.json().error, 'totp_required');
    assert.equal(await failures(), failuresBefore, 'asking for the code is not a failed login');
    assert.equal(sessionCookieOf(noCode), undefined, 'no session without the code');

    const [bad] = wrongCodes(secret, step, 1);
    const wrongCode = await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD, code: bad! });
    assert.equal(wrongCode.statusCode, 401);
    assert.equal(wrongCode.json().error, 'unauthorized');
    assert.equal(sessionCookieOf(wrongCode), undefined);

    const enablingCode = codeAt(secret, step);
    const replayedEnable = await loginReq(kit, {
      username: 'admin',
      password: ADMIN_PASSWORD,
      code: enablingCode,
    });
    assert.equal(replayedEnable.statusCode, 401, 'the code that turned it on is spent');

    const far = await loginReq(kit, {
      username: 'admin',
      password: ADMIN_PASSWORD,
      code: codeAt(secret, step + 3),
    });
    assert.equal(far.statusCode, 401, 'outside the ±1 step window');

    const next = codeAt(secret, step + 1);
    // Five failures above spent this address's budget for the account (codes count like passwords).
    const ok = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD, code: ` ${next} ` },
      '192.0.2.52',
    );
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().totp_enabled, true);
    const s = { cookie: sessionCookieOf(ok)!, csrf: ok.json().csrf_token };
    assert.equal((await me(kit, s)).json().totp_enabled, true);

    const replay = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD, code: next },
      '192.0.2.51',
    );
    assert.equal(replay.statusCode, 401, 'a code already used in its window does not work twice');
    // The last accepted step is durable, in SQLite (a restart does not reopen the window).
    const row = kit.cell.db.prepare('SELECT last_step FROM user_totp').get() as { last_step: number };
    assert.equal(row.last_step, step + 1);
  });

  test('concurrent logins with the same code: exactly one gets in', async () => {
    const { secret, step } = await enableFor(kit, 'admin', ADMIN_PASSWORD);
    const code = codeAt(secret, step + 1);
    const rs = await Promise.all(
      [1, 2, 3].map((i) =>
        loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD, code }, `192.0.2.${60 + i}`),
      ),
    );
    assert.deepEqual(rs.map((r) => r.statusCode).sort(), [200, 401, 401]);
  });

  test('a recovery code works once, typed in any case and without dashes', async () => {
    const { codes } = await enableFor(kit, 'admin', ADMIN_PASSWORD);
    const first = await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD, code: codes[0]! });
    assert.equal(first.statusCode, 200, first.body);
    const again = await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD, code: codes[0]! });
    assert.equal(again.statusCode, 401, 'spent');
    const loose = codes[1]!.replaceAll('-', '').toUpperCase();
    assert.equal(
      (await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD, code: loose })).statusCode,
      200,
    );
    const bobs = await loginReq(kit, { username: 'bob', password: PEER_PASSWORD, code: codes[2]! });
    assert.equal(bobs.statusCode, 200, 'bob has no two-factor: a code is ignored');
    assert.equal(kit.cell.deps.auth.totp.recoveryCodesLeft(kit.cell.users.byUsername('admin')!.id), 8);
  });

  test('codes count against the login limits: totp_required gives its reservation back, a wrong code keeps it', async () => {
    const { secret, step } = await enableFor(kit, 'admin', ADMIN_PASSWORD);
    const from = '198.51.100.20';
    for (let i = 0; i < LOGIN_LIMITS.perAccountSource * 2; i++) {
      const r = await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD }, from);
      assert.equal(r.json().error, 'totp_required', `attempt ${i}`);
    }
    for (const [i, code] of wrongCodes(secret, step, LOGIN_LIMITS.perAccountSource).entries()) {
      const r = await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD, code }, from);
      assert.equal(r.statusCode, 401, `wrong code ${i}`);
    }
    const before = kit.cell.hasher.stats.calls;
    const right = codeAt(secret, step + 1);
    const limited = await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD, code: right }, from);
    assert.equal(limited.statusCode, 429, 'even the right code waits');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(kit.cell.hasher.stats.calls, before, 'refused before hashing');
    const other = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD, code: right },
      '198.51.100.21',
    );
    assert.equal(other.statusCode, 200, 'another address is not held, and the code was not spent by the 429');
  });

  test('a burst of 100 concurrent wrong codes: at most the limit is checked', async () => {
    const { secret, step } = await enableFor(kit, 'admin', ADMIN_PASSWORD);
    const from = '198.51.100.30';
    const rs = await Promise.all(
      wrongCodes(secret, step, 100).map((code) =>
        loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD, code }, from),
      ),
    );
    const codes = rs.map((r) => r.statusCode);
    assert.equal(codes.filter((c) => c === 401).length, LOGIN_LIMITS.perAccountSource);
    assert.equal(codes.filter((c) => c === 429).length, 100 - LOGIN_LIMITS.perAccountSource);
  });

  test('a peer account: its own setup, enable, login with a code and disable', async () => {
    const bob = await enableFor(kit, 'bob', PEER_PASSWORD);
    assert.equal((await me(kit, bob.session)).json().totp_enabled, true);
    assert.equal(
      (await loginReq(kit, { username: 'bob', password: PEER_PASSWORD })).json().error,
      'totp_required',
    );
    const ok = await loginReq(kit, {
      username: 'bob',
      password: PEER_PASSWORD,
      code: codeAt(bob.secret, bob.step + 1),
    });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().role, 'peer');
    // The admin's account is untouched by bob's.
    assert.equal((await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD })).statusCode, 200);
    const off = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/totp/disable',
      headers: authed(bob.session),
      payload: { password: PEER_PASSWORD, code: bob.codes[0] },
    });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal((await loginReq(kit, { username: 'bob', password: PEER_PASSWORD })).statusCode, 200);
  });
});

describe('turning two-factor off', () => {
  let kit: Kit;
  let on: Enabled;
  before(async () => {
    kit = await makeKit();
    await completeSetup(kit);
    on = await enableFor(kit, 'admin', ADMIN_PASSWORD);
  });
  after(() => kit.close());

  const disable = (payload: object) =>
    kit.app.inject({ method: 'POST', url: '/api/auth/totp/disable', headers: authed(on.session), payload });

  test('needs the password and a code; 403 (not 401: the session stays) for either wrong', async () => {
    const wrongPw = await disable({ password: 'not it', code: codeAt(on.secret, on.step + 1) });
    assert.equal(wrongPw.statusCode, 403);
    assert.deepEqual(wrongPw.json().fields, [{ field: 'password', message: 'does not match' }]);
    const wrongCode = await disable({
      password: ADMIN_PASSWORD,
      code: wrongCodes(on.secret, on.step, 1)[0]!,
    });
    assert.equal(wrongCode.statusCode, 403);
    assert.equal(wrongCode.json().fields[0].field, 'code');
    const replayed = await disable({ password: ADMIN_PASSWORD, code: codeAt(on.secret, on.step) });
    assert.equal(replayed.statusCode, 403, 'a spent code does not turn it off');
    assert.equal((await me(kit, on.session)).statusCode, 200);
    assert.equal((await me(kit, on.session)).json().totp_enabled, true);
  });

  test('with the password and a current code it is off, its recovery codes gone, login needs no code', async () => {
    const r = await disable({ password: ADMIN_PASSWORD, code: codeAt(on.secret, on.step + 1) });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { totp_enabled: false });
    assert.equal((await me(kit, on.session)).json().totp_enabled, false);
    assert.equal(kit.cell.db.prepare('SELECT count(*) AS n FROM user_recovery_codes').get()!.n, 0);
    assert.equal(kit.cell.db.prepare('SELECT count(*) AS n FROM user_totp').get()!.n, 0);
    assert.equal((await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD })).statusCode, 200);
    assert.equal((await disable({ password: ADMIN_PASSWORD, code: on.codes[0] })).statusCode, 409);
  });
});
