// A store service's manifest hooks on the real Docker engine, through the API (inject), with a test
// service built here from debian:bookworm-slim whose hooks are small scripts: its certificate files
// written into its volume before it starts (a leaf of the cell's CA of its own, the key 0600 and owned
// by the container's user), its settings (GET/PUT, secrets sealed and never returned, `apply` given
// one JSON object on stdin, a failed apply), its status hook (bounded), and its DNS records (listed
// after the start, served in the zone through the DNS server port, refused whole when one is bad,
// removed at uninstall). Bad input on every route: malformed, oversized, newline injection, wrong role,
// no CSRF, not installed, unknown service. Everything Docker holds carries a unique prefix and goes.
// Root ring: it hands the composition a real engine driver, which an API test may not import.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from './api/test-kit.ts';
import type { DnsServerPort } from './core/ports/dns-server.ts';
import { DockerEngine } from './drivers/docker/engine.ts';
import { engineSkipReason } from './drivers/docker/engine-skip-kit.ts';
import { dockerServiceEngine } from './drivers/docker/service-engine.ts';
import { serviceFiles } from './drivers/docker/service-files.ts';
import { cellIdFor } from './render/runtime/desired-state.ts';
import type { CellZoneInput } from './render/unbound/cell-zone.ts';
import { LABELS } from './schema/runtime.ts';

const engine = new DockerEngine();
const skip = await engineSkipReason(engine);

const PEER_PASSWORD = 'a peer password long enough';
const prefix = `pic-hk${randomBytes(3).toString('hex')}-`;

const HOOKED = {
  schema_version: 1,
  id: 'hooked',
  name: 'Hooked',
  description: 'A test service with every hook',
  version: '1.0.0',
  kind: 'app',
  containers: [
    {
      name: 'main',
      image: { build: '.' },
      user: '1234:1234',
      command: ['sh', '-c', 'trap "exit 0" TERM; sleep infinity & wait'],
      volumes: [
        { name: 'tls', path: '/etc/pic-tls' },
        { name: 'data', path: '/data' },
      ],
    },
  ],
  dns_names: ['hooked'],
  tls: { container: 'main', volume: 'tls', certificate: true, reload: ['/usr/local/bin/reload'] },
  dns_records: { container: 'main', list: ['/usr/local/bin/records'] },
  settings: {
    container: 'main',
    apply: ['/usr/local/bin/apply'],
    fields: [
      { key: 'smarthost_host', type: 'host', label: 'Smarthost' },
      { key: 'smarthost_port', type: 'port', label: 'Port', default: 587 },
      { key: 'smarthost_password', type: 'secret', label: 'Password' },
      { key: 'quota_mb', type: 'integer', label: 'Quota', min: 10, max: 1048576, default: 1024 },
      { key: 'aliases', type: 'aliases', label: 'Aliases' },
    ],
  },
  status: { container: 'main', command: ['/usr/local/bin/status'] },
  accounts: {
    container: 'main',
    add: ['/usr/local/bin/account', 'add', '{username}'],
    remove: ['/usr/local/bin/account', 'remove', '{username}'],
    list: ['/usr/local/bin/account', 'list'],
  },
};
const PLAIN = {
  ...HOOKED,
  id: 'plain',
  name: 'Plain',
  dns_names: ['plain'],
  tls: undefined,
  dns_records: undefined,
  settings: undefined,
  status: undefined,
  accounts: undefined,
};

const SCRIPTS: Record<string, string> = {
  records: `#!/bin/sh
if [ -f /data/records.json ]; then cat /data/records.json; else
echo '[{"name":"@","type":"MX","value":"10 hooked.home.cell."},{"name":"_dmarc","type":"TXT","value":"v=DMARC1; p=none"}]'; fi
`,
  apply: `#!/bin/sh
cat > /data/applied.json
if [ -f /data/apply-fail ]; then echo "smarthost refused: $(cat /data/applied.json)" >&2; exit 1; fi
`,
  status: `#!/bin/sh
if [ -f /data/status-big ]; then head -c 400000 /dev/zero | tr '\\0' a; exit 0; fi
echo '{"queue":[{"id":"A1","sender":"a@home.cell"}],"smarthost":null}'
`,
  reload: `#!/bin/sh
date >> /data/reloads
`,
  account: `#!/bin/sh
case "$1" in
  add) read -r pw; echo "$2" >> /data/accounts ;;
  remove) grep -vx "$2" /data/accounts > /data/accounts.new; mv /data/accounts.new /data/accounts ;;
  list) cat /data/accounts 2>/dev/null ;;
esac
`,
};

