// Hostile manifests: each row is a well-formed (schema-valid) manifest that asks for something the
// store refuses even when signed. The row names the path the refusal must point at.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredState } from '../../render/runtime/desired-state.ts';
import { defaultConfig } from '../../schema/config.ts';
import { parseServiceManifest, type ServiceManifest } from '../../schema/service-manifest.ts';
import { coreHeldPorts } from './held-ports.ts';
import { checkManifest, type ManifestContext } from './manifest-policy.ts';

function base(): ServiceManifest {
  return {
    schema_version: 1,
    id: 'notes',
    name: 'Notes',
    description: 'A notes app',
    version: '1.0.0',
    kind: 'app',
    containers: [
      {
        name: 'app',
        image: { build: '.' },
        volumes: [{ name: 'data', path: '/var/lib/notes' }],
        capabilities: ['CHOWN', 'SETUID', 'SETGID'],
        user: 'notes',
      },
    ],
    http_routes: [{ subdomain: 'notes', container: 'app', port: 8080 }],
    host_ports: [{ proto: 'tcp', port: 2222, container: 'app', container_port: 22 }],
    accounts: {
      container: 'app',
      add: ['notes-user', 'add', '{username}'],
      remove: ['x', '{username}'],
      list: ['x'],
    },
    backup_volumes: ['data'],
  };
}

const mail: ServiceManifest = {
  ...base(),
  id: 'mail',
  http_routes: [{ subdomain: 'mail', container: 'app', port: 80 }],
  dns_names: ['smtp'],
  host_ports: [{ proto: 'tcp', port: 587, container: 'app', container_port: 587 }],
  accounts: undefined,
};

const ctx: ManifestContext = {
  catalogIds: ['notes', 'mail', 'calendar'],
  installed: [mail],
  heldPorts: coreHeldPorts(
    desiredState({ config: defaultConfig(), env: { API_PORT: 3100 }, cellDir: '/opt/pic', dockerGid: 999 }),
  ),
};

type Row = [string, (m: ServiceManifest) => void, string];
type Container = ServiceManifest['containers'][number];
const app = (m: ServiceManifest) => m.containers[0]!;
/** Changes the first container. */
const inApp = (patch: Partial<Container>) => (m: ServiceManifest) => {
  Object.assign(app(m), patch);
};
/** Changes the manifest's top level. */
const top = (patch: Partial<ServiceManifest>) => (m: ServiceManifest) => {
  Object.assign(m, patch);
};
/** Makes it an exit service and changes the first container. */
const exit = (patch: Partial<Container>) => (m: ServiceManifest) => {
  m.kind = 'exit';
  Object.assign(app(m), patch);
};
const volumeAt = (path: string) => (m: ServiceManifest) => {
  app(m).volumes![0]!.path = path;
};
const hostPort = (patch: object) => (m: ServiceManifest) => {
  Object.assign(m.host_ports![0]!, patch);
};
const route = (patch: object) => (m: ServiceManifest) => {
  Object.assign(m.http_routes![0]!, patch);
};

