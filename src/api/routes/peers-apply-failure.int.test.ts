// A change the data plane refuses after it was stored: the answer says so (applied: false, and why)
// instead of a 503 that would lose what only that answer carries, such as a generated password. The
// background tick applies the stored change once WireGuard takes it again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WireguardPort } from '../../core/peers/wireguard-port.ts';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from '../test-kit.ts';

let kit: Kit;
let admin: Login;
let refuse = true;
let applies = 0;
const wireguard: WireguardPort = {
  running: async () => true,
  loaded: async () => !refuse,
  apply: async () => {
    applies++;
    if (refuse) throw new Error('iptables-restore: line 3 failed');
  },
  dump: async () => undefined,
};

before(async () => {
  kit = await makeKit({}, { wireguard, background: false });
  admin = await completeSetup(kit);
});
after(() => kit.close());

test('a peer created while WireGuard refuses: 201 with its password, applied: false and the reason', async () => {
  const r = await kit.app.inject({
    method: 'POST',
    url: '/api/peers',
    headers: authed(admin),
    payload: { name: 'phone' },
  });
  assert.equal(r.statusCode, 201, r.body);
  const body = r.json();
  assert.match(body.password, /^\S{12,}$/, 'the generated password is in the answer');
  assert.equal(body.apply.applied, false);
  assert.equal(body.apply.data_plane, 'running');
  assert.match(body.apply.error, /stored and will be retried/);
  assert.doesNotMatch(body.apply.error, /iptables-restore/, "the driver's detail stays in the log");
  // The account works with that password, and the change goes live with the next tick.
  await login(kit.app, 'phone', body.password);
  refuse = false;
  const before = applies;
  await kit.cell.deps.peers.tick();
  assert.equal(applies, before + 1, 'the tick applied the stored peer');
  const status = await kit.app.inject({ url: '/api/wireguard/status', headers: authed(admin) });
  assert.equal(status.json().pending, false);
});