function writeCatalog(root: string): void {
  for (const m of [HOOKED, PLAIN]) {
    const dir = join(root, m.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify(m, (_k, v) => (v === undefined ? undefined : v)),
    );
    for (const [name, text] of Object.entries(SCRIPTS)) writeFileSync(join(dir, name), text, { mode: 0o755 });
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM debian:bookworm-slim\n${Object.keys(SCRIPTS)
        .map((n) => `COPY ${n} /usr/local/bin/${n}`)
        .join('\n')}\n`,
    );
  }
}

/** A DNS server port that takes every zone it is given (the records reach it as cell-dns would). */
function recordingDns(): DnsServerPort & { last?: CellZoneInput } {
  const port: DnsServerPort & { last?: CellZoneInput } = {
    running: async () => true,
    apply: async (zone) => {
      port.last = zone;
      return { mode: 'full' };
    },
    blockedQueries: async () => undefined,
    reset: () => undefined,
  };
  return port;
}

describe('store service hooks on Docker', { skip }, () => {
  let kit: Kit;
  let admin: Login;
  let cellDir: string;
  const dns = recordingDns();
  const volume = (name: string) => join(cellDir, 'data', 'services', 'hooked', name);

  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: object | string,
    headers: Record<string, string> = authed(admin),
  ) =>
    kit.app.inject({
      method,
      url,
      headers: typeof payload === 'string' ? { ...headers, 'content-type': 'application/json' } : headers,
      ...(payload !== undefined ? { payload } : {}),
    });

  async function settle(id: string, timeoutMs = 110_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = (await call('GET', `/api/services/catalog/${id}`)).json();
      if (item.job && ['done', 'failed'].includes(item.job.phase)) return item;
      assert.ok(Date.now() < deadline, `job still running: ${JSON.stringify(item.job)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  before(async () => {
    cellDir = mkdtempSync(join(tmpdir(), 'pic-hooks-'));
    const catalogDir = join(cellDir, 'catalog');
    writeCatalog(catalogDir);
    kit = await makeKit(
      {},
      {
        dns,
        store: {
          engine: dockerServiceEngine(engine),
          cellDir,
          catalogDir,
          env: { PIC_NAME_PREFIX: prefix },
          healthTimeoutMs: 60_000,
          hooks: {
            run: (c, argv, stdin, limits) =>
              engine.exec(c, argv, { ...(stdin === undefined ? {} : { stdin }), ...limits }),
          },
        },
      },
      cellDir,
    );
    admin = await completeSetup(kit);
  });

  after(async () => {
    const filters = { label: [`${LABELS.cell}=${cellIdFor(cellDir)}`] };
    for (const c of await engine.docker.listContainers({ all: true, filters }))
      await engine.docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    for (const n of await engine.docker.listNetworks({ filters }))
      await engine.docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
    await engine.docker
      .getImage('pic/store-hooked_main:latest')
      .remove()
      .catch(() => undefined);
    await engine.docker
      .getImage('pic/store-plain_main:latest')
      .remove()
      .catch(() => undefined);
    await kit?.close();
  });

  test('before install: unknown 404, not installed 409, a bad id 400', async () => {
    for (const path of ['settings', 'status', 'dns-records']) {
      assert.equal((await call('GET', `/api/services/nosuch/${path}`)).statusCode, 404, path);
      assert.equal((await call('GET', `/api/services/hooked/${path}`)).statusCode, 409, path);
      assert.equal((await call('GET', `/api/services/Hooked/${path}`)).statusCode, 400, path);
    }
    assert.equal((await call('PUT', '/api/services/hooked/settings', { values: {} })).statusCode, 409);
    assert.equal((await call('PUT', '/api/services/nosuch/settings', { values: {} })).statusCode, 404);
  });

  test('install: the certificate files are in its volume before it starts, a leaf of its own', async () => {
    assert.equal((await call('POST', '/api/services/catalog/hooked/install')).statusCode, 202);
    const item = await settle('hooked');
    assert.equal(item.job.phase, 'done', JSON.stringify(item));
    const dir = volume('tls');
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    assert.equal(ca.subject, ca.issuer, 'ca.pem is the root');
    const chain = readFileSync(join(dir, 'fullchain.pem'), 'utf8');
    const leaf = new X509Certificate(chain);
    assert.match(leaf.subjectAltName ?? '', /DNS:hooked\.home\.cell/);
    const key = statSync(join(dir, 'privkey.pem'));
    assert.equal(key.mode & 0o777, 0o600);
    assert.equal(key.uid, 1234);
    assert.equal(key.gid, 1234);
    // The key is the leaf's, and not the front door's.
    const priv = createPrivateKey(readFileSync(join(dir, 'privkey.pem')));
    assert.deepEqual(
      createPublicKey(priv).export({ format: 'jwk' }),
      leaf.publicKey.export({ format: 'jwk' }),
    );
    const certs = (await call('GET', '/api/vault/certs')).json() as Array<{
      purpose: string;
      sans: string[];
    }>;
    const mine = certs.filter((c) => c.sans.includes('hooked.home.cell'));
    assert.deepEqual(
      mine.map((c) => c.purpose),
      ['issued'],
    );
    // The container (uid 1234) reads its key.
    const c = `${prefix}cell-hooked_main`;
    assert.equal((await engine.exec(c, ['cat', '/etc/pic-tls/privkey.pem'])).exitCode, 0);
    // No temp file was left behind.
    assert.deepEqual((await import('node:fs')).readdirSync(dir).sort(), [
      'ca.pem',
      'fullchain.pem',
      'privkey.pem',
    ]);
  });

  test('after the start: the records are stored and served in the zone; settings applied once', async () => {
    const res = await call('GET', '/api/services/hooked/dns-records');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().records, [
      {
        name: '@',
        fqdn: 'home.cell.',
        type: 'MX',
        value: '10 hooked.home.cell',
        in_zone: true,
        public: 'unchecked',
      },
      {
        name: '_dmarc',
        fqdn: '_dmarc.home.cell.',
        type: 'TXT',
        value: 'v=DMARC1; p=none',
        in_zone: true,
        public: 'unchecked',
      },
    ]);
    const zone = dns.last!.records.map((r) => `${r.name} ${r.type} ${r.value}`);
    assert.ok(zone.includes('@ MX 10 hooked.home.cell'), zone.join('\n'));
    assert.ok(zone.includes('_dmarc TXT v=DMARC1; p=none'));
    const applied = JSON.parse(readFileSync(join(volume('data'), 'applied.json'), 'utf8'));
    assert.deepEqual(applied, {
      smarthost_host: null,
      smarthost_port: 587,
      smarthost_password: null,
      quota_mb: 1024,
      aliases: null,
    });
  });

  test('settings: GET, PUT applies over stdin, the secret sealed and never returned', async () => {
    const got = await call('GET', '/api/services/hooked/settings');
    assert.equal(got.statusCode, 200, got.body);
    assert.deepEqual(got.json().values, {
      smarthost_host: null,
      smarthost_port: 587,
      quota_mb: 1024,
      aliases: null,
    });
    assert.deepEqual(got.json().secrets_set, { smarthost_password: false });
    assert.equal(got.json().applied, true);
    assert.deepEqual(got.json().fields[3], {
      key: 'quota_mb',
      type: 'integer',
      label: 'Quota',
      min: 10,
      max: 1048576,
      default: 1024,
    });
    // An alias needs an account of the service: a peer, then its account.
    const peer = await call('POST', '/api/peers?qr=false', { name: 'alice', password: PEER_PASSWORD });
    assert.equal(peer.statusCode, 201, peer.body);
    assert.equal(
      (await call('POST', '/api/services/hooked/accounts', { username: 'alice' })).statusCode,
      201,
    );
    const put = await call('PUT', '/api/services/hooked/settings', {
      values: {
        smarthost_host: 'smtp.example.org',
        smarthost_password: 'Very$ecret"pass',
        aliases: [{ alias: 'info', to: 'alice' }],
      },
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().applied, true);
    assert.equal(put.json().apply_error, null);
    assert.deepEqual(put.json().secrets_set, { smarthost_password: true });
    assert.ok(!put.body.includes('Very$ecret'));
    assert.ok(!(await call('GET', '/api/services/hooked/settings')).body.includes('Very$ecret'));
    const applied = JSON.parse(readFileSync(join(volume('data'), 'applied.json'), 'utf8'));
    assert.equal(applied.smarthost_password, 'Very$ecret"pass');
    assert.deepEqual(applied.aliases, [{ alias: 'info', to: 'alice' }]);
    // Sealed at rest, under a key file of its own.
    const row = kit.cell.db.prepare('SELECT settings, secrets FROM service_settings').get() as {
      settings: string;
      secrets: string;
    };
    assert.ok(!row.secrets.includes('Very$ecret') && row.secrets.startsWith('v1.'));
    assert.ok(!row.settings.includes('Very$ecret'));
    assert.ok(existsSync(join(kit.cell.paths.secrets, 'service-settings.key')));
    // Nothing of it in the logs either.
    const logs = join(cellDir, 'data', 'logs');
    if (existsSync(logs))
      for (const f of (await import('node:fs')).readdirSync(logs))
        assert.ok(!readFileSync(join(logs, f), 'utf8').includes('Very$ecret'), f);
  });

  test('a failed apply keeps the values: applied false, a bounded message without the secret', async () => {
    writeFileSync(join(volume('data'), 'apply-fail'), '');
    try {
      const put = await call('PUT', '/api/services/hooked/settings', { values: { quota_mb: 2048 } });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json().applied, false);
      assert.match(put.json().apply_error, /smarthost refused/);
      assert.ok(!put.json().apply_error.includes('Very$ecret'), put.json().apply_error);
      assert.ok(put.json().apply_error.length <= 300);
      assert.equal(put.json().values.quota_mb, 2048);
      assert.equal((await call('GET', '/api/services/hooked/settings')).json().applied, false);
    } finally {
      rmSync(join(volume('data'), 'apply-fail'));
    }
  });

  test('settings: bad input is a 400 naming values.<key>; malformed, oversized, wrong role, no CSRF', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ smarthost_host: 'smtp.example.org\nrelayhost = evil' }, 'values.smarthost_host'],
      [{ smarthost_password: 'a\r\nMAIL FROM:<x>' }, 'values.smarthost_password'],
      [{ smarthost_port: 0 }, 'values.smarthost_port'],
      [{ quota_mb: 9 }, 'values.quota_mb'],
      [{ quota_mb: '100' }, 'values.quota_mb'],
      [{ relay: 'x' }, 'values.relay'],
      [{ smarthost_host: 'not a host' }, 'values.smarthost_host'],
      [{ aliases: [{ alias: 'Info!', to: 'alice' }] }, 'values.aliases'],
      [{ aliases: [{ alias: 'info', to: 'mallory' }] }, 'values.aliases'],
      [
        {
          aliases: [
            { alias: 'x', to: 'alice' },
            { alias: 'x', to: 'alice' },
          ],
        },
        'values.aliases',
      ],
    ];
    for (const [values, field] of bad) {
      const res = await call('PUT', '/api/services/hooked/settings', { values });
      assert.equal(res.statusCode, 400, `${field}: ${res.body}`);
      assert.ok(JSON.stringify(res.json()).includes(`"${field}"`), `${field} not named: ${res.body}`);
      assert.ok(!res.body.includes('MAIL FROM'));
    }
    // The failed PUTs changed nothing.
    assert.equal((await call('GET', '/api/services/hooked/settings')).json().values.quota_mb, 2048);
    assert.equal((await call('PUT', '/api/services/hooked/settings', '{"values": ')).statusCode, 400);
    assert.equal((await call('PUT', '/api/services/hooked/settings', { values: [] })).statusCode, 400);
    assert.equal((await call('PUT', '/api/services/hooked/settings', { values: {}, x: 1 })).statusCode, 400);
    const huge = await call('PUT', '/api/services/hooked/settings', {
      values: { smarthost_host: 'a'.repeat(100_000) },
    });
    assert.equal(huge.statusCode, 413);
    const noCsrf = await call(
      'PUT',
      '/api/services/hooked/settings',
      { values: {} },
      { cookie: admin.cookie },
    );
    assert.equal(noCsrf.statusCode, 403);
    // A peer may read none of it.
    const peer = await login(kit.app, 'alice', PEER_PASSWORD);
    for (const path of ['settings', 'status', 'dns-records'])
      assert.equal(
        (await call('GET', `/api/services/hooked/${path}`, undefined, authed(peer))).statusCode,
        403,
      );
    assert.equal(
      (await call('PUT', '/api/services/hooked/settings', { values: {} }, authed(peer))).statusCode,
      403,
    );
    for (const path of ['settings', 'status', 'dns-records'])
      assert.equal((await call('GET', `/api/services/hooked/${path}`, undefined, {})).statusCode, 401);
  });

  test("status: the hook's object, and an oversized answer is an error, not a hang", async () => {
    const res = await call('GET', '/api/services/hooked/status');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      status: { queue: [{ id: 'A1', sender: 'a@home.cell' }], smarthost: null },
      error: null,
    });
    writeFileSync(join(volume('data'), 'status-big'), '');
    try {
      const big = (await call('GET', '/api/services/hooked/status')).json();
      assert.equal(big.status, null);
      assert.match(big.error, /exceeded 262144 bytes/);
    } finally {
      rmSync(join(volume('data'), 'status-big'));
    }
    assert.equal((await call('GET', '/api/services/plain/status')).statusCode, 409);
  });

  test('a hook is cut off past its time or output bound', async () => {
    const c = `${prefix}cell-hooked_main`;
    const t0 = Date.now();
    await assert.rejects(
      () => engine.exec(c, ['sleep', '30'], { timeoutMs: 500, maxBytes: 1024 }),
      /did not finish within 500 ms/,
    );
    assert.ok(Date.now() - t0 < 5_000);
    await assert.rejects(
      () => engine.exec(c, ['head', '-c', '100000', '/dev/zero'], { timeoutMs: 5_000, maxBytes: 1024 }),
      /exceeded 1024 bytes/,
    );
    // Within both: the answer as before.
    const r = await engine.exec(c, ['echo', 'ok'], { timeoutMs: 5_000, maxBytes: 1024 });
    assert.deepEqual([r.exitCode, r.stdout], [0, 'ok\n']);
  });

  test('a bad record refuses the list whole on the next start; restart applies the settings again', async () => {
    writeFileSync(
      join(volume('data'), 'records.json'),
      JSON.stringify([
        { name: '@', type: 'TXT', value: 'v=spf1 mx -all' },
        { name: 'www', type: 'TXT', value: 'local-data: "evil"' },
      ]),
    );
    rmSync(join(volume('data'), 'applied.json'));
    assert.equal((await call('POST', '/api/services/catalog/hooked/restart')).statusCode, 200);
    assert.ok(existsSync(join(volume('data'), 'applied.json')), 'apply ran after the restart');
    const records = (await call('GET', '/api/services/hooked/dns-records')).json().records;
    assert.deepEqual(
      records.map((r: { name: string; type: string }) => `${r.name} ${r.type}`),
      ['@ MX', '_dmarc TXT'],
      'the records stored before stay',
    );
    writeFileSync(
      join(volume('data'), 'records.json'),
      JSON.stringify([{ name: '@', type: 'TXT', value: 'v=spf1 mx -all' }]),
    );
    assert.equal((await call('POST', '/api/services/catalog/hooked/restart')).statusCode, 200);
    assert.deepEqual(
      (await call('GET', '/api/services/hooked/dns-records'))
        .json()
        .records.map((r: { value: string }) => r.value),
      ['v=spf1 mx -all'],
    );
  });

  test('the volume files through a helper container (the path cell-api takes in the cell)', async () => {
    const files = serviceFiles({ cellDir, engine, viaContainer: true });
    await files.write('hooked', 'tls', [{ name: 'probe.pem', content: 'PROBE\n', mode: 0o600 }], {
      uid: 1234,
      gid: 1234,
    });
    const st = statSync(join(volume('tls'), 'probe.pem'));
    assert.equal(readFileSync(join(volume('tls'), 'probe.pem'), 'utf8'), 'PROBE\n');
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, 1234);
    assert.ok(!(await import('node:fs')).readdirSync(volume('tls')).some((n) => n.startsWith('.pic-tmp-')));
    await assert.rejects(() =>
      files.write('hooked', 'tls', [{ name: '../escape', content: 'x', mode: 0o600 }], { uid: 0, gid: 0 }),
    );
  });

  test('uninstall: the records leave the zone and the table; the settings stay for a reinstall', async () => {
    assert.equal((await call('POST', '/api/services/catalog/hooked/uninstall')).statusCode, 202);
    await settle('hooked');
    const zone = dns.last!.records.map((r) => `${r.name} ${r.type}`);
    assert.ok(!zone.includes('@ TXT'), zone.join('\n'));
    assert.equal(
      (kit.cell.db.prepare('SELECT count(*) AS n FROM service_dns_records').get() as { n: number }).n,
      0,
    );
    assert.equal((await call('GET', '/api/services/hooked/dns-records')).statusCode, 409);
    assert.equal((await call('GET', '/api/services/hooked/settings')).statusCode, 409);
    assert.equal(
      (kit.cell.db.prepare('SELECT count(*) AS n FROM service_settings').get() as { n: number }).n,
      1,
    );
  });
});
