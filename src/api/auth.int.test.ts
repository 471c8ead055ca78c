import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
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
  setCookies,
} from './test-kit.ts';

const PEER_PASSWORD = 'peer password 12345';

async function freshKit(opts: Parameters<typeof makeKit>[0] = {}): Promise<{ kit: Kit; admin: Login }> {
  const kit = await makeKit(opts);
  const admin = await completeSetup(kit);
  await kit.cell.deps.auth.createUser('bob', 'peer', PEER_PASSWORD);
  return { kit, admin };
}

const loginReq = (
  kit: Kit,
  body: unknown,
  extra: { remoteAddress?: string; headers?: Record<string, string> } = {},
) => kit.app.inject({ method: 'POST', url: '/api/auth/login', payload: body as object, ...extra });

const me = (kit: Kit, cookie: string) => kit.app.inject({ url: '/api/auth/me', headers: { cookie } });

describe('login', () => {
  let kit: Kit;
  beforeEach(async () => {
    ({ kit } = await freshKit());
  });
  afterEach(() => kit.close());

  test('unknown user and wrong password: same status, same body, one Argon2 run each', async () => {
    let before = kit.cell.hasher.stats.calls;
    const unknown = await loginReq(kit, { username: 'mallory', password: 'whatever' });
    const unknownHashes = kit.cell.hasher.stats.calls - before;
    before = kit.cell.hasher.stats.calls;
    const wrong = await loginReq(kit, { username: 'admin', password: 'whatever' });
    const wrongHashes = kit.cell.hasher.stats.calls - before;
    assert.equal(unknown.statusCode, 401);
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.body, wrong.body);
    assert.equal(unknownHashes, 1);
    assert.equal(wrongHashes, 1);
    assert.equal(unknown.headers['set-cookie'], undefined);
  });

  test('success returns the user and a CSRF token; usernames are case-insensitive', async () => {
    const r = await loginReq(kit, { username: 'Admin', password: ADMIN_PASSWORD });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().username, 'admin');
    assert.equal(r.json().role, 'admin');
    const m = await me(kit, sessionCookieOf(r)!);
    assert.equal(m.json().csrf_token, r.json().csrf_token);
  });

  test('per account and source: 429 with Retry-After before any hashing; other sources unaffected', async () => {
    for (let i = 0; i < LOGIN_LIMITS.perAccountSource; i++) {
      const r = await loginReq(
        kit,
        { username: 'admin', password: `guess-${i}` },
        { remoteAddress: '10.9.0.1' },
      );
      assert.equal(r.statusCode, 401);
    }
    const before = kit.cell.hasher.stats.calls;
    const limited = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '10.9.0.1' },
    );
    assert.equal(limited.statusCode, 429, 'even the right password waits');
    assert.equal(limited.json().error, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(kit.cell.hasher.stats.calls, before, 'no Argon2 run for a limited attempt');
    // A stranger's guesses do not lock the owner out: another address logs in.
    const owner = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '10.9.1.1' },
    );
    assert.equal(owner.statusCode, 200);
    const bob = await loginReq(
      kit,
      { username: 'bob', password: PEER_PASSWORD },
      { remoteAddress: '10.9.0.1' },
    );
    assert.equal(bob.statusCode, 200, 'another account from the same address');
  });

  test('a burst of 200 concurrent wrong passwords: at most the limit is checked, the rest and the right one get 429', async () => {
    const from = { remoteAddress: '10.9.2.2' };
    const before = kit.cell.hasher.stats.calls;
    const burst = Array.from({ length: 200 }, (_, i) =>
      loginReq(kit, { username: 'admin', password: i === 150 ? ADMIN_PASSWORD : `wrong-${i}` }, from),
    );
    const codes = (await Promise.all(burst)).map((r) => r.statusCode);
    assert.equal(codes.filter((c) => c === 401).length, LOGIN_LIMITS.perAccountSource);
    assert.equal(codes.filter((c) => c === 429).length, 200 - LOGIN_LIMITS.perAccountSource);
    assert.equal(codes[150], 429, 'the right password inside the burst is not checked');
    assert.equal(kit.cell.hasher.stats.calls - before, LOGIN_LIMITS.perAccountSource);
    const after = await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD }, from);
    assert.equal(after.statusCode, 429, 'nor right after it');
  });

  test('a botnet spends the account budget: unknown sources wait, known ones and VPN peers still log in', async () => {
    // The owner logged in from home once.
    assert.equal(
      (await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD }, { remoteAddress: '192.0.2.10' }))
        .statusCode,
      200,
    );
    const guesses = Array.from({ length: LOGIN_LIMITS.perAccount }, (_, i) =>
      loginReq(kit, { username: 'admin', password: `bot-${i}` }, { remoteAddress: `198.51.100.${i + 1}` }),
    );
    for (const r of await Promise.all(guesses)) assert.equal(r.statusCode, 401);
    const stranger = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '203.0.113.77' },
    );
    assert.equal(stranger.statusCode, 429, 'an address never seen waits once the budget is spent');
    assert.ok(Number(stranger.headers['retry-after']) >= 15 * 60 - 5);
    const home = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '192.0.2.10' },
    );
    assert.equal(home.statusCode, 200, 'the address the owner logged in from keeps its own budget');
    const { peer } = await kit.cell.deps.peers.create({ name: 'owner-phone', create_account: false });
    const vpn = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: peer.address },
    );
    assert.equal(vpn.statusCode, 200, "a peer's device on the VPN keeps its own budget");
    const unheld = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '10.0.0.250' },
    );
    assert.equal(unheld.statusCode, 429, 'an address of the VPN range no enabled peer holds is nobody');
    const bob = await loginReq(
      kit,
      { username: 'bob', password: PEER_PASSWORD },
      { remoteAddress: '203.0.113.77' },
    );
    assert.equal(bob.statusCode, 200, 'other accounts are not affected');
  });

  test('per-source limit: 429 for every account from that address, other addresses unaffected', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await loginReq(
        kit,
        { username: `user${i}`, password: 'x' },
        { remoteAddress: '192.168.7.7' },
      );
      assert.equal(r.statusCode, 401);
    }
    const before = kit.cell.hasher.stats.calls;
    const limited = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '192.168.7.7' },
    );
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(kit.cell.hasher.stats.calls, before);
    const other = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '192.168.7.8' },
    );
    assert.equal(other.statusCode, 200);
  });

  test('a limited answer costs far less than a hashed one (relative, not absolute)', async () => {
    for (let i = 0; i < 20; i++)
      await loginReq(kit, { username: `someone${i}`, password: 'x' }, { remoteAddress: '10.8.8.8' });
    const time = async (remoteAddress: string) => {
      const t = performance.now();
      await loginReq(kit, { username: 'admin', password: 'x' }, { remoteAddress });
      return performance.now() - t;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const limited: number[] = [];
    const hashed: number[] = [];
    for (let i = 0; i < 5; i++) {
      limited.push(await time('10.8.8.8'));
      kit.cell.deps.auth.limits.forget('admin');
      hashed.push(await time(`10.7.7.${i}`));
      kit.cell.deps.auth.limits.forget('admin');
    }
    assert.ok(
      median(limited) * 3 < median(hashed),
      `limited ${median(limited)} ms vs hashed ${median(hashed)} ms`,
    );
  });

  test('a 10 MiB password is refused with 413 before hashing; 1025 characters with 400', async () => {
    const before = kit.cell.hasher.stats.calls;
    const huge = await loginReq(kit, { username: 'admin', password: 'p'.repeat(10 * 1024 * 1024) });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json().error, 'payload_too_large');
    const long = await loginReq(kit, { username: 'admin', password: 'p'.repeat(1025) });
    assert.equal(long.statusCode, 400);
    assert.deepEqual(
      long.json().fields.map((f: { field: string }) => f.field),
      ['password'],
    );
    assert.equal(kit.cell.hasher.stats.calls, before);
  });

  test('session fixation: login never keeps a cookie the client brought', async () => {
    const planted = 'pic_session=attacker-chosen-value';
    const r = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { headers: { cookie: planted } },
    );
    const fresh = sessionCookieOf(r)!;
    assert.notEqual(fresh, planted);
    assert.equal((await me(kit, planted)).statusCode, 401);
    // A real session used to log in again is replaced, not reused.
    const again = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { headers: { cookie: fresh } },
    );
    const second = sessionCookieOf(again)!;
    assert.notEqual(second, fresh);
    assert.equal((await me(kit, fresh)).statusCode, 401, 'the session sent at login is ended');
    assert.equal((await me(kit, second)).statusCode, 200);
  });

  test('logout ends the session and clears the cookie', async () => {
    const s = await login(kit.app, 'admin', ADMIN_PASSWORD);
    const out = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { cookie: s.cookie },
    });
    assert.equal(out.statusCode, 200);
    assert.deepEqual(out.json(), { logged_out: true });
    assert.ok(setCookies(out).every((c) => /Max-Age=0/.test(c)));
    assert.equal((await me(kit, s.cookie)).statusCode, 401);
    // Logging out without a session is harmless.
    assert.equal((await kit.app.inject({ method: 'POST', url: '/api/auth/logout' })).statusCode, 200);
  });
});

