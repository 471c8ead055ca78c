// The peer's mail settings through the API (inject), without Docker: an `email` row recorded as
// running (what an install leaves) with account hooks answered in memory. The peer's
// /api/peer/services carries its address and the servers to type in (calendar's answer unchanged in
// shape), its .mobileconfig adds the IMAP account, and the public autoconfig documents answer only
// while email is installed. Roles: the profile is the peer's own; autoconfig needs no session.
// Root ring: it records the installed row through the SQLite store, which an API test may not import.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from './api/test-kit.ts';
import { NO_SERVICE_ENGINE } from './drivers/docker/service-engine.ts';
import { StoreServicesStore } from './drivers/store/store-services-store.ts';
import type { ServiceManifest } from './schema/service-manifest.ts';

const EMAIL: ServiceManifest = {
  schema_version: 1,
  id: 'email',
  name: 'Email',
  description: 'Postfix and Dovecot: a mailbox per peer account.',
  version: '1.0.0',
  kind: 'app',
  containers: [{ name: 'mail', image: { build: '.' } }],
  host_ports: [
    { proto: 'tcp', port: 25, container: 'mail', container_port: 25 },
    { proto: 'tcp', port: 587, container: 'mail', container_port: 587 },
    { proto: 'tcp', port: 993, container: 'mail', container_port: 993 },
  ],
  dns_names: ['mail'],
  accounts: {
    container: 'mail',
    add: ['/usr/local/bin/pic-mail-account', 'add', '{username}'],
    remove: ['/usr/local/bin/pic-mail-account', 'remove', '{username}'],
    list: ['/usr/local/bin/pic-mail-account', 'list'],
  },
};

const AUTOCONFIG = ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml'];

