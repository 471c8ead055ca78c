// A disabled peer is disabled everywhere (issue 9 §5), through inject() on a real temp cell: no new
// config link (409), an old link answers 409 and is not spent, /api/peer/me answers the record with
// `disabled: true` and no config, its login answers 403 peer_disabled once password (and code) are
// right, its open session can read only who it is — and all of it works again once it is enabled.
// An expired peer is treated the same, before the background tick has turned it off.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, login, makeKit, sessionCookieOf } from '../test-kit.ts';

let kit: Kit;
let admin: Login;
const PASSWORD = 'phone password 1234';
before(async () => {
  kit = await makeKit();
  admin = await completeSetup(kit);
});
after(() => kit.close());

const post = (url: string, payload: unknown, s: Login = admin) =>
  kit.app.inject({ method: 'POST', url, payload: payload as object, headers: authed(s) });
const put = (url: string, payload: unknown) =>
  kit.app.inject({ method: 'PUT', url, payload: payload as object, headers: authed(admin) });
const get = (url: string, s: Login = admin) => kit.app.inject({ url, headers: authed(s) });
const fetchLink = (token: string, source: string) =>
  kit.app.inject({ url: `/api/config-links/${token}`, remoteAddress: source });
const tryLogin = (password: string) =>
  kit.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'phone', password } });

describe('a disabled peer', () => {
  let peer: Login;
  let oldLink: string;
  let privateKey: string;

  before(async () => {
    const r = await post('/api/peers?qr=false', { name: 'phone', password: PASSWORD });
    assert.equal(r.statusCode, 201, r.body);
    privateKey = /^PrivateKey = (.+)$/m.exec(r.json().config)![1]!;
    peer = await login(kit.app, 'phone', PASSWORD);
    oldLink = (await post('/api/peers/phone/config-link', { minutes: 30 })).json().token;
    const off = await put('/api/peers/phone', { enabled: false });
    assert.equal(off.statusCode, 200, off.body);
  });

  test('gets no new config link: 409 that says why', async () => {
    const r = await post('/api/peers/phone/config-link', {});
    assert.equal(r.statusCode, 409, r.body);
    assert.equal(r.json().error, 'conflict');
    assert.match(r.json().message, /disabled/);
    assert.equal(kit.cell.db.prepare('SELECT COUNT(*) AS n FROM peer_config_links').get()!.n, 1);
  });

  test('an old link answers 409 without the config, and is not spent', async () => {
    const r = await fetchLink(oldLink, '192.168.7.1');
    assert.equal(r.statusCode, 409, r.body);
    assert.match(r.json().message, /disabled/);
    assert.ok(!r.body.includes(privateKey));
    const row = kit.cell.db.prepare('SELECT used_at FROM peer_config_links').get()!;
    assert.equal(row.used_at, null, 'the link is kept for when the peer is enabled again');
  });

  test('/api/peer/me answers the record, disabled, without config, QR or key', async () => {
    const r = await get('/api/peer/me', peer);
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json();
    assert.equal(body.disabled, true);
    assert.equal(body.peer.name, 'phone');
    assert.equal(body.peer.enabled, false);
    assert.equal(body.config, undefined);
    assert.equal(body.qr, undefined);
    assert.ok(!r.body.includes(privateKey));
    assert.doesNotMatch(r.body, /PrivateKey|PresharedKey/);
  });

  test('its open session stops working at once: only who it is, everything else 403 peer_disabled', async () => {
    const me = await get('/api/auth/me', peer);
    assert.equal(me.statusCode, 200, 'the UI still learns who is logged in');
    for (const [method, url, payload] of [
      ['POST', '/api/auth/password', { current_password: PASSWORD, new_password: 'another password 5678' }],
      ['POST', '/api/auth/totp/setup', undefined],
      ['POST', '/api/auth/totp/enable', { password: PASSWORD, code: '123456' }],
    ] as const) {
      const r = await kit.app.inject({
        method,
        url,
        headers: authed(peer),
        ...(payload ? { payload } : {}),
      });
      assert.equal(r.statusCode, 403, `${method} ${url}: ${r.body}`);
      assert.equal(r.json().error, 'peer_disabled');
    }
    // The password was not changed by the refused request.
    assert.equal((await tryLogin(PASSWORD)).json().error, 'peer_disabled');
  });

  test('its login is refused with 403 peer_disabled, only once the password is right', async () => {
    const right = await tryLogin(PASSWORD);
    assert.equal(right.statusCode, 403, right.body);
    assert.equal(right.json().error, 'peer_disabled');
    assert.match(right.json().message, /disabled/);
    assert.equal(sessionCookieOf(right), undefined, 'no session is opened');
    const wrong = await tryLogin('not the password 0000');
    assert.equal(wrong.statusCode, 401, 'a guesser learns nothing about the peer');
    assert.equal(wrong.json().error, 'unauthorized');
  });

  test('the owner still exports its config (the owner decides when to hand it out)', async () => {
    const r = await get('/api/peers/phone/config');
    assert.equal(r.statusCode, 200, r.body);
  });

  test('enabled again, all of it works again: session, dashboard, old link, new link, login', async () => {
    const on = await put('/api/peers/phone', { enabled: true });
    assert.equal(on.statusCode, 200, on.body);
    const me = await get('/api/peer/me', peer);
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().disabled, false);
    assert.match(me.json().config, /^PrivateKey = /m);
    assert.match(me.json().qr, /^data:image\/svg\+xml;base64,/);
    const old = await fetchLink(oldLink, '192.168.7.2');
    assert.equal(old.statusCode, 200, old.body);
    assert.ok(old.body.includes(privateKey));
    assert.equal((await fetchLink(oldLink, '192.168.7.2')).statusCode, 404, 'and then it is spent');
    assert.equal((await post('/api/peers/phone/config-link', {})).statusCode, 201);
    const fresh = await login(kit.app, 'phone', PASSWORD);
    assert.equal((await get('/api/peer/me', fresh)).statusCode, 200);
    const setupTotp = await post('/api/auth/totp/setup', undefined, fresh);
    assert.equal(setupTotp.statusCode, 200, setupTotp.body);
  });

  test('an expired peer is disabled everywhere too, before the tick turns it off', async () => {
    const link = (await post('/api/peers/phone/config-link', {})).json().token;
    const past = await put('/api/peers/phone', { expires_at: '2000-01-01T00:00:00Z' });
    assert.equal(past.statusCode, 200, past.body);
    assert.equal(past.json().peer.enabled, true, 'not yet turned off by the tick');
    assert.equal((await post('/api/peers/phone/config-link', {})).statusCode, 409);
    const l = await fetchLink(link, '192.168.7.3');
    assert.equal(l.statusCode, 409);
    assert.match(l.json().message, /expired/);
    const me = await get('/api/peer/me', peer);
    assert.equal(me.json().disabled, true);
    assert.equal(me.json().config, undefined);
    assert.equal((await tryLogin(PASSWORD)).statusCode, 403);
    await put('/api/peers/phone', { expires_at: null });
    assert.equal((await fetchLink(link, '192.168.7.3')).statusCode, 200);
  });
});

test('a peer login with no peer of its name is not disabled (an account made by hand)', async () => {
  await kit.cell.deps.auth.createUser('walker', 'peer', 'walker password 123');
  const s = await login(kit.app, 'walker', 'walker password 123');
  assert.equal((await get('/api/auth/me', s)).statusCode, 200);
});
