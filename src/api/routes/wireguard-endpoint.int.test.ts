// Where exported configs send devices, through inject() on a real temp cell: the host's facts as
// `pic up` hands them to cell-api pick the endpoint when the owner set none, the owner's setting wins,
// and GET /api/wireguard/status says what is wrong with it. Names resolve through a stub: no lookup
// leaves the machine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EndpointPort } from '../../core/peers/endpoint-port.ts';
import { authed, completeSetup, type Kit, type Login, makeKit } from '../test-kit.ts';

const names: Record<string, string[]> = { 'vpn.example.org': ['203.0.113.7'] };
const endpoint: EndpointPort = {
  host: () => ({ address: '192.168.1.20', name: 'nas', addresses: ['192.168.1.20', '203.0.113.7'] }),
  guess: () => '172.20.0.10',
  published: () => ['192.168.1.20', '203.0.113.7'],
  resolve: async (name) => names[name],
};

let kit: Kit;
let admin: Login;
before(async () => {
  kit = await makeKit({}, { endpoint });
  admin = await completeSetup(kit);
});
after(() => kit.close());

const status = async () => {
  const r = await kit.app.inject({ url: '/api/wireguard/status', headers: authed(admin) });
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as {
    endpoint: string;
    endpoint_source: string;
    endpoint_warnings: { code: string; message: string }[];
  };
};
const setEndpoint = async (host: string) => {
  const r = await kit.app.inject({
    method: 'PUT',
    url: '/api/config',
    payload: { network: { endpoint_host: host } },
    headers: authed(admin),
  });
  assert.equal(r.statusCode, 200, r.body);
};

test("no endpoint set: configs dial the host's default-route address, with the private-address warning", async () => {
  const created = await kit.app.inject({
    method: 'POST',
    url: '/api/peers',
    payload: { name: 'phone', create_account: false },
    headers: authed(admin),
  });
  assert.equal(created.statusCode, 201, created.body);
  assert.match(created.json().config, /^Endpoint = 192\.168\.1\.20:51820$/m);
  const s = await status();
  assert.equal(s.endpoint, '192.168.1.20:51820');
  assert.equal(s.endpoint_source, 'host_route');
  assert.deepEqual(
    s.endpoint_warnings.map((w) => w.code),
    ['private_address'],
  );
  assert.match(s.endpoint_warnings[0]!.message, /Settings → Network/);
});

test("the owner's endpoint wins; a public name of this host warns of nothing, a stranger's address does", async () => {
  await setEndpoint('vpn.example.org');
  let s = await status();
  assert.equal(s.endpoint, 'vpn.example.org:51820');
  assert.equal(s.endpoint_source, 'config');
  assert.deepEqual(s.endpoint_warnings, []);
  const exported = await kit.app.inject({ url: '/api/peers/phone/config', headers: authed(admin) });
  assert.match(exported.json().config, /^Endpoint = vpn\.example\.org:51820$/m);

  await setEndpoint('198.51.100.9');
  s = await status();
  assert.deepEqual(
    s.endpoint_warnings.map((w) => w.code),
    ['not_this_host'],
  );
  await setEndpoint('nowhere.example.org');
  s = await status();
  assert.deepEqual(
    s.endpoint_warnings.map((w) => w.code),
    ['unresolved'],
  );
  await setEndpoint('');
  assert.equal((await status()).endpoint_source, 'host_route');
});
