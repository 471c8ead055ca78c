// The store's use-case with fake ports: the plan's order on the engine, the 409s (no Docker, a job
// running, required by another), and a failed install: state failed with last_error, and every
// container and the network it made removed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BindSpec, ContainerSpec } from '../../schema/runtime.ts';
import { parseServiceManifest, type ServiceManifest } from '../../schema/service-manifest.ts';
import { AppError } from '../errors.ts';
import type {
  InstalledService,
  InstalledServicesRepository,
  ServiceContainerState,
  ServiceEnginePort,
} from '../ports/service-store.ts';
import type { StoreCell } from './service-jobs.ts';
import type { ServiceLifecycle } from './service-lifecycle.ts';
import { NO_DOCKER, StoreService } from './store-service.ts';

function manifest(id: string, over: Record<string, unknown> = {}): ServiceManifest {
  const r = parseServiceManifest({
    schema_version: 1,
    id,
    name: `Service ${id}`,
    description: `The ${id} service`,
    version: '1.0.0',
    kind: 'app',
    containers: [
      { name: 'main', image: { build: '.' }, volumes: [{ name: 'data', path: '/data' }], user: '932:932' },
    ],
    http_routes: [{ subdomain: id, container: 'main', port: 8080 }],
    ...over,
  });
  assert.ok(r.ok, JSON.stringify(r));
  return r.manifest;
}

class FakeRepo implements InstalledServicesRepository {
  rows = new Map<string, InstalledService>();
  list = () => [...this.rows.values()].sort((a, b) => a.id.localeCompare(b.id));
  get = (id: string) => this.rows.get(id);
  put = (s: InstalledService) => void this.rows.set(s.id, structuredClone(s));
  setState = (id: string, state: InstalledService['state'], lastError: string | undefined) => {
    const r = this.rows.get(id);
    if (r) Object.assign(r, { state, lastError });
  };
  remove = (id: string) => void this.rows.delete(id);
}

class FakeEngine implements ServiceEnginePort {
  up = true;
  calls: string[] = [];
  networks = new Set<string>();
  volumes: BindSpec[] = [];
  boxes = new Map<string, { name: string; service: string; running: boolean; spec: ContainerSpec }>();
  failBuild = new Set<string>();
  /** Image IDs built here; clearing it is a new machine (a restore) or a pruned engine. */
  images = new Set<string>();
  neverHealthy = new Set<string>();
  networksOf: ((c: string) => Promise<string[] | undefined>) | undefined;
  #n = 0;
  available = async () => this.up;
  build = async (o: { tag: string }) => {
    this.calls.push(`build ${o.tag}`);
    // A build takes a while: long enough for the requests below to find the job running.
    await new Promise((r) => setTimeout(r, 30));
    if ([...this.failBuild].some((id) => o.tag.includes(`store-${id}_`))) throw new Error('apt-get failed');
    const id = `sha256:${'a'.repeat(63)}${this.#n++ % 10}`;
    this.images.add(id);
    return { id, built: true };
  };
  hasImage = async (id: string) => this.images.has(id);
  pull = async (ref: string) => void this.calls.push(`pull ${ref}`);
  ensureNetwork = async (_c: string, name: string) => {
    this.calls.push(`network ${name}`);
    this.networks.add(name);
  };
  removeNetwork = async (name: string) => {
    this.calls.push(`remove network ${name}`);
    this.networks.delete(name);
  };
  connect = async (network: string, c: string) => void this.calls.push(`connect ${c} ${network}`);
  prepareVolume = async (b: BindSpec) => void this.volumes.push(b);
  createContainer = async (_c: string, _n: string, spec: ContainerSpec) => {
    const id = `c${this.#n++}`;
    this.calls.push(`create ${spec.name}`);
    this.boxes.set(id, { name: spec.name, service: spec.labels!['org.pic.store.id']!, running: false, spec });
    return id;
  };
  start = async (id: string) => {
    this.boxes.get(id)!.running = true;
  };
  restart = async (id: string) => void this.calls.push(`restart ${this.boxes.get(id)!.name}`);
  cellDomainOf = async (id: string) => this.boxes.get(id)?.spec.env.PIC_CELL_DOMAIN;
  remove = async (id: string) => {
    this.calls.push(`remove ${this.boxes.get(id)?.name}`);
    this.boxes.delete(id);
  };
  containers = async (_c: string, service: string): Promise<ServiceContainerState[]> =>
    [...this.boxes.entries()]
      .filter(([, b]) => b.service === service)
      .map(([id, b]) => ({ id, name: b.name, running: b.running, health: undefined }));
  ready = async (name: string) => ({
    ready: ![...this.neverHealthy].some((id) => name.includes(`-${id}_`)),
    detail: 'check failed',
  });
}

