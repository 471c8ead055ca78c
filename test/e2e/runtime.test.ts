// The whole cell on the Docker engine: up, set up through Caddy, every core daemon doing its job,
// a killed container brought back by the monitor, torn down with nothing left behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { renderChronyConf } from '../../src/render/chrony/chrony-conf.ts';
import { SECURITY_HEADERS } from '../../src/schema/security-headers.ts';
import {
  ApiClient,
  completeSetup,
  docker,
  ensureImages,
  leftovers,
  startCell,
  type TestCell,
  tryDocker,
  until,
} from './harness.ts';

let cell: TestCell;
const api = () => new ApiClient(cell.url);
let admin: ApiClient;

before(async () => {
  ensureImages();
  cell = await startCell();
  admin = api();
});

after(() => {
  if (!cell) return;
  cell.destroy();
  assert.deepEqual(leftovers(cell.prefix), [], 'containers, networks or volumes left behind');
});

test('a second pic up with nothing changed does nothing', () => {
  const out = cell.pic(['up', '--no-build']);
  assert.match(out, /nothing to do/);
  // Every `pic up` issues a fresh setup token while setup is open: the earlier one stops working.
  cell.token = out.trim().split('\n').at(-1)!.trim();
});

test('setup through Caddy: 428 before, 201 with the token, then the API answers', async () => {
  const before428 = await admin.call('GET', '/api/config');
  assert.equal(before428.status, 428);
  const health = await admin.call('GET', '/health');
  assert.equal(health.status, 200);
  await completeSetup(cell, admin);
  const cfg = await admin.call('GET', '/api/config');
  assert.equal(cfg.status, 200);
  assert.equal((cfg.json as { identity: { cell_name: string } }).identity.cell_name, 'e2e');
  const ui = await fetch(`${cell.url}/setup`);
  assert.match(await ui.text(), /<div id="root">/);
});

test("the front door sends the API's security headers on the UI; the API's no-store passes through", async () => {
  // cell.url is cell-caddy's published port: the UI from its files, /api proxied to cell-api.
  const viaCaddy = (path: string, init: RequestInit = {}) =>
    fetch(`${cell.url}${path}`, {
      ...init,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, ...(init.headers ?? {}) },
    });
  const index = await viaCaddy('/');
  assert.equal(index.status, 200);
  assert.match(await index.text(), /<div id="root">/);
  const page = await viaCaddy('/peers');
  await page.arrayBuffer();
  const answer = await viaCaddy('/api/auth/me');
  assert.equal(answer.status, 200);
  await answer.arrayBuffer();
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    assert.equal(answer.headers.get(name), value, `API through Caddy: ${name}`);
    assert.equal(index.headers.get(name), value, `UI index.html: ${name}`);
    assert.equal(page.headers.get(name), value, `UI fallback route: ${name}`);
  }
  assert.match(index.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
  // Plain HTTP: no HSTS (it lands with the HTTPS server, issue 10).
  assert.equal(index.headers.get('strict-transport-security'), null);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assert.notEqual(index.headers.get('cache-control'), 'no-store', "the UI's files keep their caching");
  // A private-key-bearing answer through Caddy keeps cell-api's no-store.
  const created = await viaCaddy('/api/peers?qr=false', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'headers', create_account: false }),
  });
  const body = (await created.json()) as { config: string };
  assert.equal(created.status, 201, JSON.stringify(body));
  assert.match(body.config, /^PrivateKey = /m);
  assert.equal(created.headers.get('cache-control'), 'no-store');
  const cfg = await viaCaddy('/api/peers/headers/config');
  await cfg.arrayBuffer();
  assert.equal(cfg.status, 200);
  assert.equal(cfg.headers.get('cache-control'), 'no-store');
  for (const [name, value] of Object.entries(SECURITY_HEADERS))
    assert.equal(cfg.headers.get(name), value, name);
  const gone = await viaCaddy('/api/peers/headers', { method: 'DELETE' });
  await gone.arrayBuffer();
  assert.equal(gone.status, 200);
});

