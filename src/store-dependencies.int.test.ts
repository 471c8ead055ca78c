// Issue 13's store wiring on the real Docker engine, through the store's use-case: a service with a
// host port and a name (playing email) and one that requires it (playing webmail). The dependent's
// container carries PIC_CELL_DOMAIN and PIC_SVC_<S>_<C>, sits on the dependency's network too, and
// reaches the dependency's container by that name; the host port is published while the service is
// installed and closed once it is uninstalled (its container goes). Names carry a unique prefix and
// ids, everything is labelled for this test's cell and removed at the end, images included.
// Root ring: it hands the store use-case a real engine driver.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InstalledService, InstalledServicesRepository } from './core/ports/service-store.ts';
import { StoreService } from './core/service-store/store-service.ts';
import { DockerEngine } from './drivers/docker/engine.ts';
import { engineSkipReason } from './drivers/docker/engine-skip-kit.ts';
import { dockerServiceEngine } from './drivers/docker/service-engine.ts';
import { cellIdFor } from './render/runtime/desired-state.ts';
import { LABELS } from './schema/runtime.ts';
import { parseServiceManifest, type ServiceManifest } from './schema/service-manifest.ts';

const engine = new DockerEngine();
const BASE = 'node:24-bookworm-slim';
const skip = await engineSkipReason(engine, BASE);

const t = randomBytes(3).toString('hex');
const prefix = `pic-dp${t}-`;
const DEP = `dep${t}`;
const APP = `app${t}`;

/** A free TCP port on loopback, for the host port. */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The first line read from 127.0.0.1:port, or the error's code ('ECONNREFUSED'). */
function banner(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, timeout: 3000 });
    s.on('data', (d) => {
      resolve(String(d).trim());
      s.destroy();
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.on('timeout', () => {
      resolve('timeout');
      s.destroy();
    });
  });
}

function manifest(raw: object): ServiceManifest {
  const r = parseServiceManifest(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.manifest;
}

class MemoryRepo implements InstalledServicesRepository {
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

describe('a service and its dependency on Docker: environment, networks, host ports', { skip }, () => {
  let cellDir: string;
  let store: StoreService;
  let hostPort: number;

  before(async () => {
    cellDir = mkdtempSync(join(tmpdir(), 'pic-deps-'));
    hostPort = await freePort();
    const catalogDir = join(cellDir, 'catalog');
    for (const id of [DEP, APP]) {
      mkdirSync(join(catalogDir, id), { recursive: true });
      writeFileSync(join(catalogDir, id, 'Dockerfile'), `FROM ${BASE}\n`);
    }
    const dep = manifest({
      schema_version: 1,
      id: DEP,
      name: 'Dependency',
      description: 'answers on a host port',
      version: '1.0.0',
      kind: 'app',
      containers: [
        {
          name: 'mail',
          image: { build: '.' },
          command: ['node', '-e', "require('node:net').createServer(s=>s.end('220 dep\\n')).listen(2525)"],
        },
      ],
      host_ports: [{ proto: 'tcp', port: hostPort, container: 'mail', container_port: 2525 }],
      dns_names: [`mx${t}`],
    });
    const app = manifest({
      schema_version: 1,
      id: APP,
      name: 'Dependent',
      description: 'requires the dependency',
      version: '1.0.0',
      kind: 'app',
      requires: [DEP],
      containers: [{ name: 'ui', image: { build: '.' }, command: ['sleep', 'infinity'] }],
      http_routes: [{ subdomain: `mx${t}`, container: 'ui', port: 8080 }],
    });
    store = new StoreService({
      catalog: {
        list: async () => [dep, app].map((m) => ({ manifest: m, dir: join(catalogDir, m.id) })),
      },
      repo: new MemoryRepo(),
      engine: dockerServiceEngine(engine),
      cell: () => ({
        cellId: cellIdFor(cellDir),
        prefix,
        cellDir,
        // Published on loopback only: nothing of this test is reachable from elsewhere.
        bindAddress: '127.0.0.1',
        cellNetwork: '172.20.0.0/16',
        vpnNetwork: '10.0.0.0/24',
        taken: ['172.20.0.2'],
        heldPorts: [],
        domain: 'home.cell',
        caddyContainer: undefined,
        verification: 'enforce',
      }),
      verify: { registry: {} as never, keys: [], log: { warn: () => {} } },
      healthTimeoutMs: 60_000,
    });
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
    for (const id of [DEP, APP])
      for (const c of ['mail', 'ui'])
        await engine.docker
          .getImage(`pic/store-${id}_${c}:latest`)
          .remove({ force: true })
          .catch(() => undefined);
    rmSync(cellDir, { recursive: true, force: true });
  });

  test('installing the dependent installs the dependency first; the host port answers', async () => {
    await store.install(APP);
    await store.idle();
    const detail = await store.detail(APP);
    assert.equal(detail.state, 'running', JSON.stringify(detail));
    assert.equal(await banner(hostPort), '220 dep');
  });

  test("the dependent's container has the store's variables and reaches the dependency by name", async () => {
    const name = `${prefix}cell-${APP}_ui`;
    const info = await engine.docker.getContainer(name).inspect();
    const env = info.Config.Env;
    assert.ok(env.includes('PIC_CELL_DOMAIN=home.cell'), env.join(' '));
    const depName = `${prefix}cell-${DEP}_mail`;
    assert.ok(env.includes(`PIC_SVC_${DEP.toUpperCase()}_MAIL=${depName}`), env.join(' '));
    assert.deepEqual(Object.keys(info.NetworkSettings.Networks).sort(), [
      `${prefix}cell-svc-${APP}`,
      `${prefix}cell-svc-${DEP}`,
    ]);
    const r = await engine.exec(name, [
      'node',
      '-e',
      `const s=require('node:net').connect(2525,process.env.PIC_SVC_${DEP.toUpperCase()}_MAIL);s.on('data',d=>{process.stdout.write(String(d));process.exit(0)});s.on('error',e=>{console.log(e.message);process.exit(1)})`,
    ]);
    assert.equal(r.stdout.trim(), '220 dep', r.stderr);
    // The dependency, though, is on its own network only: it does not reach into the dependent's.
    const depInfo = await engine.docker.getContainer(depName).inspect();
    assert.deepEqual(Object.keys(depInfo.NetworkSettings.Networks), [`${prefix}cell-svc-${DEP}`]);
  });

  test('the tick re-joins a dependent its dependency network lost', async () => {
    const name = `${prefix}cell-${APP}_ui`;
    await engine.docker.getNetwork(`${prefix}cell-svc-${DEP}`).disconnect({ Container: name, Force: true });
    assert.deepEqual(await store.joinDependencies(), [
      { container: name, network: `${prefix}cell-svc-${DEP}` },
    ]);
    assert.deepEqual(await store.joinDependencies(), []);
  });

  test('uninstalling (dependent, then dependency) closes the host port', async () => {
    await store.uninstall(APP);
    await store.idle();
    assert.equal(await banner(hostPort), '220 dep', 'still open: the dependency is installed');
    await store.uninstall(DEP);
    await store.idle();
    assert.equal(await banner(hostPort), 'ECONNREFUSED');
    const left = await engine.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.cell}=${cellIdFor(cellDir)}`] },
    });
    assert.deepEqual(left, []);
  });
});