describe('mail client settings: the peer dashboard, the device profile, autoconfig', () => {
  let kit: Kit;
  let admin: Login;
  let peer: Login;
  let installed: StoreServicesStore;
  const users = new Set<string>();

  const install = () =>
    installed.put({
      id: 'email',
      version: '1.0.0',
      state: 'running',
      virtualIp: undefined,
      images: {},
      manifest: EMAIL,
      installedAt: new Date(0).toISOString(),
      lastError: undefined,
    });

  before(async () => {
    const cellDir = mkdtempSync(join(tmpdir(), 'pic-mail-client-'));
    kit = await makeKit(
      {},
      {
        store: {
          engine: NO_SERVICE_ENGINE,
          cellDir,
          hooks: {
            async run(_container, argv, stdin) {
              if (argv[1] === 'add' && stdin) users.add(argv[2]!);
              if (argv[1] === 'remove') users.delete(argv[2]!);
              return { exitCode: 0, stdout: [...users].join('\n'), stderr: '' };
            },
          },
        },
      },
      cellDir,
    );
    admin = await completeSetup(kit);
    installed = new StoreServicesStore(kit.cell.db);
    const made = await kit.app.inject({
      method: 'POST',
      url: '/api/peers',
      headers: authed(admin),
      payload: { name: 'alice', routing: 'split' },
    });
    assert.equal(made.statusCode, 201, made.body);
    peer = await login(kit.app, 'alice', made.json().password);
  });

  after(() => kit?.close());

  const zoneNames = () => kit.cell.deps.dns.model().zone.records.map((r) => r.name);

  test('autoconfig is a 404 and not in the zone while email is not installed', async () => {
    for (const url of AUTOCONFIG) {
      const r = await kit.app.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 404, `${url}: ${r.body}`);
    }
    assert.ok(!zoneNames().includes('autoconfig'));
  });

  test("the peer sees its address and the servers; the profile adds the IMAP account with the cell's CA", async () => {
    install();
    const added = await kit.app.inject({
      method: 'POST',
      url: '/api/services/email/accounts',
      headers: authed(admin),
      payload: { username: 'alice' },
    });
    assert.equal(added.statusCode, 201, added.body);
    const password = added.json().password as string;

    const mine = await kit.app.inject({ method: 'GET', url: '/api/peer/services', headers: authed(peer) });
    assert.equal(mine.statusCode, 200, mine.body);
    const domain = kit.cell.deps.config.get().identity.domain;
    assert.deepEqual(mine.json().accounts, [
      {
        service: 'email',
        name: 'Email',
        username: 'alice',
        password,
        url: null,
        client: {
          address: `alice@${domain}`,
          servers: [
            {
              protocol: 'imap',
              host: `mail.${domain}`,
              port: 993,
              security: 'tls',
              username: `alice@${domain}`,
            },
            {
              protocol: 'smtp',
              host: `mail.${domain}`,
              port: 587,
              security: 'starttls',
              username: `alice@${domain}`,
            },
          ],
          profile: '/api/peer/services/email/mobileconfig',
        },
      },
    ]);

    const profile = await kit.app.inject({
      method: 'GET',
      url: '/api/peer/services/email/mobileconfig',
      headers: authed(peer),
    });
    assert.equal(profile.statusCode, 200, profile.body);
    assert.match(String(profile.headers['content-type']), /application\/x-apple-aspen-config/);
    assert.match(String(profile.headers['content-disposition']), /home-email\.mobileconfig/);
    assert.ok(profile.body.includes('<string>com.apple.mail.managed</string>'));
    assert.ok(profile.body.includes(`<string>mail.${domain}</string>`));
    assert.ok(profile.body.includes(`<string>alice@${domain}</string>`));
    assert.ok(profile.body.includes('<string>com.apple.security.root</string>'));

    // The owner has no peer profile; without a session, nothing.
    const byAdmin = await kit.app.inject({
      method: 'GET',
      url: '/api/peer/services/email/mobileconfig',
      headers: authed(admin),
    });
    assert.equal(byAdmin.statusCode, 403);
    const anonymous = await kit.app.inject({ method: 'GET', url: '/api/peer/services/email/mobileconfig' });
    assert.equal(anonymous.statusCode, 401);
    // No profile for a service the peer has no account on, or that has none.
    const none = await kit.app.inject({
      method: 'GET',
      url: '/api/peer/services/files/mobileconfig',
      headers: authed(peer),
    });
    assert.equal(none.statusCode, 404);
  });

  test('while email is installed, both autoconfig paths answer the document without a session', async () => {
    install();
    const domain = kit.cell.deps.config.get().identity.domain;
    for (const url of AUTOCONFIG) {
      const r = await kit.app.inject({
        method: 'GET',
        url: `${url}?emailaddress=${encodeURIComponent('<x>@evil')}`,
      });
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      assert.match(String(r.headers['content-type']), /^application\/xml/);
      assert.ok(r.body.includes(`<hostname>mail.${domain}</hostname>`));
      assert.ok(r.body.includes('<socketType>STARTTLS</socketType>'));
      assert.ok(!r.body.includes('evil'), 'nothing of the request is echoed');
    }
    assert.ok(zoneNames().includes('autoconfig'), 'autoconfig.<domain> is in the zone');
    // Uninstalled (or failed): gone again.
    installed.setState('email', 'failed', 'test');
    for (const url of AUTOCONFIG)
      assert.equal((await kit.app.inject({ method: 'GET', url })).statusCode, 404);
    installed.remove('email');
    for (const url of AUTOCONFIG)
      assert.equal((await kit.app.inject({ method: 'GET', url })).statusCode, 404);
  });

  test('a source asking too often is told to wait (429 with Retry-After)', async () => {
    install();
    const ask = () => kit.app.inject({ method: 'GET', url: AUTOCONFIG[0]!, remoteAddress: '192.0.2.77' });
    let last = await ask();
    for (let i = 0; i < 70 && last.statusCode === 200; i++) last = await ask();
    assert.equal(last.statusCode, 429, last.body);
    assert.ok(Number(last.headers['retry-after']) > 0);
    installed.remove('email');
  });
});