describe('password change', () => {
  let kit: Kit;
  beforeEach(async () => {
    ({ kit } = await freshKit());
  });
  afterEach(() => kit.close());

  const change = (s: Login, body: unknown) =>
    kit.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      payload: body as object,
      headers: authed(s),
    });

  test('ends every session of the user and returns a new working one', async () => {
    const s1 = await login(kit.app, 'admin', ADMIN_PASSWORD);
    const s2 = await login(kit.app, 'admin', ADMIN_PASSWORD);
    const bob = await login(kit.app, 'bob', PEER_PASSWORD);
    const r = await change(s1, { current_password: ADMIN_PASSWORD, new_password: 'a brand new password' });
    assert.equal(r.statusCode, 200, r.body);
    const s3 = sessionCookieOf(r)!;
    assert.equal((await me(kit, s1.cookie)).statusCode, 401);
    assert.equal((await me(kit, s2.cookie)).statusCode, 401, 'the other session is gone too');
    assert.equal((await me(kit, s3)).statusCode, 200);
    assert.equal((await me(kit, s3)).json().csrf_token, r.json().csrf_token);
    assert.equal((await me(kit, bob.cookie)).statusCode, 200, "another user's session stays");
    assert.equal((await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD })).statusCode, 401);
    assert.equal(
      (await loginReq(kit, { username: 'admin', password: 'a brand new password' })).statusCode,
      200,
    );
  });

  test('40 concurrent wrong current passwords: at most the limit is checked, the right one in the burst waits', async () => {
    const admin = await login(kit.app, 'admin', ADMIN_PASSWORD);
    const burst = Array.from({ length: 40 }, (_, i) =>
      change(admin, {
        current_password: i === 30 ? ADMIN_PASSWORD : `wrong current ${i}`,
        new_password: 'a brand new password 1',
      }),
    );
    const codes = (await Promise.all(burst)).map((r) => r.statusCode);
    assert.equal(codes.filter((c) => c === 403).length, 10);
    assert.equal(codes.filter((c) => c === 429).length, 30);
    assert.equal(codes[30], 429);
  });

  test('wrong current password, reused password, short password: refused, nothing changes', async () => {
    const s = await login(kit.app, 'admin', ADMIN_PASSWORD);
    const wrong = await change(s, { current_password: 'nope', new_password: 'a brand new password' });
    assert.equal(wrong.statusCode, 403);
    assert.deepEqual(wrong.json().fields, [{ field: 'current_password', message: 'does not match' }]);
    const same = await change(s, { current_password: ADMIN_PASSWORD, new_password: ADMIN_PASSWORD });
    assert.equal(same.statusCode, 400);
    assert.equal(same.json().fields[0].field, 'new_password');
    const short = await change(s, { current_password: ADMIN_PASSWORD, new_password: 'short' });
    assert.equal(short.statusCode, 400);
    assert.equal(short.json().fields[0].field, 'new_password');
    assert.equal((await me(kit, s.cookie)).statusCode, 200);
    assert.equal((await loginReq(kit, { username: 'admin', password: ADMIN_PASSWORD })).statusCode, 200);
  });

  test('needs a session', async () => {
    const r = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      payload: { current_password: ADMIN_PASSWORD, new_password: 'a brand new password' },
    });
    assert.equal(r.statusCode, 401);
  });
});

