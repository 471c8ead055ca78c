// Store services as containers: the built-in manifests (images/store/<id>/manifest.json, read live,
// so a manifest change shows here) rendered to container specs, one golden file each; the guarantees
// every store container has whatever its manifest says; and the virtual IP allocation.
// UPDATE_GOLDEN=1 rewrites the goldens (review the diff).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { LABELS } from '../../schema/runtime.ts';
import { parseServiceManifest, type ServiceManifest } from '../../schema/service-manifest.ts';
import { testGoldens } from '../common/golden-kit.ts';
import { renderServiceContainers, type StoreCellContext } from './service-containers.ts';
import { allocateVirtualIps, VIRTUAL_IP_OFFSETS } from './virtual-ips.ts';

const REPO = resolve(import.meta.dirname, '..', '..', '..');

function manifestAt(file: string): ServiceManifest {
  const r = parseServiceManifest(JSON.parse(readFileSync(join(REPO, file), 'utf8')));
  if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.problems)}`);
  return r.manifest;
}

interface Case {
  manifestFile: string;
  context: StoreCellContext;
}

testGoldens(
  join(import.meta.dirname, 'golden'),
  (c: Case) => `${JSON.stringify(renderServiceContainers(manifestAt(c.manifestFile), c.context), null, 2)}\n`,
);

const ctx: StoreCellContext = {
  cellDir: '/opt/pic',
  prefix: '',
  bindAddress: '0.0.0.0',
  domain: 'home.cell',
};

function svc(
  container: Partial<ServiceManifest['containers'][number]>,
  extra: Partial<ServiceManifest> = {},
) {
  return {
    schema_version: 1,
    id: 'notes',
    name: 'Notes',
    description: 'notes',
    version: '2.1.0',
    kind: 'app',
    containers: [{ name: 'app', image: { build: '.' }, ...container }],
    ...extra,
  } as ServiceManifest;
}

test('every store container: own network, all capabilities dropped, no socket, binds under its data dir', () => {
  const m = svc(
    {
      capabilities: ['CHOWN', 'SETUID'],
      volumes: [
        { name: 'data', path: '/var/lib/notes' },
        { name: 'cache', path: '/var/cache/notes' },
      ],
      environment: { B: '2', A: '1' },
      user: 'notes',
    },
    { host_ports: [{ proto: 'tcp', port: 2222, container: 'app', container_port: 22 }] },
  );
  const r = renderServiceContainers(m, { ...ctx, prefix: 'x-', bindAddress: '192.0.2.7' });
  assert.equal(r.network, 'x-cell-svc-notes');
  const [c] = r.containers;
  assert.ok(c);
  assert.equal(c.service, 'notes_app');
  assert.equal(c.name, 'x-cell-notes_app');
  assert.equal(c.image, 'pic/store-notes_app:latest');
  assert.equal(c.ip, undefined, 'no address on the cell network');
  assert.deepEqual(c.capDrop, ['ALL']);
  assert.deepEqual(c.capAdd, ['CHOWN', 'SETUID']);
  assert.equal(c.mountDockerSocket, false);
  assert.equal(c.noNewPrivileges, true);
  assert.deepEqual(
    Object.keys(c.env),
    ['A', 'B', 'PIC_CELL_DOMAIN'],
    'sorted: the same manifest is the same spec',
  );
  assert.deepEqual(
    c.binds.map((b) => [b.host, b.container, b.uid, b.shallow]),
    [
      ['/opt/pic/data/services/notes/data', '/var/lib/notes', 0, true],
      ['/opt/pic/data/services/notes/cache', '/var/cache/notes', 0, true],
    ],
  );
  assert.deepEqual(c.ports, [{ container: 22, proto: 'tcp', hostIp: '192.0.2.7', hostPort: 2222 }]);
  assert.deepEqual(c.labels, {
    [LABELS.storeId]: 'notes',
    [LABELS.storeContainer]: 'app',
    [LABELS.storeVersion]: '2.1.0',
  });
});

test('the store sets PIC_CELL_DOMAIN and PIC_SVC_<S>_<C> for each required service; its containers join their networks', () => {
  const email = svc(
    {},
    {
      id: 'e-mail',
      containers: [
        { name: 'mail', image: { build: '.' } },
        { name: 'spam-filter', image: { build: '.' } },
      ],
    },
  );
  const webmail = svc(
    { environment: { ROUNDCUBE_X: '1' } },
    {
      id: 'webmail',
      requires: ['e-mail', 'calendar'],
      http_routes: [{ subdomain: 'mail', container: 'app', port: 8080 }],
    },
  );
  const r = renderServiceContainers(webmail, {
    ...ctx,
    prefix: 'x-',
    domain: 'example.org',
    virtualIp: '172.20.0.65',
    dependencies: [
      email,
      svc({}, { id: 'calendar', containers: [{ name: 'radicale', image: { build: '.' } }] }),
    ],
    namesAt: { mail: '172.20.0.64' },
  });
  assert.deepEqual(r.containers[0]!.env, {
    PIC_CELL_DOMAIN: 'example.org',
    PIC_SVC_CALENDAR_RADICALE: 'x-cell-calendar_radicale',
    PIC_SVC_E_MAIL_MAIL: 'x-cell-e-mail_mail',
    PIC_SVC_E_MAIL_SPAM_FILTER: 'x-cell-e-mail_spam-filter',
    ROUNDCUBE_X: '1',
  });
  assert.deepEqual(r.networks, ['x-cell-svc-calendar', 'x-cell-svc-e-mail']);
  assert.equal(r.network, 'x-cell-svc-webmail', 'its own network stays the primary one');
  // The route on email's name: Caddy's ports from its own address, answered at email's.
  assert.deepEqual(r.routes, [
    {
      subdomain: 'mail',
      virtualIp: '172.20.0.65',
      address: '172.20.0.64',
      upstream: 'x-cell-webmail_app:8080',
    },
  ]);
  // A manifest that skipped the policy cannot override what the store sets.
  const sneaky = renderServiceContainers(svc({ environment: { PIC_CELL_DOMAIN: 'evil' } }), ctx);
  assert.equal(sneaky.containers[0]!.env.PIC_CELL_DOMAIN, 'home.cell');
  // A service with no requirements joins no other network and gets the domain only.
  const alone = renderServiceContainers(svc({}), ctx);
  assert.deepEqual([alone.networks, alone.containers[0]!.env], [[], { PIC_CELL_DOMAIN: 'home.cell' }]);
});

test('a numeric user owns its volume directories; a remote image runs by its digest', () => {
  const ref = `registry.example.org:5000/pic/notes@sha256:${'1'.repeat(64)}`;
  const r = renderServiceContainers(
    svc({ user: '932', image: { ref }, volumes: [{ name: 'data', path: '/d' }] }),
    { ...ctx, builtImages: { app: 'sha256:ignored-for-a-ref' } },
  );
  assert.equal(r.containers[0]!.image, ref);
  assert.deepEqual([r.containers[0]!.binds[0]!.uid, r.containers[0]!.binds[0]!.gid], [932, 932]);
});

test('network_mode none and ipc_mode are carried; what the policy refuses is never rendered', () => {
  const r = renderServiceContainers(svc({ network_mode: 'none', ipc_mode: 'private' }), ctx);
  assert.equal(r.containers[0]!.networkMode, 'none');
  assert.equal(r.containers[0]!.ipcMode, 'private');
  for (const bad of [
    { privileged: true },
    { network_mode: 'host' },
    { pid_mode: 'host' },
    { ipc_mode: 'host' },
    { volumes: [{ name: 'd', path: '/var/run/docker.sock' }] },
    { environment: { X: 'unix:///var/run/docker.sock' } },
    { command: ['curl', '--unix-socket', '/run/docker.sock'] },
  ])
    assert.throws(
      () => renderServiceContainers(svc(bad), ctx),
      /did not pass the policy/,
      JSON.stringify(bad),
    );
});

test('virtual IPs: from offset 64 up, skipping taken addresses, stable once given', () => {
  const base = {
    cellNetwork: '172.20.0.0/16',
    vpnNetwork: '10.0.0.0/24',
    taken: ['172.20.0.2', '172.20.0.3', '172.20.0.65'],
  };
  const first = allocateVirtualIps({ ...base, assigned: {}, services: ['calendar', 'files'] });
  assert.deepEqual(first, {
    ok: true,
    assigned: { calendar: '172.20.0.64', files: '172.20.0.66' },
    added: ['calendar', 'files'],
  });
  // calendar goes, mail comes: files keeps its address, mail takes the lowest free one.
  const second = allocateVirtualIps({
    ...base,
    assigned: { files: '172.20.0.66' },
    services: ['files', 'mail'],
  });
  assert.deepEqual(second, {
    ok: true,
    assigned: { files: '172.20.0.66', mail: '172.20.0.64' },
    added: ['mail'],
  });
  // An address no longer valid (the network changed; a core container moved onto it) is given anew.
  const moved = allocateVirtualIps({
    ...base,
    taken: [...base.taken, '172.20.0.66'],
    assigned: { files: '172.20.0.66', old: '10.9.9.9', dup: '172.20.0.66' },
    services: ['files'],
  });
  assert.deepEqual(moved, { ok: true, assigned: { files: '172.20.0.64' }, added: ['files'] });
});

test('virtual IPs never reach the core offsets or the VPN sources block, and say when full', () => {
  assert.ok(VIRTUAL_IP_OFFSETS.first > 10);
  // A /24 cell network with a /26 VPN: its sources take .192-.255, so the store has .64-.191.
  const services = Array.from({ length: 128 }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const r = allocateVirtualIps({
    cellNetwork: '192.168.50.0/24',
    vpnNetwork: '10.0.0.0/26',
    taken: [],
    assigned: {},
    services,
  });
  assert.ok(r.ok);
  assert.equal(r.assigned.s000, '192.168.50.64');
  assert.equal(r.assigned.s127, '192.168.50.191');
  const full = allocateVirtualIps({
    cellNetwork: '192.168.50.0/24',
    vpnNetwork: '10.0.0.0/26',
    taken: [],
    assigned: r.assigned,
    services: [...services, 'one-more'],
  });
  assert.equal(full.ok, false);
  assert.match(
    !full.ok ? full.problem : '',
    /no free virtual IP for one-more: .* room for 128 store addresses/,
  );
  // A /16 is capped at offsets 64..319 (256 services), whatever room it has.
  const wide = allocateVirtualIps({
    cellNetwork: '172.20.0.0/16',
    vpnNetwork: '10.0.0.0/24',
    taken: [],
    assigned: {},
    services: ['a'],
  });
  assert.deepEqual(wide.ok && wide.assigned, { a: '172.20.0.64' });
});
