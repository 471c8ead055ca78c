// Domain modes with ACME end to end on a real cell and Debian's Pebble on loopback (nothing leaves
// the machine): DNS-01 through the DDNS provider interface (pic_ngo's TXT API, its URL pointed at a
// tiny adapter that sets the record in pebble-challtestsrv, whose DNS Pebble asks), the domain change
// pending until its certificate is here, the chain checked by openssl against Pebble's root with
// the wildcard in the SANs, renewal on a fake clock, a failed order reported with the old
// certificate still served, secrets 0600 and absent from answers and logs, hostile values refused,
// HTTP-01 answered by the API's /.well-known route that Caddy proxies, and the real `caddy` serving
// the Pebble certificate for the custom domain from the files cell-api delivers.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type PeerCertificate, connect as tlsConnect } from 'node:tls';
import { authed, completeSetup, type Kit, type Login, makeKit } from '../../api/test-kit.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { InstalledService } from '../../core/ports/service-store.ts';
import { renderCaddyConfig } from '../../render/caddy/caddy-config.ts';
import { CADDY_ADMIN_SOCKET, CADDY_TLS_DIR } from '../../schema/runtime.ts';
import { caddyTlsFiles } from '../caddy/caddy-tls-files.ts';
import { StoreServicesStore } from '../store/store-services-store.ts';
import { acmeClient } from './acme-client.ts';
import { freePort, type Pebble, startPebble } from './pebble-kit.ts';

const DAY = 86_400_000;
const DDNS_TOKEN = 'ddns-Very-S3cret-token';
const EAB_HMAC = 'c2VjcmV0LWhtYWMta2V5LWZvci1lYWItdGVzdA';

class FakeClock implements Clock {
  t = Date.now();
  now = () => this.t;
  setTimer = () => 0;
  clearTimer = () => {};
}

/** pic.ngo's TXT API in front of challtestsrv; `refuse` answers "updated" but sets nothing. */
async function txtAdapter(challtest: string) {
  const calls: string[] = [];
  const state = { refuse: false };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', async () => {
      const b = JSON.parse(body || '{}') as { name?: string; value?: string };
      calls.push(`${req.url} ${b.name}`);
      assert.equal(req.headers.authorization, `Bearer ${DDNS_TOKEN}`);
      if (req.url === '/v1/ddns/txt' && !state.refuse)
        await fetch(`${challtest}/set-txt`, {
          method: 'POST',
          body: JSON.stringify({ host: `${b.name}.`, value: b.value }),
        });
      if (req.url === '/v1/ddns/txt/delete')
        await fetch(`${challtest}/clear-txt`, {
          method: 'POST',
          body: JSON.stringify({ host: `${b.name}.` }),
        });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"updated"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  return { url, calls, state, close: () => new Promise((r) => server.close(r)) };
}