describe('roles', () => {
  let kit: Kit;
  let admin: Login;
  before(async () => {
    ({ kit, admin } = await freshKit());
  });
  after(() => kit.close());

  test('a peer gets 403 on admin routes; {"role":"admin"} in a body changes nothing', async () => {
    const bob = await login(kit.app, 'bob', PEER_PASSWORD);
    assert.equal((await me(kit, bob.cookie)).json().role, 'peer');
    assert.equal((await kit.app.inject({ url: '/api/config', headers: authed(bob) })).statusCode, 403);
    const put = await kit.app.inject({
      method: 'PUT',
      url: '/api/config',
      headers: authed(bob),
      payload: { role: 'admin', identity: { timezone: 'UTC' } },
    });
    assert.equal(put.statusCode, 403);
    const pw = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      headers: authed(bob),
      payload: { current_password: PEER_PASSWORD, new_password: 'x'.repeat(20), role: 'admin' },
    });
    assert.equal(pw.statusCode, 400);
    assert.deepEqual(pw.json().fields, [{ field: 'role', message: 'is not a known field' }]);
    const lg = await loginReq(kit, { username: 'bob', password: PEER_PASSWORD, role: 'admin' });
    assert.equal(lg.statusCode, 400);
    assert.equal((await me(kit, bob.cookie)).json().role, 'peer');
    assert.equal(kit.cell.users.byUsername('bob')?.role, 'peer');
    assert.equal((await kit.app.inject({ url: '/api/logs/audit', headers: authed(bob) })).statusCode, 403);
  });

  test("a peer learns the cell's name (for the UI's header) from its login and /api/auth/me, not the config", async () => {
    const lg = await loginReq(kit, { username: 'bob', password: PEER_PASSWORD });
    assert.equal(lg.statusCode, 200, lg.body);
    assert.equal(lg.json().cell_name, 'home');
    const m = await me(kit, sessionCookieOf(lg)!);
    assert.equal(m.statusCode, 200, m.body);
    assert.deepEqual(Object.keys(m.json()).sort(), [
      'cell_name',
      'csrf_token',
      'role',
      'totp_enabled',
      'username',
    ]);
    assert.equal(m.json().cell_name, 'home');
    assert.equal(m.json().role, 'peer');
    // A rename by the owner shows at the peer's next look.
    const rename = await kit.app.inject({
      method: 'PUT',
      url: '/api/config',
      headers: authed(admin),
      payload: { identity: { cell_name: 'attic' } },
    });
    assert.equal(rename.statusCode, 200, rename.body);
    assert.equal((await me(kit, sessionCookieOf(lg)!)).json().cell_name, 'attic');
  });
});

