// The endpoint warnings: private ranges by name, an endpoint that is not where this host publishes the
// WireGuard port, a name that does not resolve; a public address of this host warns of nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointWarnings, privateKind } from './endpoint-warnings.ts';

const codes = (w: { code: string }[]) => w.map((x) => x.code);

test('every non-public range is named: RFC 1918, CGNAT, link-local, loopback', () => {
  assert.match(privateKind('10.1.2.3')!, /RFC 1918/);
  assert.match(privateKind('172.31.255.254')!, /RFC 1918/);
  assert.match(privateKind('192.168.0.1')!, /RFC 1918/);
  assert.match(privateKind('100.64.0.1')!, /carrier-grade NAT/);
  assert.match(privateKind('100.127.255.255')!, /carrier-grade NAT/);
  assert.match(privateKind('169.254.10.1')!, /link-local/);
  assert.match(privateKind('127.0.0.1')!, /loopback/);
  for (const ip of ['172.32.0.1', '100.128.0.1', '203.0.113.7', '198.51.100.8', '192.169.0.1'])
    assert.equal(privateKind(ip), undefined, ip);
});

test('a private address of this host: one warning, saying who can and cannot connect, pointing to Settings', () => {
  const w = endpointWarnings({ host: '192.168.1.20', port: 51820, published: ['192.168.1.20'] });
  assert.deepEqual(codes(w), ['private_address']);
  assert.match(w[0]!.message, /same network as this host can connect/);
  assert.match(w[0]!.message, /cannot/);
  assert.match(w[0]!.message, /Settings → Network/);
  assert.match(w[0]!.message, /UDP port 51820/);
});

test('a public address of this host warns of nothing', () => {
  assert.deepEqual(endpointWarnings({ host: '203.0.113.7', port: 51820, published: ['203.0.113.7'] }), []);
});

test("an address that is not where the port is published is named (the cell container's own, a router's)", () => {
  const inside = endpointWarnings({ host: '172.20.0.10', port: 51820, published: ['192.168.1.20'] });
  assert.deepEqual(codes(inside), ['private_address', 'not_this_host']);
  assert.match(
    inside[1]!.message,
    /not an address where this host publishes the WireGuard port \(192\.168\.1\.20\)/,
  );
  const router = endpointWarnings({ host: '203.0.113.7', port: 51999, published: ['192.168.1.20'] });
  assert.deepEqual(codes(router), ['not_this_host']);
  assert.match(router[0]!.message, /only if 203\.0\.113\.7 forwards UDP port 51999/);
});

test('unknown published addresses skip that check; loopback gets the loopback message only', () => {
  assert.deepEqual(codes(endpointWarnings({ host: '203.0.113.7', port: 1 })), []);
  const lo = endpointWarnings({ host: '127.0.0.1', port: 1, published: ['192.168.1.20'] });
  assert.deepEqual(codes(lo), ['private_address']);
  assert.match(lo[0]!.message, /only this host itself/);
});

test('a name is judged by what it resolves to; a name that does not resolve says so', () => {
  const own = endpointWarnings({
    host: 'vpn.example.org',
    port: 51820,
    resolved: ['203.0.113.7'],
    published: ['203.0.113.7', '192.168.1.20'],
  });
  assert.deepEqual(own, []);
  const lan = endpointWarnings({
    host: 'nas',
    port: 51820,
    resolved: ['192.168.1.20'],
    published: ['192.168.1.20'],
  });
  assert.deepEqual(codes(lan), ['private_address']);
  assert.match(lan[0]!.message, /^Peers dial nas \(192\.168\.1\.20\)/);
  const none = endpointWarnings({
    host: 'nas',
    port: 51820,
    resolved: undefined,
    published: ['192.168.1.20'],
  });
  assert.deepEqual(codes(none), ['unresolved']);
  assert.match(none[0]!.message, /Settings → Network/);
});