test('Unbound answers a DNS query on the published port', async () => {
  const r = new Resolver({ timeout: 2000, tries: 2 });
  r.setServers([`127.0.0.1:${cell.ports.dns}`]);
  assert.deepEqual(await r.resolve4('health.pic'), ['127.0.0.1']);
});

test('Unbound without forwarders does not recurse: SERVFAIL, and it sent nothing but replies', async () => {
  // Moved from scripts/smoke-images.sh: no query leaves the cell until the configuration names a forwarder.
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${cell.ports.dns}`]);
  await assert.rejects(r.resolve4('www.example.com'), /ESERVFAIL|SERVFAIL/);
  // /proc/net/snmp's Udp row: InDatagrams NoPorts InErrors OutDatagrams…; every datagram out is a reply.
  const row = docker(['exec', cell.name('dns'), 'cat', '/proc/net/snmp'])
    .split('\n')
    .find((l) => /^Udp: \d/.test(l));
  const [udpIn, , , udpOut] = (row ?? '').split(/\s+/).slice(1).map(Number);
  assert.ok(udpIn! > 0 && udpOut! <= udpIn!, `UDP in ${udpIn}, out ${udpOut}`);
});

test("Caddy's admin API: no other container on the cell network reaches it; its socket refuses a foreign Host", () => {
  const ip = docker([
    'inspect',
    '-f',
    '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
    cell.name('caddy'),
  ]).trim();
  // cell-dns sits on the cell network: no TCP admin port to connect to, and no socket in its filesystem.
  const tcp = tryDocker(['exec', cell.name('dns'), 'bash', '-c', `exec 3<>/dev/tcp/${ip}/2019`]);
  assert.equal(tcp.ok, false, 'port 2019 of cell-caddy is closed to the cell network');
  const sock = tryDocker(['exec', cell.name('dns'), 'test', '-e', '/run/pic/caddy-admin/admin.sock']);
  assert.equal(sock.ok, false, 'the admin socket is not mounted in cell-dns');
  // Even on the socket, a Host other than the rendered origin is refused (a relayed request).
  const ask = (host: string) =>
    docker([
      'exec',
      cell.name('caddy'),
      'bash',
      '-c',
      `printf 'GET /config/ HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' | nc -N -U /run/pic/caddy-admin/admin.sock | head -1`,
    ]);
  assert.match(ask('evil.example'), / 403 /);
  assert.match(ask('caddy-admin.pic'), / 200 /);
});

test('https://<domain> serves a certificate chaining to /api/vault/ca.crt; :80 redirects the name to it', async () => {
  // Nothing applied by hand: setup alone hands Caddy the name chosen there (e2e.cell) and its certificate.
  const root = await fetch(`${cell.url}/api/vault/ca.crt`);
  assert.equal(root.status, 200);
  const rootFile = join(cell.dir, 'root.pem');
  writeFileSync(rootFile, await root.text());
  // This host is not on the VPN, so not a client of the cell's DNS: --resolve names the published
  // ports (no -k: the chain is checked).
  const curl = (url: string, port: number) =>
    spawnSync(
      'curl',
      ['-sS', '-D', '-', '-o', '/dev/null', '--max-time', '10', '--cacert', rootFile].concat([
        '--resolve',
        `e2e.cell:${port}:127.0.0.1`,
        url,
      ]),
      { encoding: 'utf8' },
    );
  const https = await until('Caddy to serve e2e.cell after setup', async () => {
    const r = curl(`https://e2e.cell:${cell.ports.https}/health`, cell.ports.https);
    return r.status === 0 ? r : undefined;
  });
  assert.match(https.stdout, /^HTTP\/[\d.]+ 200/);
  assert.match(https.stdout.toLowerCase(), /^strict-transport-security: max-age=31536000\r$/m);
  const redirect = curl(`http://e2e.cell:${cell.ports.http}/x`, cell.ports.http);
  assert.match(redirect.stdout, /^HTTP\/1\.1 308/);
  assert.match(
    redirect.stdout.toLowerCase(),
    new RegExp(`^location: https://e2e\\.cell:${cell.ports.https}/x\r$`, 'm'),
  );
});