describe('HTTPS cookies and trusted proxies', () => {
  let kit: Kit;
  before(async () => {
    ({ kit } = await freshKit({ trustedProxies: ['127.0.0.1'] }));
  });
  after(() => kit.close());

  test('over HTTPS through the trusted proxy: __Host- prefix and Secure, and the cookie works', async () => {
    const r = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-proto': 'https' } },
    );
    assert.equal(r.statusCode, 200);
    const set = setCookies(r).find((c) => c.startsWith('__Host-pic_session=') && !/Max-Age=0/.test(c))!;
    assert.ok(set, String(setCookies(r)));
    assert.match(set, /; Secure/);
    assert.match(set, /; Path=\//);
    assert.match(set, /; HttpOnly/);
    assert.match(set, /; SameSite=Strict/);
    assert.doesNotMatch(set, /Domain=/i);
    assert.equal((await me(kit, sessionCookieOf(r)!)).statusCode, 200);
  });

  test('over HTTPS a plain pic_session cookie is not accepted (cookie tossing from a sibling name)', async () => {
    const plain = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '192.168.1.51' },
    );
    const id = sessionCookieOf(plain)!.split('=')[1]!;
    const viaHttp = await kit.app.inject({ url: '/api/auth/me', headers: { cookie: `pic_session=${id}` } });
    assert.equal(viaHttp.statusCode, 200);
    const viaHttps = await kit.app.inject({
      url: '/api/auth/me',
      remoteAddress: '127.0.0.1',
      headers: { cookie: `pic_session=${id}`, 'x-forwarded-proto': 'https' },
    });
    assert.equal(viaHttps.statusCode, 401);
    const hostCookie = await kit.app.inject({
      url: '/api/auth/me',
      remoteAddress: '127.0.0.1',
      headers: { cookie: `pic_session=junk; __Host-pic_session=${id}`, 'x-forwarded-proto': 'https' },
    });
    assert.equal(hostCookie.statusCode, 200);
  });

  test('X-Forwarded-Proto from an untrusted socket is ignored: plain cookie', async () => {
    const r = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '192.168.1.50', headers: { 'x-forwarded-proto': 'https' } },
    );
    assert.equal(r.statusCode, 200);
    const c = sessionCookieOf(r)!;
    assert.match(c, /^pic_session=/);
    const set = setCookies(r).find((x) => x.startsWith('pic_session=') && !/Max-Age=0/.test(x))!;
    assert.doesNotMatch(set, /Secure/);
  });

  test('the trusted proxy is believed about the client address; nobody else is', async () => {
    await loginReq(
      kit,
      { username: 'trust-probe-1', password: 'x' },
      { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '192.168.1.9' } },
    );
    await loginReq(
      kit,
      { username: 'trust-probe-2', password: 'x' },
      { remoteAddress: '192.168.1.60', headers: { 'x-forwarded-for': '127.0.0.1' } },
    );
    // Refused without a session: counted per source among the anonymous refusals.
    const rows = kit.cell.deps.audit.refusals({ limit: 50, offset: 0 }).items;
    const source = (u: string) => rows.find((r) => r.last_target === `user=${u}`)?.source;
    assert.equal(source('trust-probe-1'), '192.168.1.9');
    assert.equal(source('trust-probe-2'), '192.168.1.60');
  });
});

