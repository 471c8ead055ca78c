// The peers API through inject() on a real temp cell (no data plane: peers are stored, applied later):
// create with generated or own keys, QR, login accounts, the peer dashboard, 403 for a peer on every
// admin route, conflicts, injection attempts in every field, allocation, config links, secrets.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from '../test-kit.ts';
import { allRoutes } from './index.ts';

let kit: Kit;
let admin: Login;
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
const del = (url: string) => kit.app.inject({ method: 'DELETE', url, headers: authed(admin) });

const db = () => kit.cell.db;
const snapshot = () => ({
  peers: db()
    .prepare('SELECT * FROM peers ORDER BY id')
    .all()
    .map((r) => ({ ...r })),
  users: db()
    .prepare('SELECT username FROM users ORDER BY id')
    .all()
    .map((r) => ({ ...r })),
  holds: db()
    .prepare('SELECT * FROM peer_address_holds')
    .all()
    .map((r) => ({ ...r })),
});

describe('peers API', () => {
  test('create with generated keys: config, QR, one-time password; the peer logs in and sees only itself', async () => {
    const r = await post('/api/peers', { name: 'laptop', routing: 'full' });
    assert.equal(r.statusCode, 201, r.body);
    const body = r.json();
    assert.equal(body.peer.address, '10.0.0.2');
    assert.equal(body.peer.has_private_key, true);
    assert.equal(body.peer.internet, true, 'full tunnel defaults to internet access');
    assert.match(body.config, /^PrivateKey = [A-Za-z0-9+/]{43}=$/m);
    assert.match(body.config, /^AllowedIPs = 0\.0\.0\.0\/0$/m);
    assert.match(body.config, /^DNS = 10\.0\.0\.1, home\.cell$/m);
    assert.match(body.config, /^Endpoint = .+:51820$/m);
    assert.match(body.qr, /^data:image\/svg\+xml;base64,/);
    assert.match(Buffer.from(body.qr.split(',')[1], 'base64').toString(), /<svg/);
    assert.equal(typeof body.password, 'string');
    assert.deepEqual(body.apply, { applied: false, data_plane: 'not_running', warnings: [] });
    const privateKey = /^PrivateKey = (.+)$/m.exec(body.config)![1]!;

    const list = await get('/api/peers');
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().length, 1);
    assert.ok(!list.body.includes(privateKey), 'no private key in the list');
    const one = await get('/api/peers/laptop');
    assert.ok(!one.body.includes(privateKey) && !one.body.includes('preshared'));

    const peer = await login(kit.app, 'laptop', body.password);
    const me = await get('/api/peer/me', peer);
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().peer.name, 'laptop');
    assert.equal(me.json().config, body.config);
    assert.equal((await get('/api/peers', peer)).statusCode, 403);
    assert.equal((await get('/api/peer/me')).statusCode, 403, 'the admin has no peer dashboard');

    // Every admin route (access without 'peer'), enumerated from allRoutes: a peer session gets 403.
    const adminRoutes = allRoutes.filter((d) => d.access !== 'public' && !d.access.includes('peer'));
    assert.ok(adminRoutes.length >= 15);
    for (const def of adminRoutes) {
      const res = await kit.app.inject({
        method: def.method,
        url: def.url.replace(/:([A-Za-z_]+)/g, 'laptop'),
        headers: authed(peer),
        payload: def.method === 'GET' ? undefined : {},
      });
      assert.equal(res.statusCode, 403, `${def.method} ${def.url} → ${res.statusCode}`);
    }

    // The secret stays out of audit rows and log files.
    const audit = JSON.stringify(db().prepare('SELECT * FROM audit').all());
    assert.ok(!audit.includes(privateKey) && !audit.includes(body.password));
    const logDir = kit.cell.paths.logs;
    for (const f of readdirSync(logDir)) {
      const text = readFileSync(join(logDir, f), 'utf8');
      assert.ok(!text.includes(privateKey) && !text.includes(body.password), f);
    }
  });

  test("the device's own public key: no PrivateKey in the export, a placeholder says so", async () => {
    const key = 'y/rmEChg53GZEz3dqZJrovrklkLWKlqXtYAlDnRv2ks=';
    const r = await post('/api/peers', { name: 'phone', public_key: key, create_account: false });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().peer.has_private_key, false);
    assert.equal(r.json().password, undefined);
    assert.doesNotMatch(r.json().config, /^PrivateKey/m);
    assert.match(r.json().config, /# PrivateKey = <this device/);
    assert.match(r.json().config, /^AllowedIPs = 10\.0\.0\.0\/24, 172\.20\.0\.0\/16$/m, 'split by default');
    const again = await post('/api/peers', { name: 'phone2', public_key: key, create_account: false });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().fields[0].field, 'public_key');
  });

  test('names are unique, also against existing logins', async () => {
    const dup = await post('/api/peers', { name: 'laptop' });
    assert.equal(dup.statusCode, 409);
    assert.match(dup.json().message, /already exists/);
    const adminName = await post('/api/peers', { name: 'admin' });
    assert.equal(adminName.statusCode, 409, 'a peer login may not take the admin name');
    // A peer's name is also its name in the cell's zone: never a service's (web.<domain> is Caddy).
    for (const name of ['web', 'dns', 'ntp']) {
      const r = await post('/api/peers', { name, create_account: false });
      assert.equal(r.statusCode, 400, name);
      assert.deepEqual(
        r.json().fields.map((f: { field: string }) => f.field),
        ['name'],
      );
    }
  });

  test('injection attempts in every field of create and update: 400, nothing written', async () => {
    const before = snapshot();
    const smuggle = [
      ...HOSTILE_STRINGS,
      'x\n[Peer]',
      'x\nPostUp = id',
      'laptop\nAllowedIPs = 0.0.0.0/0',
      '10.0.0.0/24, 0.0.0.0/0',
      '../laptop',
      'y/rmEChg53GZEz3dqZJrovrklkLWKlqXtYAlDnRv2ks=\nPostUp = id',
    ];
    const fields = [
      'name',
      'public_key',
      'routing',
      'services',
      'internet',
      'peer_to_peer',
      'enabled',
      'expires_at',
      'create_account',
    ];
    for (const field of fields)
      for (const bad of smuggle) {
        const value = field === 'services' ? [bad] : bad;
        const body = field === 'name' ? { name: value } : { name: 'newpeer', [field]: value };
        const r = await post('/api/peers', body);
        assert.equal(r.statusCode, 400, `${field}=${JSON.stringify(bad)} → ${r.statusCode}`);
        assert.ok(
          r.json().fields.some((f: { field: string }) => f.field.startsWith(field)),
          `${field} named`,
        );
        if (field !== 'name') {
          const u = await put('/api/peers/laptop', {
            [field === 'create_account' ? 'enabled' : field]: value,
          });
          assert.equal(u.statusCode, 400, `PUT ${field}=${JSON.stringify(bad)}`);
        }
      }
    for (const bad of ['..', '%2e%2e', 'a%0aPostUp', 'LAPTOP', '-x']) {
      assert.ok([400, 404].includes((await get(`/api/peers/${bad}`)).statusCode), bad);
      assert.ok([400, 404].includes((await del(`/api/peers/${bad}`)).statusCode), bad);
    }
    assert.deepEqual(snapshot(), before);
    assert.ok(
      !existsSync(join(kit.cell.paths.config, 'wireguard')),
      'no config file written without a data plane',
    );
  });

  test('update: access, disable, expiry; a new public key drops the generated private key', async () => {
    const r = await put('/api/peers/laptop', { services: ['dns'], internet: false, enabled: false });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().peer.services, ['dns']);
    assert.equal(r.json().peer.enabled, false);
    const server = kit.cell.deps.peers.render().serverConf;
    assert.doesNotMatch(server, /# laptop/, 'a disabled peer has no [Peer] section');
    await put('/api/peers/laptop', { enabled: true, expires_at: '2000-01-01T00:00:00Z' });
    assert.doesNotMatch(
      kit.cell.deps.peers.render().serverConf,
      /# laptop/,
      'an expired peer has none either',
    );
    await kit.cell.deps.peers.tick({ sample: false });
    assert.equal((await get('/api/peers/laptop')).json().enabled, false, 'the tick disables it');
    await put('/api/peers/laptop', { enabled: true, expires_at: null });
    assert.match(kit.cell.deps.peers.render().serverConf, /# laptop/);
    const own = await put('/api/peers/laptop', {
      public_key: '06u6zm0D/H2lw1nJkpsAczPuQy9xsdhupT+g7PA06hw=',
    });
    assert.equal(own.json().peer.has_private_key, false);
    const cfg = await get('/api/peers/laptop/config');
    assert.doesNotMatch(cfg.json().config, /^PrivateKey/m);
  });

  test('one-time config links: served once, then gone; unknown tokens rate-limited per source', async () => {
    const r = await post('/api/peers/laptop/config-link', { minutes: 5 });
    assert.equal(r.statusCode, 201, r.body);
    const { url, token } = r.json();
    assert.equal(url, `/api/config-links/${token}`);
    // A HEAD (a link previewer's probe) does not run the handler, so it cannot spend the link.
    const head = await kit.app.inject({ method: 'HEAD', url, remoteAddress: '192.168.5.5' });
    assert.ok(head.statusCode >= 400, `HEAD answered ${head.statusCode}`);
    const first = await kit.app.inject({ url, remoteAddress: '192.168.5.5' });
    assert.equal(first.statusCode, 200, first.body);
    assert.match(first.body, /^\[Interface\]$/m);
    assert.match(String(first.headers['content-disposition']), /laptop\.conf/);
    const second = await kit.app.inject({ url, remoteAddress: '192.168.5.6' });
    assert.equal(second.statusCode, 404);
    const stored = JSON.stringify(db().prepare('SELECT * FROM peer_config_links').all());
    assert.ok(!stored.includes(token), 'only a hash of the token is stored');
    let last = 0;
    for (let i = 0; i < 25; i++)
      last = (
        await kit.app.inject({ url: `/api/config-links/${'a'.repeat(32)}`, remoteAddress: '192.168.5.7' })
      ).statusCode;
    assert.equal(last, 429);
    const expired = kit.cell.deps.peers.createLink('laptop', 1);
    db().prepare('UPDATE peer_config_links SET expires_at = 0').run();
    assert.equal((await kit.app.inject({ url: `/api/config-links/${expired.token}` })).statusCode, 404);
  });

  test('status and traffic answer without a data plane', async () => {
    const s = await get('/api/wireguard/status');
    assert.equal(s.statusCode, 200, s.body);
    assert.equal(s.json().running, false);
    assert.equal(s.json().pending, true);
    assert.match(s.json().public_key, /=$/);
    const wp = await get('/api/wireguard/peers');
    assert.equal(wp.json().length, 2);
    const t = await get('/api/peers/laptop/traffic?since=2026-01-01T00:00:00Z');
    assert.deepEqual(t.json(), { samples: [] });
    const add = await post('/api/wireguard/peers', { name: 'tablet', create_account: false });
    assert.equal(add.statusCode, 201);
    const key = statSync(join(kit.cell.paths.secrets, 'wireguard', 'server.key'));
    assert.equal(key.mode & 0o777, 0o600);
  });

  test('allocation: lowest free address, 409 range_full, a deleted address is held until applied', async () => {
    for (const p of (await get('/api/peers')).json())
      assert.equal((await del(`/api/peers/${p.name}`)).statusCode, 200);
    const held = snapshot().holds.map((h) => h.address);
    assert.equal(held.length, 3, 'addresses of removed peers are held (their tunnels may be up)');
    db().prepare('DELETE FROM peer_address_holds').run();
    const cfg = await put('/api/config', { identity: { vpn_address: '10.9.0.1/29' } });
    assert.equal(cfg.statusCode, 200, cfg.body);
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await post('/api/peers', { name: `p${i}`, create_account: false });
      assert.equal(r.statusCode, 201, r.body);
      got.push(r.json().peer.address);
    }
    assert.deepEqual(got, ['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
    const full = await post('/api/peers', { name: 'p5', create_account: false });
    assert.equal(full.statusCode, 409);
    assert.equal(full.json().error, 'range_full');
    assert.match(full.json().message, /10\.9\.0\.0\/29/);
    await del('/api/peers/p1');
    const stillFull = await post('/api/peers', { name: 'p6', create_account: false });
    assert.equal(stillFull.statusCode, 409, 'the removed address is not reused while it may be live');
    // What a successful apply does once the data plane no longer routes the address (releaseHolds of
    // an empty live set: every hold goes).
    db().prepare('DELETE FROM peer_address_holds').run();
    const reuse = await post('/api/peers', { name: 'p7', create_account: false });
    assert.equal(reuse.statusCode, 201);
    assert.equal(reuse.json().peer.address, '10.9.0.3', 'reused once the data plane dropped it');
  });
});
