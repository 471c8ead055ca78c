// Every answer that carries a private key — or could, under another spelling of its path — is
// `Cache-Control: no-store` (issue 9 §6): POST /api/peers, GET /api/peers/:name/config, a config link,
// /api/peer/me; their errors too, and every variant of their paths, whatever it is answered with.
// That Caddy passes the header on untouched is checked on the rendered config (render.test.ts) and
// end to end through cell-caddy (test/e2e/runtime.test.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SECURITY_HEADERS } from '../schema/security-headers.ts';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from './test-kit.ts';

let kit: Kit;
let admin: Login;
let peer: Login;
before(async () => {
  kit = await makeKit();
  admin = await completeSetup(kit);
  const r = await kit.app.inject({
    method: 'POST',
    url: '/api/peers?qr=false',
    payload: { name: 'phone', password: 'phone password 1234' },
    headers: authed(admin),
  });
  assert.equal(r.statusCode, 201, r.body);
  peer = await login(kit.app, 'phone', 'phone password 1234');
});
after(() => kit.close());

function assertNoStore(res: { statusCode: number; headers: Record<string, unknown> }, what: string) {
  assert.equal(res.headers['cache-control'], 'no-store', `${what} → ${res.statusCode}`);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers[k], v, `${what}: ${k}`);
}

test('the answers that carry a private key are no-store, with the security headers', async () => {
  const created = await kit.app.inject({
    method: 'POST',
    url: '/api/peers',
    payload: { name: 'tablet' },
    headers: authed(admin),
  });
  assert.equal(created.statusCode, 201);
  assert.match(created.json().config, /^PrivateKey = /m);
  assertNoStore(created, 'POST /api/peers');
  const cfg = await kit.app.inject({ url: '/api/peers/tablet/config', headers: authed(admin) });
  assert.match(cfg.json().config, /^PrivateKey = /m);
  assertNoStore(cfg, 'GET /api/peers/tablet/config');
  const me = await kit.app.inject({ url: '/api/peer/me', headers: authed(peer) });
  assert.match(me.json().config, /^PrivateKey = /m);
  assertNoStore(me, 'GET /api/peer/me');
  const link = await kit.app.inject({
    method: 'POST',
    url: '/api/peers/tablet/config-link',
    payload: {},
    headers: authed(admin),
  });
  assertNoStore(link, 'POST config-link');
  const served = await kit.app.inject({ url: link.json().url, remoteAddress: '192.168.9.1' });
  assert.equal(served.statusCode, 200);
  assert.match(served.body, /^PrivateKey = /m);
  assertNoStore(served, 'GET /api/config-links/:token');
});

test('their refusals and every other spelling of their paths are no-store as well', async () => {
  const cases: Array<[string, Login | undefined]> = [
    ['/api/config-links/unknown-token-0000000000000000', undefined],
    ['/api/peer/me', undefined],
    ['/api/peer/me', admin],
    ['/api/peers/phone/config', peer],
    ['/api/peers/nobody/config', admin],
    ['/api/peer/me/', peer],
    ['/api//peer/me', peer],
    ['/api/peer/./me', peer],
    ['/API/PEER/ME', peer],
    ['/api/peer/me;x', peer],
    ['/api/peer%2fme', peer],
    ['/api/peer/me?x=1', peer],
    ['/api/peers/phone/config/', admin],
    ['/api/peers/PHONE/config', admin],
  ];
  for (const [url, s] of cases) {
    const res = await kit.app.inject({ url, headers: s ? authed(s) : {}, remoteAddress: '192.168.9.2' });
    assertNoStore(res, url);
  }
});