const cell: StoreCell = {
  cellId: 'cell1',
  prefix: 't-',
  cellDir: '/opt/pic',
  bindAddress: '0.0.0.0',
  cellNetwork: '172.20.0.0/16',
  vpnNetwork: '10.0.0.0/24',
  taken: ['172.20.0.2'],
  heldPorts: [],
  domain: 'home.cell',
  caddyContainer: 't-cell-caddy',
  verification: 'enforce',
};

function make(
  catalog: ServiceManifest[],
  lifecycle?: ServiceLifecycle,
  cellOf: () => StoreCell = () => cell,
) {
  const repo = new FakeRepo();
  const engine = new FakeEngine();
  const store = new StoreService({
    ...(lifecycle ? { lifecycle } : {}),
    catalog: { list: async () => catalog.map((manifest) => ({ manifest, dir: `/cat/${manifest.id}` })) },
    repo,
    engine,
    cell: cellOf,
    verify: {
      registry: {} as never,
      keys: [],
      log: { warn: () => {} },
    },
    healthTimeoutMs: 200,
    pollMs: 5,
  });
  return { repo, engine, store };
}

const isCode = (code: string, re?: RegExp) => (e: unknown) =>
  e instanceof AppError && e.code === code && (!re || re.test(e.message));

describe('StoreService', () => {
  test('the lifecycle: certificates after create and before start; settings and records after healthy, at resume and restart; cleanup at uninstall', async () => {
    const seen: string[] = [];
    let engine!: FakeEngine;
    const running = () => [...engine.boxes.values()].some((b) => b.running);
    const lifecycle: ServiceLifecycle = {
      beforeStart: async (m) => void seen.push(`before ${m.id} running=${running()}`),
      afterStart: async (m) => void seen.push(`after ${m.id} running=${running()}`),
      removed: async (id) => void seen.push(`removed ${id}`),
    };
    const made = make([manifest('alpha')], lifecycle);
    engine = made.engine;
    await made.store.install('alpha');
    await made.store.idle();
    assert.deepEqual(seen, ['before alpha running=false', 'after alpha running=true']);
    await made.store.restart('alpha');
    assert.equal(seen.at(-1), 'after alpha running=true');
    // pic down, then up: the containers are made again, the files first.
    engine.boxes.clear();
    seen.length = 0;
    await made.store.resume();
    assert.deepEqual(seen, ['before alpha running=false', 'after alpha running=true']);
    await made.store.uninstall('alpha');
    await made.store.idle();
    assert.equal(seen.at(-1), 'removed alpha');
  });

  test('a certificate that cannot be written fails the install, cleaned up', async () => {
    const lifecycle: ServiceLifecycle = {
      beforeStart: async () => {
        throw new Error('the vault is sealed');
      },
      afterStart: async () => {},
      removed: async () => {},
    };
    const { store, repo, engine } = make([manifest('alpha')], lifecycle);
    await store.install('alpha');
    await store.idle();
    assert.equal(repo.get('alpha')?.state, 'failed');
    assert.match(repo.get('alpha')?.lastError ?? '', /the vault is sealed/);
    assert.equal(engine.boxes.size, 0);
  });

  test('install follows the plan: what is required first, each built, created, started, wired', async () => {
    const { engine, store, repo } = make([manifest('alpha'), manifest('beta', { requires: ['alpha'] })]);
    let changes = 0;
    store.onChange(() => changes++);
    assert.deepEqual(await store.install('beta'), { service: 'beta', state: 'installing' });
    assert.equal((await store.detail('beta')).state, 'installing');
    await store.idle();
    assert.deepEqual(engine.calls, [
      'build pic/store-alpha_main:latest',
      'network t-cell-svc-alpha',
      'create t-cell-alpha_main',
      'connect t-cell-caddy t-cell-svc-alpha',
      'build pic/store-beta_main:latest',
      'network t-cell-svc-beta',
      // beta requires alpha: its containers join alpha's network too, before they start (issue 13).
      'network t-cell-svc-alpha',
      'create t-cell-beta_main',
      'connect t-cell-beta_main t-cell-svc-alpha',
      'connect t-cell-caddy t-cell-svc-beta',
    ]);
    assert.equal(changes, 2);
    assert.deepEqual(
      repo.list().map((r) => [r.id, r.state, r.virtualIp]),
      [
        ['alpha', 'running', '172.20.0.64'],
        ['beta', 'running', '172.20.0.65'],
      ],
    );
    // The container runs the image ID recorded at build, with its volume under data/services/<id>/.
    const box = [...engine.boxes.values()].find((b) => b.name === 't-cell-alpha_main')!;
    assert.equal(box.spec.image, repo.get('alpha')!.images.main);
    assert.equal(engine.volumes[0]?.host, '/opt/pic/data/services/alpha/data');
    assert.deepEqual(store.routes(), [
      {
        serviceId: 'alpha',
        subdomain: 'alpha',
        virtualIp: '172.20.0.64',
        upstream: 't-cell-alpha_main:8080',
      },
      {
        serviceId: 'beta',
        subdomain: 'beta',
        virtualIp: '172.20.0.65',
        upstream: 't-cell-beta_main:8080',
      },
    ]);
    const item = await store.detail('beta');
    assert.equal(item.state, 'running');
    assert.equal(item.installed, true);
    assert.deepEqual(item.job, {
      action: 'install',
      phase: 'done',
      message: 'Service beta is installed and running',
    });
    assert.deepEqual(store.active().services, [
      { id: 'alpha', name: 'Service alpha', state: 'running', url: 'https://alpha.home.cell' },
      { id: 'beta', name: 'Service beta', state: 'running', url: 'https://beta.home.cell' },
    ]);
    // Installed already: an empty plan, nothing runs.
    assert.deepEqual(await store.install('beta'), { service: 'beta', state: 'running' });
  });

  test('mail-like services: names and host ports get a virtual IP; a route on a required name is answered there; the environment names the dependency', async () => {
    const email = manifest('email', {
      containers: [{ name: 'mail', image: { build: '.' } }],
      http_routes: undefined,
      dns_names: ['mail'],
      host_ports: [
        { proto: 'tcp', port: 25, container: 'mail', container_port: 25 },
        { proto: 'tcp', port: 993, container: 'mail', container_port: 993 },
      ],
    });
    const webmail = manifest('webmail', {
      requires: ['email'],
      containers: [{ name: 'roundcube', image: { build: '.' } }],
      http_routes: [{ subdomain: 'mail', container: 'roundcube', port: 8080 }],
    });
    const names = manifest('names', { http_routes: undefined, dns_names: ['names'] });
    const plain = manifest('plain', { http_routes: undefined });
    const { engine, store, repo } = make([email, webmail, names, plain]);
    await store.install('webmail');
    await store.idle();
    await store.install('names');
    await store.idle();
    await store.install('plain');
    await store.idle();
    assert.deepEqual(
      repo.list().map((r) => [r.id, r.state, r.virtualIp]),
      [
        ['email', 'running', '172.20.0.64'],
        ['names', 'running', '172.20.0.66'],
        ['plain', 'running', undefined],
        ['webmail', 'running', '172.20.0.65'],
      ],
    );
    assert.deepEqual(store.routes(), [
      {
        serviceId: 'webmail',
        subdomain: 'mail',
        virtualIp: '172.20.0.65',
        address: '172.20.0.64',
        upstream: 't-cell-webmail_roundcube:8080',
      },
    ]);
    assert.deepEqual(store.services(), [
      {
        serviceId: 'email',
        virtualIp: '172.20.0.64',
        names: ['mail'],
        hostPorts: [
          { proto: 'tcp', port: 25 },
          { proto: 'tcp', port: 993 },
        ],
        hostAddress: '172.20.0.1',
      },
      {
        serviceId: 'names',
        virtualIp: '172.20.0.66',
        names: ['names'],
        hostPorts: [],
        hostAddress: '172.20.0.1',
      },
      { serviceId: 'webmail', virtualIp: '172.20.0.65', names: [], hostPorts: [], hostAddress: '172.20.0.1' },
    ]);
    const spec = (name: string) => [...engine.boxes.values()].find((b) => b.name === name)!.spec;
    assert.deepEqual(spec('t-cell-webmail_roundcube').env, {
      PIC_CELL_DOMAIN: 'home.cell',
      PIC_SVC_EMAIL_MAIL: 't-cell-email_mail',
    });
    assert.deepEqual(spec('t-cell-email_mail').env, { PIC_CELL_DOMAIN: 'home.cell' });
    assert.deepEqual(
      spec('t-cell-email_mail').ports.map((p) => [p.hostIp, p.hostPort, p.container]),
      [
        ['0.0.0.0', 25, 25],
        ['0.0.0.0', 993, 993],
      ],
    );
    assert.ok(engine.calls.includes('connect t-cell-webmail_roundcube t-cell-svc-email'));
    // The tick re-joins a dependent its dependency's network lost (a recreate): here every join is
    // attempted (the fake engine reports no networks), and a service without requirements is left alone.
    engine.calls = [];
    assert.deepEqual(await store.joinDependencies(), [
      { container: 't-cell-webmail_roundcube', network: 't-cell-svc-email' },
    ]);
    engine.networksOf = async (c: string) =>
      c.includes('webmail') ? ['t-cell-svc-webmail', 't-cell-svc-email'] : [];
    assert.deepEqual(await store.joinDependencies(), []);
    engine.networksOf = async () => undefined;
    assert.deepEqual(await store.joinDependencies(), [], "a container that is gone is resume's");
    // Uninstalling email removes its container, and with it the host ports it published.
    await assert.rejects(store.uninstall('email'), isCode('conflict', /required by webmail/));
    await store.uninstall('webmail');
    await store.idle();
    await store.uninstall('email');
    await store.idle();
    assert.ok(![...engine.boxes.values()].some((b) => b.service === 'email'));
    assert.deepEqual(
      store.services().map((s) => s.serviceId),
      ['names'],
    );
  });

  test('BIND_ADDRESS other than 0.0.0.0: the host ports are reached there', async () => {
    const m = manifest('ssh', {
      http_routes: undefined,
      host_ports: [{ proto: 'tcp', port: 2222, container: 'main', container_port: 22 }],
    });
    const { store, repo } = make([m]);
    Object.assign(cell, { bindAddress: '192.168.1.10' });
    try {
      await store.install('ssh');
      await store.idle();
      assert.equal(repo.get('ssh')?.state, 'running');
      assert.equal(store.services()[0]?.hostAddress, '192.168.1.10');
    } finally {
      Object.assign(cell, { bindAddress: '0.0.0.0' });
    }
  });

  test('409 while a job runs for the service; 409 uninstalling what another requires; 404 unknown', async () => {
    const { store } = make([manifest('alpha'), manifest('beta', { requires: ['alpha'] })]);
    await store.install('alpha');
    await assert.rejects(store.install('alpha'), isCode('conflict', /already running for alpha/));
    await assert.rejects(store.uninstall('alpha'), isCode('conflict', /already running/));
    await assert.rejects(store.install('beta'), isCode('conflict', /already running for alpha/));
    await store.idle();
    await store.install('beta');
    await store.idle();
    await assert.rejects(store.uninstall('alpha'), isCode('conflict', /required by beta/));
    await assert.rejects(store.install('nope'), isCode('not_found'));
    await assert.rejects(store.detail('nope'), isCode('not_found'));
  });

  test('without Docker: install, uninstall and restart answer 409 naming why; the catalog still lists', async () => {
    const { store, engine } = make([manifest('alpha')]);
    engine.up = false;
    for (const p of [store.install('alpha'), store.uninstall('alpha'), store.restart('alpha')])
      await assert.rejects(p, (e) => isCode('conflict')(e) && (e as Error).message === NO_DOCKER);
    assert.equal((await store.catalog()).services[0]?.state, 'not_installed');
  });

  test('a service that never becomes healthy: failed with last_error, its containers and network removed', async () => {
    const { store, engine, repo } = make([manifest('alpha')]);
    engine.neverHealthy.add('alpha');
    let changes = 0;
    store.onChange(() => changes++);
    await store.install('alpha');
    await store.idle();
    const row = repo.get('alpha')!;
    assert.equal(row.state, 'failed');
    assert.match(row.lastError!, /timed out waiting for t-cell-alpha_main \(check failed\)/);
    assert.equal(engine.boxes.size, 0);
    assert.equal(engine.networks.size, 0);
    assert.equal(changes, 0);
    const item = await store.detail('alpha');
    assert.equal(item.state, 'failed');
    assert.equal(item.installed, false);
    assert.equal(item.job?.phase, 'failed');
    assert.match(item.job?.error ?? '', /timed out/);
    assert.deepEqual(store.routes(), []);
    // Fixed, installed again: the same virtual IP, running.
    engine.neverHealthy.clear();
    await store.install('alpha');
    await store.idle();
    assert.equal(repo.get('alpha')!.state, 'running');
    assert.equal(repo.get('alpha')!.virtualIp, row.virtualIp);
  });

  test('a failed build fails what requires it too, and records why', async () => {
    const { store, engine, repo } = make([manifest('alpha'), manifest('beta', { requires: ['alpha'] })]);
    engine.failBuild.add('alpha');
    await store.install('beta');
    await store.idle();
    assert.equal(repo.get('alpha')?.state, 'failed');
    assert.match(repo.get('alpha')?.lastError ?? '', /apt-get failed/);
    const beta = await store.detail('beta');
    assert.equal(beta.state, 'not_installed');
    assert.match(beta.job?.message ?? '', /alpha, which it needs, failed/);
    assert.equal(engine.calls.filter((c) => c.startsWith('create')).length, 0);
  });

  test('uninstall removes the containers and the network, forgets the row, tells the listeners', async () => {
    const { store, engine, repo } = make([manifest('alpha')]);
    await store.install('alpha');
    await store.idle();
    let changes = 0;
    store.onChange(() => changes++);
    assert.deepEqual(await store.uninstall('alpha'), { service: 'alpha', state: 'uninstalling' });
    await store.idle();
    assert.equal(repo.get('alpha'), undefined);
    assert.equal(engine.boxes.size, 0);
    assert.equal(engine.networks.size, 0);
    assert.equal(changes, 1);
    assert.equal((await store.detail('alpha')).job?.phase, 'done');
    assert.deepEqual(await store.uninstall('alpha'), { service: 'alpha', state: 'not_installed' });
  });

  test('restart: 409 when not installed; restarts each container when it is', async () => {
    const { store, engine } = make([manifest('alpha')]);
    await assert.rejects(store.restart('alpha'), isCode('conflict', /not installed/));
    await store.install('alpha');
    await store.idle();
    assert.deepEqual(await store.restart('alpha'), { service: 'alpha', state: 'running' });
    assert.ok(engine.calls.includes('restart t-cell-alpha_main'));
  });

  test('restartAll (after a restore put the volumes back): every running service, those required first', async () => {
    const { store, engine } = make([manifest('beta', { requires: ['alpha'] }), manifest('alpha')]);
    await store.install('beta');
    await store.idle();
    engine.calls.length = 0;
    await store.restartAll();
    assert.deepEqual(
      engine.calls.filter((c) => c.startsWith('restart ')),
      ['restart t-cell-alpha_main', 'restart t-cell-beta_main'],
    );
  });

  test('followDomain (after a domain change): the services made for another domain are made again, those required first', async () => {
    let domain = 'home.cell';
    // The required service's id sorts last, so the order below is the requirement's, not the list's.
    const { store, engine, repo } = make(
      [manifest('alpha', { requires: ['zulu'] }), manifest('zulu')],
      undefined,
      () => ({ ...cell, domain }),
    );
    await store.install('alpha');
    await store.idle();
    // Nothing changed: nothing is made again.
    engine.calls = [];
    await store.followDomain();
    assert.deepEqual(
      engine.calls.filter((c) => c.startsWith('create ')),
      [],
    );

    domain = 'new.example';
    await store.followDomain();
    // A restart would keep the old PIC_CELL_DOMAIN: the containers are made again, volumes kept.
    assert.deepEqual(
      engine.calls.filter((c) => /^(create|restart) /.test(c)),
      ['create t-cell-zulu_main', 'create t-cell-alpha_main'],
    );
    assert.deepEqual(
      [...engine.boxes.values()].map((b) => b.spec.env.PIC_CELL_DOMAIN),
      ['new.example', 'new.example'],
    );
    assert.equal(repo.get('alpha')?.state, 'running');
    assert.match((await store.detail('zulu')).job?.message ?? '', /runs for new\.example/);
    // Done for this domain: a later call (the tick) makes nothing.
    engine.calls = [];
    await store.followDomain();
    assert.deepEqual(engine.calls, []);
  });

  test('followDomain: two changes in a row end every service on the last; one uninstalled meanwhile is not made again', async () => {
    let domain = 'home.cell';
    const { store, engine, repo } = make([manifest('alpha'), manifest('beta')], undefined, () => ({
      ...cell,
      domain,
    }));
    await store.install('alpha');
    await store.install('beta');
    await store.idle();
    // The first pass is held inside alpha's create when the second change comes and beta goes.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const create = engine.createContainer;
    engine.createContainer = async (...args) => {
      await gate;
      return create(...args);
    };
    domain = 'first.example';
    const first = store.followDomain();
    await new Promise((r) => setTimeout(r, 50));
    domain = 'last.example';
    const second = store.followDomain();
    await store.uninstall('beta');
    engine.createContainer = create;
    release();
    await Promise.all([first, second]);
    await store.idle();
    assert.equal(repo.get('beta'), undefined);
    assert.deepEqual(
      [...engine.boxes.values()].map((b) => [b.service, b.spec.env.PIC_CELL_DOMAIN]),
      [['alpha', 'last.example']],
    );
  });

  test('followDomain: a service busy with its job is left to a later pass, which makes it again', async () => {
    let domain = 'home.cell';
    const { store, engine } = make([manifest('alpha'), manifest('beta')], undefined, () => ({
      ...cell,
      domain,
    }));
    await store.install('alpha');
    await store.idle();
    // beta's install begins on the old domain; the change is applied while it builds.
    const installing = store.install('beta');
    await new Promise((r) => setTimeout(r, 5));
    domain = 'new.example';
    await store.followDomain();
    await installing;
    await store.idle();
    // The pass skipped beta (busy): the next one (the tick's) moves it if it was made for the old one.
    await store.followDomain();
    assert.deepEqual([...engine.boxes.values()].map((b) => [b.service, b.spec.env.PIC_CELL_DOMAIN]).sort(), [
      ['alpha', 'new.example'],
      ['beta', 'new.example'],
    ]);
  });

  test("cell backups carry each running service's backup_volumes, in the container that mounts them", async () => {
    const { store } = make([manifest('alpha', { backup_volumes: ['data'] }), manifest('beta')]);
    await store.install('alpha');
    await store.install('beta');
    await store.idle();
    assert.deepEqual(store.volumes(), [
      { service: 'alpha', volume: 'data', container: 't-cell-alpha_main', path: '/data' },
    ]);
  });

  test('resume: a running service whose containers went is recreated from its recorded images', async () => {
    const { store, engine, repo } = make([manifest('alpha')]);
    await store.install('alpha');
    await store.idle();
    engine.boxes.clear();
    engine.calls = [];
    await store.resume();
    assert.deepEqual(engine.calls, [
      'network t-cell-svc-alpha',
      'create t-cell-alpha_main',
      'connect t-cell-caddy t-cell-svc-alpha',
    ]);
    assert.equal([...engine.boxes.values()][0]?.spec.image, repo.get('alpha')!.images.main);
    engine.calls = [];
    await store.resume();
    assert.deepEqual(engine.calls, []);
  });

  test('resume on a machine without the recorded image (a restored backup): built again, verified, recorded', async () => {
    const { store, engine, repo } = make([manifest('alpha')]);
    await store.install('alpha');
    await store.idle();
    const before = repo.get('alpha')!.images.main;
    engine.boxes.clear();
    engine.images.clear();
    engine.calls = [];
    await store.resume();
    assert.deepEqual(engine.calls, [
      'build pic/store-alpha_main:latest',
      'network t-cell-svc-alpha',
      'create t-cell-alpha_main',
      'connect t-cell-caddy t-cell-svc-alpha',
    ]);
    const after = repo.get('alpha')!.images.main;
    assert.notEqual(after, before);
    assert.equal([...engine.boxes.values()][0]?.spec.image, after);
    assert.equal(repo.get('alpha')!.state, 'running');
  });

  test('an install a crash interrupted is failed at start', () => {
    const repo = new FakeRepo();
    repo.put({
      id: 'alpha',
      version: '1.0.0',
      state: 'installing',
      virtualIp: undefined,
      images: {},
      manifest: manifest('alpha'),
      installedAt: 'x',
      lastError: undefined,
    });
    new StoreService({
      catalog: { list: async () => [] },
      repo,
      engine: new FakeEngine(),
      cell: () => cell,
      verify: { registry: {} as never, keys: [], log: { warn: () => {} } },
    });
    assert.equal(repo.get('alpha')?.state, 'failed');
  });
});
