// The store's lifecycle on the real Docker engine, through the API (inject): install calendar (its
// image built here, verified by the recorded image ID, its container on its own network, healthy),
// the active list, an account written into its volume, uninstall (container and network gone, the
// data directory kept), reinstall (the account is still there). Without Docker, install is a 409.
// Everything Docker holds for it carries a unique name prefix and this cell's labels, and goes.
// Root ring: it hands the composition a real engine driver, which an API test may not import.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { authed, completeSetup, type Kit, type Login, makeKit } from './api/test-kit.ts';
import type { ServiceEnginePort } from './core/ports/service-store.ts';
import { DockerEngine } from './drivers/docker/engine.ts';
import { engineSkipReason } from './drivers/docker/engine-skip-kit.ts';
import { dockerServiceEngine } from './drivers/docker/service-engine.ts';
import { cellIdFor } from './render/runtime/desired-state.ts';
import { LABELS } from './schema/runtime.ts';

const engine = new DockerEngine();
const skip = await engineSkipReason(engine);

const prefix = `pic-lt${randomBytes(3).toString('hex')}-`;
const container = `${prefix}cell-calendar_radicale`;
const network = `${prefix}cell-svc-calendar`;

describe('store lifecycle on Docker (calendar)', { skip }, () => {
  let kit: Kit;
  let admin: Login;
  let cellDir: string;

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    kit.app.inject({ method, url, headers: authed(admin), ...(payload ? { payload } : {}) });

  /** Polls the catalog item until its job ends; returns the item. */
  async function settle(id: string, timeoutMs = 110_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = (await call('GET', `/api/services/catalog/${id}`)).json();
      if (item.job && ['done', 'failed'].includes(item.job.phase)) return item;
      assert.ok(Date.now() < deadline, `job still running: ${JSON.stringify(item.job)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const exists = async (kind: 'container' | 'network', name: string) => {
    try {
      await (kind === 'container'
        ? engine.docker.getContainer(name)
        : engine.docker.getNetwork(name)
      ).inspect();
      return true;
    } catch {
      return false;
    }
  };

  before(async () => {
    cellDir = mkdtempSync(join(tmpdir(), 'pic-lifecycle-'));
    kit = await makeKit(
      {},
      {
        store: {
          engine: dockerServiceEngine(engine),
          cellDir,
          env: { PIC_NAME_PREFIX: prefix },
          healthTimeoutMs: 60_000,
          hooks: { run: (c, argv, stdin) => engine.exec(c, argv, stdin === undefined ? {} : { stdin }) },
        },
      },
      cellDir,
    );
    admin = await completeSetup(kit);
  });

  after(async () => {
    // Whatever a failed assertion left: this cell's containers and networks, by its labels.
    const cellId = cellIdFor(cellDir);
    const filters = { label: [`${LABELS.cell}=${cellId}`] };
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
    await kit?.close();
  });

  test('bad and unknown ids: 400 and 404', async () => {
    assert.equal((await call('POST', '/api/services/catalog/..%2Fetc/install')).statusCode, 400);
    assert.equal((await call('POST', '/api/services/catalog/Calendar/install')).statusCode, 400);
    assert.equal((await call('POST', '/api/services/catalog/nosuch/install')).statusCode, 404);
    assert.equal((await call('GET', '/api/services/catalog/nosuch')).statusCode, 404);
  });

  test('install: 202, then built, verified, running and healthy; listed as active', async () => {
    const res = await call('POST', '/api/services/catalog/calendar/install');
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { service: 'calendar', state: 'installing' });
    // A second request while the job runs is refused.
    assert.equal((await call('POST', '/api/services/catalog/calendar/install')).statusCode, 409);
    const item = await settle('calendar');
    assert.equal(item.job.phase, 'done', JSON.stringify(item));
    assert.equal(item.state, 'running');
    assert.equal(item.installed, true);
    assert.deepEqual(item.subdomains, ['calendar.home.cell']);

    const info = await engine.docker.getContainer(container).inspect();
    assert.equal(info.State.Running, true);
    assert.equal(info.Config.Labels[LABELS.storeId], 'calendar');
    assert.ok(info.NetworkSettings.Networks[network], 'not on its own network');
    assert.equal(info.HostConfig.Privileged, false);
    assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
    assert.equal((await engine.exec(container, ['/usr/local/bin/pic-calendar-healthcheck'])).exitCode, 0);
    // It runs the image ID recorded at build.
    assert.match(info.Image, /^sha256:[0-9a-f]{64}$/);

    const active = (await call('GET', '/api/services/active')).json();
    assert.deepEqual(active.services, [
      { id: 'calendar', name: item.name, state: 'running', url: 'https://calendar.home.cell' },
    ]);
    const catalog = (await call('GET', '/api/services/catalog')).json();
    assert.deepEqual(
      catalog.services.map((s: { id: string; state: string }) => [s.id, s.state]),
      [
        ['calendar', 'running'],
        ['email', 'not_installed'],
        ['files', 'not_installed'],
        ['webmail', 'not_installed'],
      ],
    );
    assert.deepEqual(kit.cell.deps.store.volumes(), [
      { service: 'calendar', volume: 'data', container, path: '/var/lib/radicale' },
    ]);
    assert.equal((await call('POST', '/api/services/catalog/calendar/restart')).statusCode, 200);
  });

  test('uninstall: containers and network gone, data/services/calendar/ kept; reinstall finds the data', async () => {
    const add = await engine.exec(container, ['/usr/local/bin/pic-calendar-account', 'add', 'alice'], {
      stdin: 'correct horse battery\n',
    });
    assert.equal(add.exitCode, 0, add.stderr);
    const users = join(cellDir, 'data', 'services', 'calendar', 'data', 'users');
    assert.match(readFileSync(users, 'utf8'), /^alice:/m);

    const res = await call('POST', '/api/services/catalog/calendar/uninstall');
    assert.equal(res.statusCode, 202, res.body);
    const item = await settle('calendar');
    assert.equal(item.job.phase, 'done', JSON.stringify(item));
    assert.equal(item.state, 'not_installed');
    assert.equal(await exists('container', container), false);
    assert.equal(await exists('network', network), false);
    assert.ok(existsSync(users), 'the data directory went with the service');
    assert.deepEqual((await call('GET', '/api/services/active')).json(), { services: [] });

    assert.equal((await call('POST', '/api/services/catalog/calendar/install')).statusCode, 202);
    const again = await settle('calendar');
    assert.equal(again.job.phase, 'done', JSON.stringify(again));
    const list = await engine.exec(container, ['/usr/local/bin/pic-calendar-account', 'list']);
    assert.equal(list.stdout.trim(), 'alice');
  });

  test('per-peer accounts: a generated password logs in to CalDAV, the peer sees it, and deleting the peer removes it', async () => {
    const listed = async () =>
      (await engine.exec(container, ['/usr/local/bin/pic-calendar-account', 'list'])).stdout
        .trim()
        .split('\n');
    assert.equal((await call('POST', '/api/peers?qr=false', { name: 'bob' })).statusCode, 201);
    // Not a peer, not installed, a newline in the password: refused, nothing run.
    assert.equal(
      (await call('POST', '/api/services/calendar/accounts', { username: 'carol' })).statusCode,
      400,
    );
    assert.equal((await call('POST', '/api/services/files/accounts', { username: 'bob' })).statusCode, 409);
    const injected = await call('POST', '/api/services/calendar/accounts', {
      username: 'bob',
      password: 'long enough pass\nmallory',
    });
    assert.equal(injected.statusCode, 400, injected.body);
    assert.ok(!(await listed()).includes('bob'));

    const made = await call('POST', '/api/services/calendar/accounts', { username: 'bob' });
    assert.equal(made.statusCode, 201, made.body);
    const { password, generated } = made.json();
    assert.equal(generated, true);
    assert.ok((await listed()).includes('bob'));
    const accounts = (await call('GET', '/api/services/calendar/accounts')).json();
    assert.deepEqual(
      accounts.accounts.map((a: { username: string; in_service: boolean }) => [a.username, a.in_service]),
      [['bob', true]],
    );
    assert.ok(!JSON.stringify(accounts).includes(password));
    // At rest the password is sealed: the database alone does not give it away.
    const stored = kit.cell.db
      .prepare('SELECT password FROM service_accounts WHERE username = ?')
      .get('bob') as {
      password: string;
    };
    assert.match(stored.password, /^v1\./);
    assert.ok(!stored.password.includes(password));
    assert.equal(
      (await call('POST', '/api/services/calendar/accounts', { username: 'bob' })).statusCode,
      409,
    );

    // The password works against the service itself, and only it.
    const info = await engine.docker.getContainer(container).inspect();
    const ip = info.NetworkSettings.Networks[network]!.IPAddress;
    const propfind = (pass: string) =>
      fetch(`http://${ip}:5232/bob/`, {
        method: 'PROPFIND',
        headers: { authorization: `Basic ${Buffer.from(`bob:${pass}`).toString('base64')}`, depth: '0' },
      });
    assert.equal((await propfind(password)).status, 207);
    assert.equal((await propfind('wrong-password-123')).status, 401);
    assert.deepEqual(kit.cell.deps.serviceAccounts.mine('bob').accounts, [
      {
        service: 'calendar',
        name: 'Calendar and Contacts',
        username: 'bob',
        password,
        url: 'https://calendar.home.cell',
        client: {
          servers: [
            { protocol: 'caldav', host: 'calendar.home.cell', port: 443, security: 'tls', username: 'bob' },
            { protocol: 'carddav', host: 'calendar.home.cell', port: 443, security: 'tls', username: 'bob' },
          ],
          profile: '/api/peer/services/calendar/mobileconfig',
        },
      },
    ]);

    assert.equal((await call('DELETE', '/api/peers/bob')).statusCode, 200);
    const deadline = Date.now() + 10_000;
    while ((await listed()).includes('bob')) {
      assert.ok(Date.now() < deadline, 'the deleted peer still has its calendar account');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual((await call('GET', '/api/services/calendar/accounts')).json().accounts, []);
  });

  test("a domain change, once applied, makes the service's container again for the new domain", async () => {
    const before = await engine.docker.getContainer(container).inspect();
    const marker = await engine.exec(container, ['sh', '-c', 'echo kept > /var/lib/radicale/marker']);
    assert.equal(marker.exitCode, 0, marker.stderr);
    const put = await kit.app.inject({
      method: 'PUT',
      url: '/api/config',
      headers: authed(admin),
      payload: { identity: { cell_name: 'other' } },
    });
    assert.equal(put.statusCode, 200, put.body);
    // Pending until applied: the container still runs for home.cell.
    assert.equal((await engine.docker.getContainer(container).inspect()).Id, before.Id);
    const apply = await kit.app.inject({ method: 'POST', url: '/api/config/apply', headers: authed(admin) });
    assert.equal(apply.statusCode, 200, apply.body);
    const deadline = Date.now() + 110_000;
    let item = (await call('GET', '/api/services/catalog/calendar')).json();
    while (!/runs for other\.cell/.test(item.job?.message ?? '')) {
      assert.ok(Date.now() < deadline, `not recreated: ${JSON.stringify(item.job)}`);
      await new Promise((r) => setTimeout(r, 200));
      item = (await call('GET', '/api/services/catalog/calendar')).json();
    }
    assert.equal(item.state, 'running');
    assert.deepEqual(item.subdomains, ['calendar.other.cell']);
    const after = await engine.docker.getContainer(container).inspect();
    assert.notEqual(after.Id, before.Id, 'a restart would keep the old environment');
    assert.ok(after.Config.Env.includes('PIC_CELL_DOMAIN=other.cell'), after.Config.Env.join(' '));
    assert.equal(after.State.Running, true);
    // Its volume stayed.
    assert.equal((await engine.exec(container, ['cat', '/var/lib/radicale/marker'])).stdout.trim(), 'kept');
  });
});

