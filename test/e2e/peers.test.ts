// Peers end to end: two devices on a network of their own (outside the cell network) bring up
// wireguard-go tunnels from the configs the API exports, unchanged and with no endpoint set by the test:
// they dial the host's default-route address that `pic up` handed to cell-api, at the published port,
// and get exactly what their access rules grant. The cell publishes on that host address only, and
// nothing here sends a packet off this machine (the devices' packets to it are delivered locally).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addPeer, CELL_VPN_IP, caddyIp as cellCaddyIp, DeviceCell, deviceName, pings } from './devices.ts';
import { type ApiClient, spawn, type TestCell, tryDocker, until } from './harness.ts';

// The cell publishes on the host's default-route address, as a cell on a LAN does; the devices' own
// bridge is not the cell network, so they reach it only through that address and the published port.
const devices = new DeviceCell('peers');
let cell: TestCell;
let admin: ApiClient;
let hostAddress = '';
const vpnIp: Record<string, string> = {};

/** Adds a peer (applied live in cell-wireguard) and notes its VPN address. */
async function addDevicePeer(name: string, services: string[]): Promise<void> {
  await addPeer(admin, name, services);
  const r = await admin.call('GET', `/api/peers/${name}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  vpnIp[name] = (r.json as { address: string }).address;
}

/** Exactly what a phone scanning the QR code gets: the host's LAN address, as `pic up` found it. */
const endpointIsHost = (config: string) =>
  assert.match(
    config,
    new RegExp(`^Endpoint = ${hostAddress.replaceAll('.', '\\.')}:${cell.ports.wg}$`, 'm'),
  );

const inDevice = (name: string, argv: string[]) => tryDocker(['exec', deviceName(cell, name), ...argv]);
const ping = (name: string, ip: string) => pings(deviceName(cell, name), ip);
const curlHealth = (name: string) =>
  inDevice(name, ['curl', '-fsS', '--max-time', '3', `http://${caddyIp()}/health`]);
const caddyIp = () => cellCaddyIp(cell);

before(async () => {
  await devices.start();
  ({ cell, admin, hostAddress } = devices);
});

after(() => devices.stop());

test("with no endpoint set, the status names the host's default-route address that pic up handed over", async () => {
  const config = await admin.call('GET', '/api/config');
  assert.equal((config.json as { network: { endpoint_host?: string } }).network.endpoint_host ?? '', '');
  const status = await admin.call('GET', '/api/wireguard/status');
  const s = status.json as {
    endpoint: string;
    endpoint_source: string;
    endpoint_warnings: { code: string }[];
  };
  assert.equal(s.endpoint, `${hostAddress}:${cell.ports.wg}`);
  assert.equal(s.endpoint_source, 'host_route');
  assert.ok(
    !s.endpoint_warnings.some((w) => w.code === 'not_this_host' || w.code === 'unresolved'),
    JSON.stringify(s.endpoint_warnings),
  );
});

test('two devices bring up tunnels from the exported configs: they ping the cell and resolve through its DNS', async () => {
  await addDevicePeer('alice', ['dns', 'web']);
  await addDevicePeer('bob', ['dns']);
  // Each device runs until it pings the cell over its tunnel; alice also downloads the cell's root
  // through it (bob, not granted web, cannot reach Caddy to do so).
  await devices.startDevice('alice', { onConfig: endpointIsHost });
  await devices.startDevice('bob', { onConfig: endpointIsHost, trustRoot: false });
  for (const name of ['alice', 'bob']) {
    const dig = inDevice(name, [
      'dig',
      '+short',
      '+time=2',
      '+tries=2',
      `@${CELL_VPN_IP}`,
      'health.pic',
      'A',
    ]);
    assert.equal(dig.stdout.trim(), '127.0.0.1', `${name} resolves through the cell: ${dig.stderr}`);
  }
  const status = await admin.call('GET', '/api/wireguard/status');
  const peers = (status.json as { peers: { name: string; latest_handshake: string | null }[] }).peers;
  for (const name of ['alice', 'bob'])
    assert.ok(peers.find((p) => p.name === name)?.latest_handshake, `${name} has a handshake`);
});

test('a granted service answers, a denied one is refused, and the devices cannot reach each other', () => {
  const allowed = curlHealth('alice');
  assert.ok(allowed.ok, `alice reaches Caddy: ${allowed.stderr}`);
  assert.match(allowed.stdout, /"status"/);
  const denied = curlHealth('bob');
  assert.equal(denied.ok, false, 'bob was not granted the web service');
  assert.equal(ping('alice', vpnIp.bob!), false, 'alice cannot reach bob');
  assert.equal(ping('bob', vpnIp.alice!), false, 'bob cannot reach alice');
});

test("the cell's zone through the tunnel: its name, a peer's name, a granted service; a service outside the view is NXDOMAIN", () => {
  const dig = (who: string, name: string) =>
    inDevice(who, ['dig', '+time=2', '+tries=2', `@${CELL_VPN_IP}`, name, 'A']);
  const answer = (who: string, name: string) => {
    const out = dig(who, name).stdout;
    return {
      status: /status: (\w+)/.exec(out)?.[1],
      a: [...out.matchAll(/^\S+\s+\d+\s+IN\s+A\s+(\S+)$/gm)].map((m) => m[1]),
    };
  };
  const domain = 'e2e.cell';
  assert.deepEqual(answer('alice', domain), { status: 'NOERROR', a: [caddyIp()] }, 'the cell itself');
  assert.deepEqual(
    answer('bob', `alice.${domain}`),
    { status: 'NOERROR', a: [vpnIp.alice] },
    "a peer's name",
  );
  assert.deepEqual(
    answer('alice', `web.${domain}`),
    { status: 'NOERROR', a: [caddyIp()] },
    'granted to alice',
  );
  assert.deepEqual(answer('bob', `web.${domain}`), { status: 'NXDOMAIN', a: [] }, "not in bob's view");
  assert.deepEqual(answer('bob', `dns.${domain}`).status, 'NOERROR', 'bob was granted DNS');
  assert.deepEqual(answer('alice', `nobody.${domain}`).status, 'NXDOMAIN');
});

test('a blocklist the owner uploads answers NXDOMAIN through the tunnel to a peer with blocking on, not to one with it off', async () => {
  const up = await fetch(`${cell.url}/api/dns/blocklists/upload?name=e2e.txt`, {
    method: 'POST',
    headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'text/plain' },
    body: '# an owner-made list\n0.0.0.0 ads.e2e-blocked.pictest\n',
  });
  assert.equal(up.status, 201, await up.text());
  const off = await admin.call('PUT', '/api/peers/bob', { blocklists: false });
  assert.equal(off.status, 200, JSON.stringify(off.json));
  const status = (who: string) =>
    /status: (\w+)/.exec(
      inDevice(who, ['dig', '+time=2', '+tries=2', `@${CELL_VPN_IP}`, 'ads.e2e-blocked.pictest', 'A']).stdout,
    )?.[1];
  await until('the list to reach cell-dns', async () => (status('alice') === 'NXDOMAIN' ? true : undefined));
  // The cell has no upstream here: a name it does not hold is SERVFAIL, never NXDOMAIN, unless blocked
  // (a made-up top-level name: Unbound answers special-use ones such as .test itself, NXDOMAIN).
  const bob = await until(
    'bob to be exempt',
    async () => {
      const s = status('bob');
      return s !== 'NXDOMAIN' ? s : undefined;
    },
    10_000,
  ).catch(() => {
    const exempt = tryDocker(['exec', cell.name('dns'), 'cat', '/etc/pic/unbound/exempt.rpz']);
    const unlisted = inDevice('bob', [
      'dig',
      '+time=2',
      '+tries=1',
      `@${CELL_VPN_IP}`,
      'x.e2e-unlisted.pictest',
      'A',
    ]);
    throw new Error(
      `bob still blocked; exempt.rpz:\n${exempt.stdout}${exempt.stderr}\nunlisted: ${unlisted.stdout}`,
    );
  });
  assert.equal(bob, 'SERVFAIL', 'bob turned blocking off');
  const stats = await admin.call('GET', '/api/dns/blocklists/stats');
  assert.ok(
    ((stats.json as { blocked_queries: number | null }).blocked_queries ?? 0) >= 1,
    JSON.stringify(stats.json),
  );
});

test('over the tunnel, a device opens https://<domain> by name, trusting only the root it downloaded (no -k)', async () => {
  // Nothing applied by hand: setup alone hands Caddy the name and certificate the owner chose
  // (e2e.cell). The device resolves through the DNS its exported config names (peer-up writes it to
  // resolv.conf, as wg-quick and the phone apps do). The root is the one alice's device downloaded
  // through the tunnel when it started (startDevice: by address, to /tmp/root.pem).
  const https = () =>
    inDevice('alice', [
      'curl',
      '-fsS',
      '--max-time',
      '5',
      '--cacert',
      '/tmp/root.pem',
      'https://e2e.cell/health',
    ]);
  const ok = await until('Caddy to serve e2e.cell with the cell CA after setup', async () => {
    const r = https();
    return r.ok ? r : undefined;
  });
  assert.match(ok.stdout, /"status"/);
  const untrusted = inDevice('alice', ['curl', '-sS', '--max-time', '5', 'https://e2e.cell/health']);
  assert.equal(untrusted.ok, false, 'without the root the certificate is not trusted');
});

test("the API knows a peer by its VPN address: a guess from alice's device is refused as hers, not the tunnel's", async () => {
  const login = inDevice('alice', [
    'curl',
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--max-time',
    '5',
    '-H',
    'Content-Type: application/json',
    '--data',
    JSON.stringify({ username: 'nobody-here', password: 'wrong-password-1' }),
    `http://${caddyIp()}/api/auth/login`,
  ]);
  assert.equal(login.stdout, '401', login.stderr);
  const r = await admin.call('GET', `/api/logs/audit/refusals?source=${vpnIp.alice}`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const items = (r.json as { items: { source: string; last_action: string }[] }).items;
  assert.ok(
    items.some((i) => i.source === vpnIp.alice && i.last_action === 'POST /api/auth/login'),
    `a refusal from ${vpnIp.alice}: ${JSON.stringify(items)}`,
  );
});

test("alice's tunnel never drops a ping while 50 other peers are added and removed", async () => {
  // ping in the device, its output read here (argv only: no shell in the container for a redirect).
  const pinger = spawn('docker', [
    'exec',
    deviceName(cell, 'alice'),
    'ping',
    '-O',
    '-i',
    '0.2',
    '-W',
    '1',
    CELL_VPN_IP,
  ]);
  let log = '';
  pinger.stdout!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  pinger.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const pingEnded = new Promise<void>((resolve) => pinger.once('close', () => resolve()));
  const names = Array.from({ length: 50 }, (_, i) => `churn-${i}`);
  for (const name of names) {
    const r = await admin.call('POST', '/api/peers', { name, create_account: false });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal((r.json as { apply: { applied: boolean } }).apply.applied, true, `${name} applied live`);
  }
  for (const name of names) {
    const r = await admin.call('DELETE', `/api/peers/${name}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  inDevice('alice', ['pkill', '-INT', '-x', 'ping']);
  await pingEnded;
  const seqs = [...log.matchAll(/bytes from .* icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
  assert.ok(seqs.length >= 10, `ping ran through the churn:\n${log}`);
  // `-O` prints "no answer yet" for a reply slower than the 200 ms interval: late on a loaded machine,
  // not lost. A loss is a sequence number that never gets its reply (checked below).
  assert.doesNotMatch(log, /Unreachable|prohibited/, 'the cell never refused a ping');
  // Every request up to the last one answered got its reply (a request in flight at SIGINT is not a loss).
  const last = Math.max(...seqs);
  const missing = Array.from({ length: last }, (_, i) => i + 1).filter((s) => !seqs.includes(s));
  assert.deepEqual(missing, [], `replies missing for icmp_seq ${missing.join(', ')}`);
});

test("a disabled peer's tunnel stops within seconds, and so does a removed one's", async () => {
  const off = await admin.call('PUT', '/api/peers/bob', { enabled: false });
  assert.equal(off.status, 200, JSON.stringify(off.json));
  let t0 = Date.now();
  await until('bob to lose the cell', async () => (ping('bob', CELL_VPN_IP) ? undefined : true), 10_000);
  assert.ok(Date.now() - t0 < 10_000);
  assert.ok(ping('alice', CELL_VPN_IP), 'alice keeps her tunnel');

  const removed = await admin.call('DELETE', '/api/peers/alice');
  assert.equal(removed.status, 200, JSON.stringify(removed.json));
  t0 = Date.now();
  await until('alice to lose the cell', async () => (ping('alice', CELL_VPN_IP) ? undefined : true), 10_000);
  assert.ok(Date.now() - t0 < 10_000);
});