describe('spoofed client-address headers from an untrusted socket', () => {
  let kit: Kit;
  before(async () => {
    ({ kit } = await freshKit());
  });
  after(() => kit.close());

  const SPOOFS: Array<Record<string, string>> = [
    { 'x-forwarded-for': '127.0.0.1' },
    { 'x-real-ip': '127.0.0.1' },
    { forwarded: 'for=127.0.0.1;proto=https' },
    { 'x-forwarded-for': '::ffff:127.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'localhost' },
  ];

  test('the audit source stays the socket address', async () => {
    for (const [i, headers] of SPOOFS.entries()) {
      const r = await loginReq(
        kit,
        { username: `spoof-${i}`, password: 'x' },
        { remoteAddress: '192.168.1.66', headers },
      );
      assert.equal(r.statusCode, 401);
      assert.equal(setCookies(r).length, 0);
    }
    const rows = kit.cell.deps.audit.refusals({ limit: 50, offset: 0 }).items;
    assert.ok(rows.length >= 1);
    for (const row of rows) assert.equal(row.source, '192.168.1.66', JSON.stringify(row));
    assert.equal(
      rows.reduce((n, r) => n + r.count, 0),
      SPOOFS.length,
    );
  });

  test('the rate-limit key stays the socket address: changing the spoofed header does not reset it', async () => {
    for (let i = 0; i < 20; i++) {
      await loginReq(
        kit,
        { username: `flood${i}`, password: 'x' },
        {
          remoteAddress: '::ffff:192.168.1.67',
          headers: { 'x-forwarded-for': `10.0.0.${i}`, 'x-real-ip': `10.1.0.${i}` },
        },
      );
    }
    const r = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      {
        remoteAddress: '::ffff:192.168.1.67',
        headers: { 'x-forwarded-for': '127.0.0.1', forwarded: 'for=127.0.0.1' },
      },
    );
    assert.equal(r.statusCode, 429);
  });

  test('a spoofed X-Forwarded-Proto does not make the cookie Secure', async () => {
    const r = await loginReq(
      kit,
      { username: 'admin', password: ADMIN_PASSWORD },
      { remoteAddress: '192.168.1.68', headers: { 'x-forwarded-proto': 'https' } },
    );
    assert.match(sessionCookieOf(r)!, /^pic_session=/);
  });
});

describe('a login flood', () => {
  let kit: Kit;
  before(async () => {
    ({ kit } = await freshKit());
  });
  after(() => kit.close());

  test('does not slow /health: it answers while the hashes queue', async () => {
    // One hash, timed, is the yardstick: /health must answer in well under that while 24 logins queue
    // behind the cap of concurrent hashes (each would cost a hash; the queue holds ~12 hash times).
    const t0 = performance.now();
    await loginReq(kit, { username: 'admin', password: 'yardstick' }, { remoteAddress: '10.5.5.5' });
    const oneHash = performance.now() - t0;
    const flood = Array.from({ length: 24 }, (_, i) =>
      loginReq(kit, { username: `flood-${i}`, password: 'x' }, { remoteAddress: `10.6.${i}.1` }),
    );
    await new Promise((r) => setTimeout(r, 5));
    const h0 = performance.now();
    const health = await kit.app.inject({ url: '/health' });
    const healthMs = performance.now() - h0;
    const results = await Promise.all(flood);
    const floodMs = performance.now() - h0;
    assert.equal(health.statusCode, 200);
    assert.ok(results.every((r) => r.statusCode === 401));
    assert.ok(
      healthMs < oneHash,
      `/health took ${healthMs.toFixed(1)} ms; one hash ${oneHash.toFixed(1)} ms`,
    );
    assert.ok(healthMs * 4 < floodMs, `/health ${healthMs.toFixed(1)} ms vs flood ${floodMs.toFixed(1)} ms`);
  });
});