function logsText(kit: Kit): string {
  const dir = kit.cell.paths.logs;
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

describe('TLS with ACME against Pebble (DNS-01 through the DDNS provider)', () => {
  const clock = new FakeClock();
  let pebble: Pebble;
  let adapter: Awaited<ReturnType<typeof txtAdapter>>;
  let kit: Kit;
  let admin: Login;
  const tmp = mkdtempSync(join(tmpdir(), 'pic-tls-'));
  const req = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: Record<string, unknown>) =>
    kit.app.inject({ method, url, headers: authed(admin), ...(payload === undefined ? {} : { payload }) });
  const status = async () => (await req('GET', '/api/tls/status')).json();

  before(async () => {
    pebble = await startPebble();
    adapter = await txtAdapter(pebble.challtestUrl);
    kit = await makeKit(
      {},
      {
        clock,
        background: false,
        acme: acmeClient({ caPem: pebble.tlsCaPem, backoff: { minMs: 100, maxMs: 500, attempts: 20 } }),
        tls: { dnsPropagationMs: 0 },
      },
    );
    admin = await completeSetup(kit);
    const ddns = await req('PUT', '/api/ddns', {
      provider: 'pic_ngo',
      hostname: 'home.example.org',
      token: DDNS_TOKEN,
      api_url: adapter.url,
    });
    assert.equal(ddns.statusCode, 200, ddns.body);
  });

  after(async () => {
    await kit?.close();
    await adapter?.close();
    await pebble?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('hostile values are refused with 400 naming the field', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['/api/tls/settings', { directory_url: 'https://user:pw@127.0.0.1:14000/dir' }, 'directory_url'],
      ['/api/tls/settings', { directory_url: 'http://acme.example.org/dir' }, 'directory_url'],
      ['/api/tls/settings', { email: 'me@example.org\nBcc: x@example.org' }, 'email'],
      ['/api/tls/settings', { eab_hmac: 'c2VjcmV0LWhtYWMta2V5' }, 'eab_kid'],
      ['/api/config', { identity: { domain_mode: 'custom', domain: '{env.HOME}' } }, 'identity.domain'],
    ];
    for (const [url, body, field] of cases) {
      const res = await req('PUT', url, body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json().fields[0].field, field);
    }
    const bad = await kit.app.inject({ method: 'GET', url: '/.well-known/acme-challenge/..%2f..%2fetc' });
    assert.equal(bad.statusCode, 400);
    const unknown = await kit.app.inject({
      method: 'GET',
      url: `/.well-known/acme-challenge/${'a'.repeat(43)}`,
    });
    assert.equal(unknown.statusCode, 404);
  });

  test('local mode: the cell CA serves and nothing is contacted', async () => {
    const s = await status();
    assert.equal(s.mode, 'local');
    assert.equal(s.source, 'local');
    assert.equal(s.next_attempt, null);
    await kit.cell.deps.tls.tick();
    assert.deepEqual(adapter.calls, []);
    const renew = await req('POST', '/api/tls/renew');
    assert.equal(renew.statusCode, 409);
  });

  test('custom mode stays pending until applied; apply obtains the wildcard certificate first', async () => {
    const settings = await req('PUT', '/api/tls/settings', {
      directory_url: pebble.directoryUrl,
      email: 'owner@example.org',
      challenge: 'auto',
    });
    assert.equal(settings.statusCode, 200, settings.body);
    assert.equal(settings.json().effective_challenge, 'dns-01');
    const put = await req('PUT', '/api/config', {
      identity: { domain_mode: 'custom', domain: 'home.example.org' },
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().pending.pending, true);
    assert.equal((await status()).mode, 'local', 'pending: the old mode still serves');
    assert.deepEqual(adapter.calls, [], 'nothing contacted before apply');

    const apply = await req('POST', '/api/config/apply');
    assert.equal(apply.statusCode, 200, apply.body);
    const s = await status();
    assert.equal(s.mode, 'custom');
    assert.equal(s.source, 'acme');
    assert.match(s.issuer, /Pebble/);
    assert.deepEqual([...s.names].sort(), ['*.home.example.org', 'home.example.org']);
    assert.equal(s.last_error, null);
    assert.ok(s.last_renewal);
    // Both proofs went through the provider interface, each removed after the CA read it.
    assert.deepEqual(adapter.calls, [
      '/v1/ddns/txt _acme-challenge.home.example.org',
      '/v1/ddns/txt/delete _acme-challenge.home.example.org',
      '/v1/ddns/txt _acme-challenge.home.example.org',
      '/v1/ddns/txt/delete _acme-challenge.home.example.org',
    ]);

    const served = await kit.cell.deps.tls.certificate();
    assert.equal(served.source, 'acme');
    writeFileSync(join(tmp, 'root.pem'), await pebble.root());
    writeFileSync(join(tmp, 'chain.pem'), served.chainPem);
    writeFileSync(join(tmp, 'leaf.pem'), served.certPem);
    const out = execFileSync(
      'openssl',
      [
        'verify',
        '-CAfile',
        join(tmp, 'root.pem'),
        '-untrusted',
        join(tmp, 'chain.pem'),
        join(tmp, 'leaf.pem'),
      ],
      { encoding: 'utf8' },
    );
    assert.match(out, /leaf\.pem: OK/);
    const text = execFileSync(
      'openssl',
      ['x509', '-in', join(tmp, 'leaf.pem'), '-noout', '-ext', 'subjectAltName'],
      {
        encoding: 'utf8',
      },
    );
    assert.match(text, /DNS:\*\.home\.example\.org/);
  });

  test('Caddy serves the Pebble certificate for the custom domain, delivered as cell-api delivers it', async () => {
    // The rendered Caddy config on loopback ports, the files FrontDoorTls writes, the real `caddy`.
    const tlsDir = join(tmp, 'caddy-tls');
    const socket = join(tmp, 'caddy-admin.sock');
    const [https, http, lan] = [await freePort(), await freePort(), await freePort()];
    // What FrontDoorTls.ensure does (a core use-case this driver test may not import): the served
    // certificate for the applied identity, written by the Caddy TLS files driver.
    const served = await kit.cell.deps.tls.certificateFor(kit.cell.deps.config.applied().identity);
    assert.equal(served.source, 'acme');
    caddyTlsFiles(tlsDir, { gid: process.getgid?.() ?? 0, rootOwner: process.getuid?.() ?? 0 }).write(
      served.certPem + served.chainPem,
      served.keyPem,
    );
    const config = renderCaddyConfig({
      adminSocket: CADDY_ADMIN_SOCKET,
      apiUpstream: '127.0.0.1:9',
      https: {
        domain: 'home.example.org',
        certFile: `${CADDY_TLS_DIR}/cert.pem`,
        keyFile: `${CADDY_TLS_DIR}/key.pem`,
        publicPort: https,
      },
    })
      .output.replaceAll(`unix/${CADDY_ADMIN_SOCKET}`, `unix/${socket}`)
      .replaceAll(`"${CADDY_TLS_DIR}/`, `"${tlsDir}/`)
      .replaceAll('":80"', `"127.0.0.1:${http}"`)
      .replaceAll('":443"', `"127.0.0.1:${https}"`)
      .replaceAll('":8081"', `"127.0.0.1:${lan}"`);
    writeFileSync(join(tmp, 'caddy.json'), config);
    const caddy = spawn('caddy', ['run', '--config', join(tmp, 'caddy.json')], {
      stdio: 'ignore',
      env: { ...process.env, XDG_DATA_HOME: join(tmp, 'xdg-data'), XDG_CONFIG_HOME: join(tmp, 'xdg-config') },
    });
    try {
      const root = await pebble.root();
      const peer = await (async () => {
        for (let i = 0; i < 200; i++) {
          const got = await new Promise<PeerCertificate | undefined>((resolve) => {
            const s = tlsConnect(
              { host: '127.0.0.1', port: https, servername: 'home.example.org', ca: root },
              () => {
                const c = s.getPeerCertificate();
                s.end();
                resolve(c);
              },
            );
            s.on('error', () => resolve(undefined));
          });
          if (got) return got;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('Caddy never served a certificate that verifies against Pebble’s root');
      })();
      assert.match(peer.subjectaltname ?? '', /DNS:home\.example\.org/);
      assert.match(String(peer.issuer.CN ?? ''), /Pebble/);
    } finally {
      caddy.kill('SIGTERM');
    }
  });

  test('renewal: the tick re-issues once the fake clock reaches the renewal window', async () => {
    const before = await kit.cell.deps.tls.certificate();
    await kit.cell.deps.tls.tick();
    assert.equal((await kit.cell.deps.tls.certificate()).certPem, before.certPem, 'not due: nothing ordered');
    clock.t = Date.parse(before.notAfter) - 10 * DAY;
    const s0 = await status();
    assert.ok(Date.parse(s0.next_attempt) <= clock.t, 'due now');
    await kit.cell.deps.tls.tick();
    const after = await kit.cell.deps.tls.certificate();
    assert.notEqual(after.certPem, before.certPem, 'a new certificate');
    const s = await status();
    assert.equal(s.last_renewal, new Date(clock.t).toISOString());
    assert.ok(Date.parse(s.next_attempt) > clock.t);
  });

  test('a failed order is reported, backs off, and the old certificate keeps serving', async () => {
    const before = await kit.cell.deps.tls.certificate();
    adapter.state.refuse = true; // "updated", but challtestsrv never gets the TXT value
    clock.t = Date.parse(before.notAfter) - 5 * DAY;
    await kit.cell.deps.tls.tick();
    const s = await status();
    assert.ok(s.last_error, 'the error is shown');
    assert.match(s.last_error, /home\.example\.org|TXT|unauthorized|dns/i);
    assert.ok(Date.parse(s.next_attempt) >= clock.t + 30 * 60_000, 'backs off');
    assert.equal(
      (await kit.cell.deps.tls.certificate()).certPem,
      before.certPem,
      'the old certificate stays',
    );
    const calls = adapter.calls.length;
    await kit.cell.deps.tls.tick();
    assert.equal(adapter.calls.length, calls, 'backing off: no new order');
    const renew = await req('POST', '/api/tls/renew');
    assert.equal(renew.statusCode, 503, 'renew now ignores the backoff and reports the failure');
    assert.match(renew.json().message, /could not be renewed/);
  });

  test('a domain change whose certificate fails stays pending, the old domain serving', async () => {
    const put = await req('PUT', '/api/config', { identity: { domain: 'other.example.org' } });
    assert.equal(put.statusCode, 200, put.body);
    const apply = await req('POST', '/api/config/apply');
    assert.equal(apply.statusCode, 503, apply.body);
    assert.match(
      apply.json().message,
      /No certificate for other\.example\.org.*stays pending.*home\.example\.org/,
    );
    assert.equal((await req('GET', '/api/config/pending')).json().pending, true);
    assert.equal((await status()).domain, 'home.example.org');
    adapter.state.refuse = false;
    const retry = await req('POST', '/api/config/apply');
    assert.equal(retry.statusCode, 200, retry.body);
    const s = await status();
    assert.equal(s.domain, 'other.example.org');
    assert.equal(s.source, 'acme');
    assert.equal(s.last_error, null);
  });

  test('secrets are 0600 files, never in an answer or a log line', async () => {
    const eab = await req('PUT', '/api/tls/settings', { eab_kid: 'kid-1', eab_hmac: EAB_HMAC });
    assert.equal(eab.statusCode, 200, eab.body);
    assert.equal(eab.json().eab_hmac_set, true);
    const dir = join(kit.cell.paths.secrets, 'tls');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const files = readdirSync(dir).filter((f) => !f.startsWith('.'));
    assert.ok(files.includes('account.key') && files.includes('eab-hmac'));
    assert.ok(files.includes('acme-home.example.org.pem') && files.includes('acme-other.example.org.pem'));
    for (const f of files) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    const key = readFileSync(join(dir, 'acme-other.example.org.pem'), 'utf8')
      .match(/-----BEGIN PRIVATE KEY-----\n([^-]+)/)![1]!
      .slice(0, 40);
    const account = readFileSync(join(dir, 'account.key'), 'utf8').split('\n')[1]!.slice(0, 40);
    const answers = [
      (await req('GET', '/api/tls/settings')).body,
      (await req('GET', '/api/tls/status')).body,
      (await req('GET', '/api/config')).body,
      (await req('GET', '/api/ddns')).body,
      (await req('GET', '/api/logs?service=api&lines=500')).body,
    ].join('\n');
    const logs = logsText(kit);
    for (const secret of [EAB_HMAC, DDNS_TOKEN, key, account]) {
      assert.ok(!answers.includes(secret), 'absent from answers');
      assert.ok(!logs.includes(secret), 'absent from logs');
    }
    const off = await req('PUT', '/api/tls/settings', { eab_kid: null });
    assert.equal(off.json().eab_hmac_set, false);
  });
});

describe('TLS with ACME against Pebble (HTTP-01 through the API route)', () => {
  test("without a TXT-capable provider, HTTP-01 proves the bare domain, then each installed service's names", async () => {
    const port = await freePort();
    const pebble = await startPebble({ httpPort: port });
    // No root handed to the client here: the owner's directory_ca setting is what trusts Pebble's listener.
    const kit = await makeKit(
      {},
      {
        background: false,
        acme: acmeClient({ backoff: { minMs: 100, maxMs: 500, attempts: 20 } }),
        tls: { dnsPropagationMs: 0 },
      },
    );
    try {
      // Caddy proxies port 80's /.well-known/acme-challenge/ to the API; here Pebble dials the API directly.
      await kit.app.listen({ host: '127.0.0.1', port });
      const admin = await completeSetup(kit);
      const put = (url: string, payload: Record<string, unknown>) =>
        kit.app.inject({ method: 'PUT', url, headers: authed(admin), payload });
      const bad = await put('/api/tls/settings', {
        directory_ca: `${pebble.tlsCaPem}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`,
      });
      assert.equal(bad.statusCode, 400, bad.body);
      assert.equal(bad.json().fields[0].field, 'directory_ca');
      const s = await put('/api/tls/settings', {
        directory_url: pebble.directoryUrl,
        directory_ca: pebble.tlsCaPem,
      });
      assert.equal(s.statusCode, 200, s.body);
      assert.equal(s.json().effective_challenge, 'http-01');
      assert.equal(s.json().directory_ca, pebble.tlsCaPem);
      assert.equal(
        (await put('/api/config', { identity: { domain_mode: 'custom', domain: 'web.example.org' } }))
          .statusCode,
        200,
      );
      const apply = await kit.app.inject({
        method: 'POST',
        url: '/api/config/apply',
        headers: authed(admin),
      });
      assert.equal(apply.statusCode, 200, apply.body);
      const served = await kit.cell.deps.tls.certificate();
      assert.equal(served.source, 'acme');
      assert.deepEqual(served.names, ['web.example.org']);

      // Email installed (its `mail` name) and webmail (a route on `webmail`): the next tick orders at
      // once, within the hour after the last success, a certificate naming each, proved over HTTP-01.
      const installed = new StoreServicesStore(kit.cell.db);
      for (const row of [
        storeRow('email', { dns_names: ['mail'] }),
        storeRow('webmail', { route: 'webmail' }),
      ])
        installed.put(row);
      const due = (
        await kit.app.inject({ method: 'GET', url: '/api/tls/status', headers: authed(admin) })
      ).json();
      assert.ok(Date.parse(due.next_attempt) <= Date.now(), `due now: ${due.next_attempt}`);
      await kit.cell.deps.tls.tick();
      const afterTick = (
        await kit.app.inject({ method: 'GET', url: '/api/tls/status', headers: authed(admin) })
      ).json();
      assert.equal(afterTick.last_error, null);
      const more = await kit.cell.deps.tls.certificate();
      assert.equal(more.source, 'acme');
      assert.deepEqual(more.names, ['web.example.org', 'mail.web.example.org', 'webmail.web.example.org']);
      const out = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], {
        input: more.certPem,
        encoding: 'utf8',
      });
      assert.match(out, /DNS:mail\.web\.example\.org/);
      // What the store hands email's image in public mode: the ACME certificate, which covers `mail` now.
      const acme = await kit.cell.deps.tls.certificate();
      assert.ok(['mail.web.example.org'].every((n) => acme.names.includes(n)));

      // A service removed: the certificate still covers what is wanted; a smaller one waits for the hour.
      installed.remove('webmail');
      const st = (
        await kit.app.inject({ method: 'GET', url: '/api/tls/status', headers: authed(admin) })
      ).json();
      assert.ok(
        Date.parse(st.next_attempt) > Date.now() + 50 * 60_000,
        `not before the hour: ${st.next_attempt}`,
      );
      const cleared = await put('/api/tls/settings', { directory_ca: null });
      assert.equal(cleared.json().directory_ca, null);
    } finally {
      await kit.close();
      await pebble.stop();
    }
  });
});

/** An installed store service's row (as the store records it), with a `dns_names` or a route name. */
function storeRow(id: string, o: { dns_names?: string[]; route?: string }): InstalledService {
  return {
    id,
    version: '1.0.0',
    state: 'running',
    virtualIp: undefined,
    images: {},
    manifest: {
      schema_version: 1,
      id,
      name: id,
      description: `${id}.`,
      version: '1.0.0',
      kind: 'app',
      containers: [{ name: 'app', image: { build: '.' } }],
      ...(o.dns_names ? { dns_names: o.dns_names } : {}),
      ...(o.route ? { http_routes: [{ subdomain: o.route, container: 'app', port: 8080 }] } : {}),
    },
    installedAt: new Date(0).toISOString(),
    lastError: undefined,
  } as InstalledService;
}