test('without Docker (pic serve): install answers 409 naming why, and the catalog still lists', async () => {
  const kit = await makeKit();
  try {
    const admin = await completeSetup(kit);
    const res = await kit.app.inject({
      method: 'POST',
      url: '/api/services/catalog/calendar/install',
      headers: authed(admin),
    });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().error, 'conflict');
    assert.match(res.json().message, /without Docker \(pic serve\)/);
    const catalog = await kit.app.inject({
      method: 'GET',
      url: '/api/services/catalog',
      headers: authed(admin),
    });
    assert.equal(catalog.statusCode, 200);
    assert.ok(catalog.json().services.every((s: { state: string }) => s.state === 'not_installed'));
  } finally {
    await kit.close();
  }
});

test('the services chosen in the setup wizard are installed after setup (those the catalog has)', async () => {
  // A recording engine: this is about the wiring from setup to the store, not Docker.
  const created: string[] = [];
  const running = new Map<string, string>();
  const fake: ServiceEnginePort = {
    available: async () => true,
    hasImage: async () => true,
    pull: async () => {},
    build: async () => ({ id: `sha256:${'b'.repeat(64)}`, built: false }),
    ensureNetwork: async () => {},
    removeNetwork: async () => {},
    connect: async () => {},
    prepareVolume: async () => {},
    createContainer: async (_c, _n, spec) => {
      created.push(spec.name);
      running.set(spec.name, spec.labels?.[LABELS.storeId] ?? '');
      return spec.name;
    },
    start: async () => {},
    restart: async () => {},
    remove: async (id) => void running.delete(id),
    containers: async (_c, id) =>
      [...running]
        .filter(([, s]) => s === id)
        .map(([name]) => ({ id: name, name, running: true, health: 'healthy' })),
    ready: async () => ({ ready: true, detail: '' }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'pic-lifecycle-setup-'));
  const kit = await makeKit(
    {},
    { store: { engine: fake, cellDir: dir, env: { PIC_NAME_PREFIX: 'x-' } } },
    dir,
  );
  try {
    const admin = await completeSetup(kit, { services: ['files', 'tor'] });
    await kit.cell.deps.store.idle();
    for (let i = 0; i < 100 && created.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await kit.cell.deps.store.idle();
    assert.deepEqual(created, ['x-cell-files_nginx']);
    const active = await kit.app.inject({
      method: 'GET',
      url: '/api/services/active',
      headers: authed(admin),
    });
    assert.deepEqual(
      active.json().services.map((s: { id: string; state: string }) => [s.id, s.state]),
      [['files', 'running']],
    );
  } finally {
    await kit.close();
  }
});