test("a request through the front door reaches the cell's log search as cell-api's line, without query string or header; Caddy's own lines too", async () => {
  const probe = await fetch(`${cell.url}/health?token=e2e-secret-value`, {
    headers: { authorization: 'Bearer e2e-secret-header' },
  });
  assert.equal(probe.status, 200);
  // The front door writes no access line (ADR 0018): cell-api logs every request Caddy proxies.
  const found = await until("cell-api's line for the probe in GET /api/logs", async () => {
    const r = await admin.call('GET', '/api/logs?service=api&limit=1000');
    const items = (r.json as { items: { msg: string; path?: string }[] }).items;
    return items.find((l) => l.msg === 'request' && l.path === '/health') ? items : undefined;
  });
  assert.doesNotMatch(JSON.stringify(found), /e2e-secret-value|e2e-secret-header/);
  // Caddy's own lines (its start, each config it loads) reach the same search.
  const caddy = await until("Caddy's own lines in GET /api/logs", async () => {
    const r = await admin.call('GET', '/api/logs?service=caddy&limit=1000');
    const items = (r.json as { items: { msg: string; logger?: string }[] }).items;
    return items.length > 0 ? items : undefined;
  });
  assert.ok(!caddy.some((l) => l.logger?.startsWith('http.log.access')), 'no front-door access line');
  assert.doesNotMatch(JSON.stringify(caddy), /e2e-secret-value|e2e-secret-header/);
});

test('chrony serves time and WireGuard has its interface', () => {
  assert.match(docker(['exec', cell.name('ntp'), 'chronyc', '-n', 'tracking']), /Reference ID/);
  assert.match(docker(['exec', cell.name('wireguard'), 'wg', 'show', 'wg0']), /listening port/);
});

test('the monitor reports every service running, and brings back a killed container', async () => {
  const status = await until('all services running', async () => {
    const r = await admin.call('GET', '/api/services/status');
    const s = r.json as { data_plane: string; services: { name: string; state: string }[] };
    return s.data_plane === 'running' && s.services.every((x) => x.state === 'running') ? s : undefined;
  });
  assert.ok(status.services.some((s) => s.name === cell.name('dns')));

  docker(['kill', cell.name('dns')]);
  await until('the monitor to notice', async () => {
    const r = await admin.call('GET', '/api/logs/audit?q=service');
    const items = (r.json as { items: { action: string; target: string }[] }).items;
    return items.some((i) => i.action === 'service restarted' && i.target === cell.name('dns'))
      ? true
      : undefined;
  });
  await until('cell-dns running again', async () =>
    docker(['inspect', '-f', '{{.State.Running}}', cell.name('dns')]).trim() === 'true' ? true : undefined,
  );
  const containers = await admin.call('GET', '/api/containers');
  assert.equal(containers.status, 200);
  const names = (containers.json as { containers: { name: string }[] }).containers.map((c) => c.name).sort();
  assert.deepEqual(names, ['api', 'caddy', 'dns', 'ntp', 'wireguard'].map((s) => cell.name(s)).sort());
  const foreign = await admin.call('POST', '/api/containers/not-ours/restart');
  assert.equal(foreign.status, 404);
});

test('a container PIC does not own is invisible to the API and survives pic down', async () => {
  const name = `${cell.prefix}foreign`;
  docker(['run', '-d', '--name', name, '--network', 'none', 'debian:bookworm-slim', 'sleep', '600']);
  try {
    for (const [method, path] of [
      ['GET', `/api/containers/${name}`],
      ['POST', `/api/containers/${name}/stop`],
      ['GET', `/api/containers/${name}/logs`],
    ] as const) {
      assert.equal((await admin.call(method, path)).status, 404, `${method} ${path}`);
    }
    cell.pic(['down']);
    assert.equal(docker(['inspect', '-f', '{{.State.Running}}', name]).trim(), 'true');
    assert.deepEqual(leftovers(cell.prefix), []);
    cell.pic(['up', '--no-build']);
  } finally {
    docker(['rm', '-f', name]);
  }
});

