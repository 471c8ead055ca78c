// The front door for real: the rendered Caddy config run by the real `caddy` on loopback ports, with
// the certificate the real cell CA issued and delivered as cell-api delivers it, in front of the real
// API. Checked with curl as a device would: https://<domain> verifies against the cell's root (never
// -k), :80 redirects the cell's names to https, HSTS only on HTTPS, the API sees HTTPS (Secure
// cookie), the admin API over its unix socket loads a new config and is not sent an unchanged one, a
// renewed certificate is served after a forced reload, a store service's access lines carry no query
// string or header and the front door writes none (cell-api logs its own requests).
// The only changes to the rendered text are the ones a test on loopback needs: listen addresses,
// the socket, certificate and UI paths (they live in the containers' own directories in the cell).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from 'node:tls';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { ADMIN_PASSWORD, completeSetup, type Kit, makeKit } from './api/test-kit.ts';
import { FrontDoorTls } from './core/front-door/front-door-tls.ts';
import { CaddyAdmin } from './drivers/caddy/caddy-admin.ts';
import { caddyTlsFiles } from './drivers/caddy/caddy-tls-files.ts';
import { StoreServicesStore } from './drivers/store/store-services-store.ts';
import { renderCaddyConfig } from './render/caddy/caddy-config.ts';
import { CADDY_ADMIN_SOCKET, CADDY_TLS_DIR } from './schema/runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'pic-front-door-'));
const tlsDir = join(dir, 'tls');
const www = join(dir, 'www');
const socketPath = join(dir, 'admin.sock');
const rootFile = join(dir, 'root.pem');
const DOMAIN = 'home.cell';
let kit: Kit;
let caddy: ChildProcess | undefined;
let log = '';
let ports: {
  http: number;
  https: number;
  lan: number;
  api: number;
  storeHttps: number;
  storeHttp: number;
  storeUpstream: number;
};
/** A store service's name, served by its own Caddy servers in front of `upstream` (ADR 0023). */
const STORE_HOST = `notes.${DOMAIN}`;
const STORE_UPSTREAM = 'cell-notes_web:8080';
let upstream: HttpServer | undefined;
let tls: FrontDoorTls;
let configText = '';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/** The rendered config, moved onto loopback ports and this test's directories. */
function loopbackConfig(): string {
  const rendered = renderCaddyConfig({
    adminSocket: CADDY_ADMIN_SOCKET,
    apiUpstream: `127.0.0.1:${ports.api}`,
    https: {
      domain: DOMAIN,
      certFile: `${CADDY_TLS_DIR}/cert.pem`,
      keyFile: `${CADDY_TLS_DIR}/key.pem`,
      publicPort: ports.https,
    },
    store: {
      caddyAddress: '127.0.0.1',
      sites: [
        {
          id: 'notes',
          virtualIp: '10.0.0.50',
          ports: { https: ports.storeHttps, http: ports.storeHttp },
          hosts: [{ label: 'notes', host: STORE_HOST, upstream: STORE_UPSTREAM, address: '10.0.0.50' }],
          addresses: ['10.0.0.50'],
        },
      ],
    },
  }).output;
  return rendered
    .replaceAll(`"${STORE_UPSTREAM}"`, JSON.stringify(`127.0.0.1:${ports.storeUpstream}`))
    .replaceAll(`unix/${CADDY_ADMIN_SOCKET}`, `unix/${socketPath}`)
    .replaceAll(`"${CADDY_TLS_DIR}/`, `"${tlsDir}/`)
    .replaceAll('"/srv/www"', JSON.stringify(www))
    .replaceAll('":80"', `"127.0.0.1:${ports.http}"`)
    .replaceAll('":443"', `"127.0.0.1:${ports.https}"`)
    .replaceAll('":8081"', `"127.0.0.1:${ports.lan}"`);
}

/**
 * curl as a device: verifies against the cell's root, resolves the cell's name to loopback. Async: the
 * API behind Caddy runs in this process and must keep answering while curl waits.
 */
async function curl(
  args: string[],
): Promise<{ status: number; headers: string; body: string; stderr: string; code: number }> {
  const r = await run('curl', [
    '-sS',
    '-D',
    '-',
    '--max-time',
    '10',
    '--cacert',
    rootFile,
    '--resolve',
    `${DOMAIN}:${ports.https}:127.0.0.1`,
    '--resolve',
    `${DOMAIN}:${ports.http}:127.0.0.1`,
    '--resolve',
    `${STORE_HOST}:${ports.storeHttps}:127.0.0.1`,
    ...args,
  ]);
  const [headers = '', ...rest] = r.stdout.split('\r\n\r\n');
  return {
    status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)?.[1] ?? 0),
    headers: headers.toLowerCase(),
    body: rest.join('\r\n\r\n'),
    stderr: r.stderr,
    code: r.status ?? -1,
  };
}