const HOSTILE: Row[] = [
  ['privileged', inApp({ privileged: true }), 'containers.0.privileged'],
  ['host network', inApp({ network_mode: 'host' }), 'containers.0.network_mode'],
  ['another container network', inApp({ network_mode: 'container:cell-api' }), 'containers.0.network_mode'],
  ['bridge network (the store chooses)', inApp({ network_mode: 'bridge' }), 'containers.0.network_mode'],
  ['host PID', inApp({ pid_mode: 'host' }), 'containers.0.pid_mode'],
  ['another container PID', inApp({ pid_mode: 'container:x' }), 'containers.0.pid_mode'],
  ['host IPC', inApp({ ipc_mode: 'host' }), 'containers.0.ipc_mode'],
  ['shareable IPC', inApp({ ipc_mode: 'shareable' }), 'containers.0.ipc_mode'],
  ['SYS_ADMIN', inApp({ capabilities: ['CHOWN', 'SYS_ADMIN'] }), 'containers.0.capabilities.1'],
  ['ALL capabilities', inApp({ capabilities: ['ALL'] }), 'containers.0.capabilities.0'],
  ['NET_ADMIN in an app', inApp({ capabilities: ['NET_ADMIN'] }), 'containers.0.capabilities.0'],
  ['NET_RAW in an exit', exit({ capabilities: ['NET_RAW'] }), 'containers.0.capabilities.0'],
  ['tun in an app', inApp({ devices: ['/dev/net/tun'] }), 'containers.0.devices.0'],
  ['a disk in an exit', exit({ devices: ['/dev/sda'] }), 'containers.0.devices.0'],
  ['volume over /proc', volumeAt('/proc/sys'), 'containers.0.volumes.0.path'],
  ['volume over /dev', volumeAt('/dev'), 'containers.0.volumes.0.path'],
  ['volume at the socket path', volumeAt('/var/run/docker.sock'), 'containers.0.volumes.0.path'],
  ['volume at /run/docker', volumeAt('/run/docker'), 'containers.0.volumes.0.path'],
  [
    'a path mounted twice',
    inApp({
      volumes: [
        { name: 'data', path: '/srv' },
        { name: 'other', path: '/srv' },
      ],
    }),
    'containers.0.volumes.1.path',
  ],
  [
    'DOCKER_HOST',
    inApp({ environment: { DOCKER_HOST: 'tcp://172.20.0.1:2375' } }),
    'containers.0.environment.DOCKER_HOST',
  ],
  [
    'the socket in an env value',
    inApp({ environment: { SOCK: 'unix:///var/run/docker.sock' } }),
    'containers.0.environment.SOCK',
  ],
  [
    'the socket in argv',
    inApp({ command: ['curl', '--unix-socket', '/run/docker.sock'] }),
    'containers.0.command.2',
  ],
  ['host port 53/udp (core)', hostPort({ proto: 'udp', port: 53 }), 'host_ports.0.port'],
  ['host port 443 (core)', hostPort({ port: 443 }), 'host_ports.0.port'],
  ['host port 123/udp (core)', hostPort({ proto: 'udp', port: 123 }), 'host_ports.0.port'],
  ['host port 51820/udp (core)', hostPort({ proto: 'udp', port: 51820 }), 'host_ports.0.port'],
  ['the API port from .env', hostPort({ port: 3100 }), 'host_ports.0.port'],
  ['the web UI port', hostPort({ port: 8081 }), 'host_ports.0.port'],
  ["another service's port", hostPort({ port: 587 }), 'host_ports.0.port'],
  ['host port to an unknown container', hostPort({ container: 'db' }), 'host_ports.0.container'],
  [
    'a host port twice',
    top({
      host_ports: [0, 1].map(() => ({
        proto: 'tcp' as const,
        port: 2222,
        container: 'app',
        container_port: 22,
      })),
    }),
    'host_ports.1.port',
  ],
  [
    'two containers with one name',
    (m) => {
      m.containers.push({ name: 'app', image: { build: 'x' } });
    },
    'containers.1.name',
  ],
  ['route to an unknown container', route({ container: 'db' }), 'http_routes.0.container'],
  ['route on a core name', route({ subdomain: 'api' }), 'http_routes.0.subdomain'],
  ["route on another service's subdomain", route({ subdomain: 'mail' }), 'http_routes.0.subdomain'],
  [
    'one subdomain routed twice',
    top({ http_routes: [0, 1].map(() => ({ subdomain: 'notes', container: 'app', port: 80 })) }),
    'http_routes.1.subdomain',
  ],
  ["DNS name of another service's", top({ dns_names: ['smtp'] }), 'dns_names.0'],
  ['DNS name of the core', top({ dns_names: ['ntp'] }), 'dns_names.0'],
  ['backup of an unknown volume', top({ backup_volumes: ['cache'] }), 'backup_volumes.0'],
  [
    'accounts in an unknown container',
    (m) => {
      m.accounts!.container = 'db';
    },
    'accounts.container',
  ],
  ['requires itself', top({ requires: ['notes'] }), 'requires.0'],
  ['requires an unknown id', top({ requires: ['nosuch'] }), 'requires.0'],
  ['requires one id twice', top({ requires: ['mail', 'mail'] }), 'requires.1'],
];

for (const [what, change, path] of HOSTILE) {
  test(`refused even when signed: ${what} (${path})`, () => {
    const m = structuredClone(base());
    change(m);
    // Every row is a shape the schema accepts: the refusal is the policy's, with a reason.
    const parsed = parseServiceManifest(m);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
    const r = checkManifest(parsed.manifest, ctx);
    assert.equal(r.ok, false, `${what} was accepted`);
    assert.ok(!r.ok && r.problems.some((p) => p.path === path && p.message.length > 10), JSON.stringify(r));
  });
}

test('the base manifest passes, as does the same id reinstalled over itself', () => {
  assert.deepEqual(checkManifest(base(), ctx), { ok: true });
  assert.deepEqual(checkManifest(base(), { ...ctx, installed: [mail, base()] }), { ok: true });
});

test('an exit service may hold NET_ADMIN and /dev/net/tun, and nothing more', () => {
  const m = base();
  m.kind = 'exit';
  app(m).capabilities = ['NET_ADMIN', 'NET_BIND_SERVICE'];
  app(m).devices = ['/dev/net/tun'];
  assert.deepEqual(checkManifest(m, ctx), { ok: true });
});

test('allowed namespace modes pass: no network, private or no IPC', () => {
  const m = base();
  Object.assign(app(m), { network_mode: 'none', ipc_mode: 'private' });
  assert.deepEqual(checkManifest(m, ctx), { ok: true });
});

test('a remote image by digest passes the policy (its signature is checked elsewhere)', () => {
  const m = base();
  app(m).image = { ref: `registry.example.org:5000/pic/notes@sha256:${'a'.repeat(64)}` };
  assert.deepEqual(checkManifest(m, ctx), { ok: true });
});

test('every problem is reported at once, each at its own path', () => {
  const m = base();
  Object.assign(app(m), { privileged: true, network_mode: 'host', capabilities: ['SYS_ADMIN'] });
  m.host_ports![0]!.port = 80;
  const r = checkManifest(m, ctx);
  assert.ok(!r.ok);
  assert.deepEqual(r.problems.map((p) => p.path).sort(), [
    'containers.0.capabilities.0',
    'containers.0.network_mode',
    'containers.0.privileged',
    'host_ports.0.port',
  ]);
});

test('the core holds its published ports and the well-known ones even when .env moves them', () => {
  const held = ctx.heldPorts.map((p) => `${p.port}/${p.proto}`);
  for (const p of [
    '53/udp',
    '53/tcp',
    '80/tcp',
    '443/tcp',
    '123/udp',
    '51820/udp',
    '3100/tcp',
    '3000/tcp',
    '8081/tcp',
  ])
    assert.ok(held.includes(p), `${p} not held: ${held.join(' ')}`);
});