test('a configuration change is applied through the API: cell-ntp follows a local upstream', async () => {
  // An NTP server the test starts itself, on the cell's own network: chrony's upstream never leaves the machine.
  // It runs the image like the cell does, from a rendered chrony.conf: its own clock, for the cell network.
  const confDir = mkdtempSync(join(tmpdir(), 'pic-e2e-ntp-upstream-'));
  writeFileSync(
    join(confDir, 'chrony.conf'),
    renderChronyConf({ servers: [], allow: ['10.0.0.0/8'] }).output,
  );
  chmodSync(confDir, 0o755);
  const upstream = `${cell.prefix}ntp-upstream`;
  const upstreamIp = runOnCellNetwork(upstream, 50, [
    '-v',
    `${confDir}:/etc/pic/chrony:ro`,
    'pic/cell-ntp:latest',
  ]);
  try {
    const put = await admin.call('PUT', '/api/config', { network: { ntp_servers: [upstreamIp] } });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const pending = (put.json as { pending: { restart: string[] } }).pending;
    assert.deepEqual(pending.restart, ['cell-ntp']);
    const applied = await admin.call('POST', '/api/config/apply');
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    assert.deepEqual((applied.json as { restarted: string[] }).restarted, [cell.name('ntp')]);
    await until('cell-ntp to use the local upstream', async () => {
      const sources = docker(['exec', cell.name('ntp'), 'chronyc', '-n', 'sources']);
      return sources.includes(upstreamIp) ? true : undefined;
    });
    const after = await admin.call('GET', '/api/config/pending');
    assert.equal((after.json as { pending: boolean }).pending, false);
  } finally {
    docker(['rm', '-f', upstream]);
    rmSync(confDir, { recursive: true, force: true });
  }
});

test('Unbound forwards only to the resolver the test started, once the configuration names it', async () => {
  // The upstream is another cell-dns on the cell network, serving one name of its own.
  const zoneDir = mkdtempSync(join(tmpdir(), 'pic-e2e-upstream-'));
  writeFileSync(
    join(zoneDir, 'zone.conf'),
    'server:\n    local-zone: "e2e-upstream." static\n    local-data: "echo.e2e-upstream. 60 IN A 192.0.2.7"\n',
  );
  chmodSync(zoneDir, 0o755);
  const upstream = `${cell.prefix}dns-upstream`;
  const upstreamIp = runOnCellNetwork(upstream, 51, [
    '-v',
    `${zoneDir}:/etc/pic/unbound:ro`,
    'pic/cell-dns:latest',
  ]);
  const resolver = new Resolver({ timeout: 3000, tries: 1 });
  resolver.setServers([`127.0.0.1:${cell.ports.dns}`]);
  try {
    await assert.rejects(resolver.resolve4('echo.e2e-upstream'), 'no forwarder yet: the name is unknown');
    // The stand-in upstream signs nothing: with DNSSEC validation on (the default) its answer for a
    // name the root says does not exist is bogus, so this test turns validation off with it.
    const put = await admin.call('PUT', '/api/config', {
      network: { dns_forwarders: [upstreamIp], dnssec: false },
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.deepEqual((put.json as { pending: { restart: string[] } }).pending.restart, ['cell-dns']);
    const applied = await admin.call('POST', '/api/config/apply');
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    const answer = await until('cell-dns to forward to the local upstream', async () => {
      const a = await resolver.resolve4('echo.e2e-upstream').catch(() => undefined);
      return a?.length ? a : undefined;
    });
    assert.deepEqual(answer, ['192.0.2.7']);
  } finally {
    docker(['rm', '-f', upstream]);
    rmSync(zoneDir, { recursive: true, force: true });
  }
});

/** Starts a container of the test's own beside the cell's, at a fixed host offset; returns its address. */
function runOnCellNetwork(name: string, offset: number, args: string[]): string {
  const ip = cellNetworkAddress(offset);
  docker(['run', '-d', '--name', name, '--network', `${cell.prefix}cell-network`, '--ip', ip, ...args]);
  return ip;
}

/** An address on the cell network by host offset. */
function cellNetworkAddress(offset: number): string {
  const subnet = docker([
    'network',
    'inspect',
    '-f',
    '{{(index .IPAM.Config 0).Subnet}}',
    `${cell.prefix}cell-network`,
  ]).trim();
  return subnet.replace(/\.0\.0\/16$/, `.0.${offset}`);
}