/** The serial of the certificate Caddy serves for the domain (the chain verified against the root). */
const servedSerial = (root: string, servername: string | undefined, verify = true) =>
  new Promise<string>((resolve, reject) => {
    const opts = servername ? { servername } : {};
    const s = connect(
      { host: '127.0.0.1', port: ports.https, ca: root, rejectUnauthorized: verify, ...opts },
      () => {
        const serial = s.getPeerCertificate().serialNumber.toLowerCase();
        s.end();
        resolve(serial);
      },
    );
    s.on('error', reject);
  });

function run(
  cmd: string,
  args: string[],
): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, status: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

async function waitFor(what: string, fn: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (
    !(await Promise.resolve()
      .then(fn)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  ports = {
    http: await freePort(),
    https: await freePort(),
    lan: await freePort(),
    api: await freePort(),
    storeHttps: await freePort(),
    storeHttp: await freePort(),
    storeUpstream: await freePort(),
  };
  // The store service behind its servers: answers every request with 200.
  upstream = createHttpServer((_req, res) => res.end('note'));
  await new Promise<void>((resolve) => upstream!.listen(ports.storeUpstream, '127.0.0.1', resolve));
  mkdirSync(www);
  writeFileSync(join(www, 'index.html'), '<!doctype html><title>PIC</title>');
  // The build's precompressed copies (web/precompress.ts): served as they are, never compressed here.
  mkdirSync(join(www, 'assets'));
  writeFileSync(join(www, 'assets', 'app.js'), 'console.log("plain");');
  writeFileSync(join(www, 'assets', 'app.js.gz'), gzipSync('console.log("gzip");'));
  writeFileSync(join(www, 'assets', 'app.js.br'), brotliCompressSync('console.log("br");'));
  kit = await makeKit({ trustedProxies: ['127.0.0.1'] }, {}, join(dir, 'api'));
  await completeSetup(kit, { cell_name: 'home' });
  await kit.app.listen({ host: '127.0.0.1', port: ports.api });
  writeFileSync(rootFile, await kit.cell.deps.vault.rootPem());
  tls = new FrontDoorTls({
    certificateFor: (identity) => kit.cell.deps.tls.certificateFor(identity),
    files: caddyTlsFiles(tlsDir, { gid: process.getgid?.() ?? 0, rootOwner: process.getuid?.() ?? 0 }),
  });
  assert.equal(await tls.ensure(kit.cell.deps.config.get()), 'delivered');
  configText = loopbackConfig();
  const file = join(dir, 'caddy.json');
  writeFileSync(file, configText);
  caddy = spawn('caddy', ['run', '--config', file], {
    env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  caddy.stderr?.on('data', (c) => {
    log += c;
  });
  await waitFor(
    'caddy on https',
    async () => (await curl([`https://${DOMAIN}:${ports.https}/`])).status === 200,
  );
});

after(async () => {
  if (caddy?.pid) process.kill(caddy.pid, 'SIGTERM');
  upstream?.close();
  await kit?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('https://<domain> verifies against the cell root; the UI and the API answer, with HSTS', async () => {
  const ui = await curl([`https://${DOMAIN}:${ports.https}/some/client/route`]);
  assert.equal(ui.status, 200, ui.stderr);
  assert.match(ui.body, /<title>PIC<\/title>/);
  assert.match(ui.headers, /^strict-transport-security: max-age=31536000$/m);
  assert.match(ui.headers, /^content-security-policy: /m);
  const api = await curl([`https://${DOMAIN}:${ports.https}/api/vault/ca.crt`]);
  assert.equal(api.status, 200, api.stderr);
  assert.match(api.headers, /^strict-transport-security: max-age=31536000$/m);
  assert.match(api.body, /BEGIN CERTIFICATE/);
  // Without the root the chain is not trusted: the check above is real.
  const r = await run('curl', [
    '-sS',
    '--max-time',
    '10',
    '--resolve',
    `${DOMAIN}:${ports.https}:127.0.0.1`,
    `https://${DOMAIN}:${ports.https}/`,
  ]);
  assert.notEqual(r.status, 0);
});

test("the UI's files: the build's compressed copy the browser accepts, with the security headers", async () => {
  const url = `https://${DOMAIN}:${ports.https}/assets/app.js`;
  const br = await curl(['-H', 'accept-encoding: gzip, deflate, br, zstd', url]);
  assert.equal(br.status, 200, br.stderr);
  assert.match(br.headers, /^content-encoding: br$/m);
  assert.match(br.headers, /^vary: accept-encoding$/m);
  assert.match(br.headers, /^strict-transport-security: max-age=31536000$/m);
  assert.match(br.headers, /^content-security-policy: /m);
  const gz = await curl(['--compressed', '-H', 'accept-encoding: gzip', url]);
  assert.match(gz.headers, /^content-encoding: gzip$/m);
  assert.equal(gz.body, 'console.log("gzip");');
  // Without Accept-Encoding the file itself; index.html has no copy: served as it is, uncompressed.
  const plain = await curl([url]);
  assert.doesNotMatch(plain.headers, /content-encoding/);
  assert.equal(plain.body, 'console.log("plain");');
  const index = await curl(['-H', 'accept-encoding: gzip, br, zstd', `https://${DOMAIN}:${ports.https}/`]);
  assert.doesNotMatch(index.headers, /content-encoding/);
  assert.match(index.body, /<title>PIC<\/title>/);
  // A directory without an index is a client-side route too.
  const assets = await curl([`https://${DOMAIN}:${ports.https}/assets/`]);
  assert.equal(assets.status, 200);
  assert.match(assets.body, /<title>PIC<\/title>/);
});

test('the API sees HTTPS through Caddy: the session cookie is __Host- and Secure', async () => {
  const body = join(dir, 'login.json');
  writeFileSync(body, JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }), { mode: 0o600 });
  const r = await curl([
    '-H',
    'content-type: application/json',
    '--data-binary',
    `@${body}`,
    `https://${DOMAIN}:${ports.https}/api/auth/login`,
  ]);
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers, /^set-cookie: __host-pic_session=[^;]+;.*; secure/m);
});

test(':80 redirects the cell names to https (no HSTS there); other hosts and :8081 stay plain', async () => {
  const r = await curl([`http://${DOMAIN}:${ports.http}/peers?tab=1`]);
  assert.equal(r.status, 308);
  assert.match(r.headers, new RegExp(`^location: https://${DOMAIN}:${ports.https}/peers\\?tab=1$`, 'm'));
  assert.doesNotMatch(r.headers, /strict-transport-security/);
  const sub = await curl(['-H', `host: files.${DOMAIN}`, `http://127.0.0.1:${ports.http}/`]);
  assert.equal(sub.status, 308);
  const ip = await curl([`http://127.0.0.1:${ports.http}/`]);
  assert.equal(ip.status, 200);
  assert.doesNotMatch(ip.headers, /strict-transport-security/);
  const lan = await curl([`http://127.0.0.1:${ports.lan}/health`]);
  assert.equal(lan.status, 200);
  assert.doesNotMatch(lan.headers, /strict-transport-security/);
});

test('mail autoconfig reaches the API at autoconfig.<domain> and under /.well-known on any name', async () => {
  const at = (host: string, path: string) =>
    curl(['--resolve', `${host}:${ports.https}:127.0.0.1`, `https://${host}:${ports.https}${path}`]);
  const AUTO = `autoconfig.${DOMAIN}`;
  // Email not installed: the API's 404 (JSON), not the UI's index.html.
  const none = await at(AUTO, '/mail/config-v1.1.xml');
  assert.equal(none.status, 404, none.stderr);
  assert.match(none.body, /autoconfig/i);
  assert.equal((await at(DOMAIN, '/.well-known/autoconfig/mail/config-v1.1.xml')).status, 404);
  // The same path on the cell's own name stays the UI's (a client-side route).
  const ui = await at(DOMAIN, '/mail/config-v1.1.xml');
  assert.equal(ui.status, 200);
  assert.match(ui.body, /<title>PIC<\/title>/);

  const installed = new StoreServicesStore(kit.cell.db);
  installed.put({
    id: 'email',
    version: '1.0.0',
    state: 'running',
    virtualIp: undefined,
    images: {},
    manifest: {
      schema_version: 1,
      id: 'email',
      name: 'Email',
      description: 'Mail.',
      version: '1.0.0',
      kind: 'app',
      containers: [{ name: 'mail', image: { build: '.' } }],
      dns_names: ['mail'],
      accounts: {
        container: 'mail',
        add: ['/bin/acct', 'add', '{username}'],
        remove: ['/bin/acct', 'remove', '{username}'],
        list: ['/bin/acct', 'list'],
      },
    },
    installedAt: new Date(0).toISOString(),
    lastError: undefined,
  });
  try {
    for (const [host, path] of [
      [AUTO, '/mail/config-v1.1.xml'],
      [AUTO, '/.well-known/autoconfig/mail/config-v1.1.xml'],
      [DOMAIN, '/.well-known/autoconfig/mail/config-v1.1.xml'],
    ] as const) {
      const r = await at(host, `${path}?emailaddress=alice%40${DOMAIN}`);
      assert.equal(r.status, 200, `${host}${path}: ${r.stderr}${r.body}`);
      assert.match(r.headers, /^content-type: application\/xml/m);
      assert.match(r.headers, /^strict-transport-security: max-age=31536000$/m);
      assert.ok(r.body.includes(`<hostname>mail.${DOMAIN}</hostname>`), r.body);
    }
  } finally {
    installed.remove('email');
  }
});

test('the admin socket: an unchanged config is not sent, a new one is loaded and served', async () => {
  const loads = () =>
    log.split('\n').filter((l) => l.includes('"received request"') && l.includes('"/load"')).length;
  assert.ok(statSync(socketPath).isSocket());
  const admin = new CaddyAdmin({ socketPath });
  const before = loads();
  assert.equal(await admin.load(configText), 'loaded');
  assert.equal(await admin.load(configText), 'unchanged');
  await waitFor('one load in the log', () => loads() === before + 1);
  const changed = configText.replaceAll('"/index.html"', '"/missing.html"');
  assert.equal(await admin.load(changed), 'loaded');
  await waitFor(
    'the new config',
    async () => (await curl([`https://${DOMAIN}:${ports.https}/nowhere`])).status === 404,
  );
  assert.equal(await admin.load(configText), 'loaded');
});

test('a renewed certificate on disk is served after a forced reload of the same config', async () => {
  const root = await kit.cell.deps.vault.rootPem();
  const first = await servedSerial(root, DOMAIN);
  // Any SNI (or none, as when a device dials the host's IP) gets the cell's certificate.
  assert.equal(await servedSerial(root, undefined, false), first);
  // A revoked server certificate makes the vault issue a new one for the same names, as renewal does
  // when fewer than 30 days are left; cell-api then delivers it and forces Caddy to read it.
  await kit.cell.deps.vault.revoke(first, 'superseded');
  const admin = new CaddyAdmin({ socketPath });
  const renewing = new FrontDoorTls({
    certificateFor: (identity) => kit.cell.deps.tls.certificateFor(identity),
    files: caddyTlsFiles(tlsDir, { gid: process.getgid?.() ?? 0, rootOwner: process.getuid?.() ?? 0 }),
    reload: async () => admin.reload(configText),
  });
  assert.equal(await renewing.ensure(kit.cell.deps.config.get()), 'delivered');
  await waitFor('the new certificate', async () => (await servedSerial(root, DOMAIN)) !== first);
});

type AccessLine = { logger: string; request?: { uri?: string; host?: string } };
const accessLines = (): AccessLine[] =>
  log
    .split('\n')
    .filter((l) => l.includes('"logger":"http.log.access'))
    .map((l) => JSON.parse(l) as AccessLine);

test("access lines: a store service's, without query string or header; none from the front door", async () => {
  const secrets = ['-H', 'cookie: pic_session=cookie-secret-1', '-H', 'authorization: Bearer auth-secret-2'];
  const front = await curl([...secrets, `https://${DOMAIN}:${ports.https}/health?token=query-secret-3`]);
  assert.equal(front.status, 200);
  assert.equal((await curl([`https://${DOMAIN}:${ports.https}/index.html`])).status, 200);
  const svc = await curl([...secrets, `https://${STORE_HOST}:${ports.storeHttps}/note?token=query-secret-4`]);
  assert.equal(svc.status, 200);
  assert.equal(svc.body, 'note');
  await waitFor('the store access line', () => accessLines().some((l) => l.request?.uri === '/note'));
  // Every access line is the store service's: the front door's requests (the API's, the UI's files)
  // have none; cell-api wrote its own line for /health (ADR 0018).
  for (const l of accessLines()) assert.match(l.request?.host ?? '', new RegExp(`^${STORE_HOST}(:\\d+)?$`));
  const apiLog = join(dir, 'api', 'data', 'logs', 'api.log');
  await waitFor("cell-api's own line for /health", () =>
    existsSync(apiLog) ? readFileSync(apiLog, 'utf8').includes('"path":"/health"') : false,
  );
  // No secret in any of Caddy's lines, its own included.
  assert.doesNotMatch(log, /secret-[1234]/);
  for (const l of log.split('\n').filter((x) => x.includes('"logger":"http.log.access')))
    assert.doesNotMatch(l, /"headers"/);
});
