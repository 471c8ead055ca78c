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

/** A dependency holding names and no routes (issue 13's email), and a dependent routing on one. */
const email: ServiceManifest = {
  ...base(),
  id: 'email',
  http_routes: undefined,
  host_ports: undefined,
  accounts: undefined,
  dns_names: ['inbox', 'imap'],
};
const webmail: ServiceManifest = {
  ...base(),
  id: 'webmail',
  requires: ['email'],
  http_routes: [{ subdomain: 'inbox', container: 'app', port: 8080 }],
  host_ports: undefined,
  accounts: undefined,
};

const ctx: ManifestContext = {
  catalogIds: ['notes', 'mail', 'calendar', 'email', 'webmail'],
  installed: [mail, email],
  heldPorts: coreHeldPorts(
    desiredState({ config: defaultConfig(), env: { API_PORT: 3100 }, cellDir: '/opt/pic', dockerGid: 999 }),
  ),
};

/** What the row checks, how it changes the base manifest, the refused path; optionally other installed services. */
type Row = [string, (m: ServiceManifest) => void, string, ServiceManifest[]?];
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
  // Issue 13: names a dependency holds, hooks in a container of the service, the store's own env.
  [
    'route on a dns_names entry of a service it does not require',
    route({ subdomain: 'inbox' }),
    'http_routes.0.subdomain',
  ],
  [
    "route on a required service's route name",
    (m) => {
      m.requires = ['mail'];
      m.http_routes![0]!.subdomain = 'mail';
    },
    'http_routes.0.subdomain',
  ],
  [
    "route on a required service's name while that one answers HTTPS itself",
    (m) => {
      m.requires = ['mail'];
      m.http_routes![0]!.subdomain = 'smtp';
    },
    'http_routes.0.subdomain',
  ],
  [
    "route on a required service's name another dependent already routes",
    (m) => {
      m.requires = ['email'];
      m.http_routes![0]!.subdomain = 'inbox';
    },
    'http_routes.0.subdomain',
    [mail, email, webmail],
  ],
  [
    "a second dependent taking the dependency's HTTPS on its other name",
    (m) => {
      m.requires = ['email'];
      m.http_routes![0]!.subdomain = 'imap';
    },
    'http_routes.0.subdomain',
    [mail, email, webmail],
  ],
  [
    'the dependency reinstalled with routes of its own under a dependent on its name',
    (m) => {
      Object.assign(m, {
        ...structuredClone(email),
        http_routes: [{ subdomain: 'mx', container: 'app', port: 80 }],
      });
    },
    'http_routes.0.subdomain',
    [mail, email, webmail],
  ],
  [
    "DNS name a dependent's route uses, by another service",
    top({ dns_names: ['inbox'] }),
    'dns_names.0',
    [email, webmail],
  ],
  ['a DNS name twice', top({ dns_names: ['notes-a', 'notes-a'] }), 'dns_names.1'],
  ['a DNS name that is also its route', top({ dns_names: ['notes'] }), 'dns_names.0'],
  [
    "PIC_ variables are the store's",
    inApp({ environment: { PIC_CELL_DOMAIN: 'evil.example' } }),
    'containers.0.environment.PIC_CELL_DOMAIN',
  ],
  [
    'pic_ in any case',
    inApp({ environment: { pic_svc_email_mail: 'x' } }),
    'containers.0.environment.pic_svc_email_mail',
  ],
  [
    'tls in an unknown container',
    top({ tls: { container: 'db', volume: 'data', certificate: false } }),
    'tls.container',
  ],
  [
    'tls in a volume its container does not have',
    top({ tls: { container: 'app', volume: 'certs', certificate: false } }),
    'tls.volume',
  ],
  [
    'a certificate for a service with no name',
    top({ http_routes: undefined, tls: { container: 'app', volume: 'data', certificate: true } }),
    'tls.certificate',
  ],
  [
    'dns_records in an unknown container',
    top({ dns_records: { container: 'db', list: ['x'] } }),
    'dns_records.container',
  ],
  [
    'status in an unknown container',
    top({ status: { container: 'db', command: ['x'] } }),
    'status.container',
  ],
  [
    'settings in an unknown container',
    top({ settings: { container: 'db', apply: ['x'], fields: [{ key: 'a', label: 'A', type: 'text' }] } }),
    'settings.container',
  ],
  [
    'one settings key twice',
    top({
      settings: {
        container: 'app',
        apply: ['x'],
        fields: [
          { key: 'quota', label: 'Quota', type: 'text' },
          { key: 'quota', label: 'Quota again', type: 'boolean' },
        ],
      },
    }),
    'settings.fields.1.key',
  ],
  ['requires an unknown id', top({ requires: ['nosuch'] }), 'requires.0'],
  ['requires one id twice', top({ requires: ['mail', 'mail'] }), 'requires.1'],
];

for (const [what, change, path, installed] of HOSTILE) {
  test(`refused even when signed: ${what} (${path})`, () => {
    const m = structuredClone(base());
    change(m);
    // Every row is a shape the schema accepts: the refusal is the policy's, with a reason.
    const parsed = parseServiceManifest(m);
    assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
    const r = checkManifest(parsed.manifest, installed ? { ...ctx, installed } : ctx);
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

test("a route may use a dns_names entry of a service it requires (webmail on email's name)", () => {
  assert.deepEqual(checkManifest(webmail, ctx), { ok: true });
  // Reinstalled over itself, and the dependency reinstalled under it, both pass.
  assert.deepEqual(checkManifest(webmail, { ...ctx, installed: [email, webmail] }), { ok: true });
  assert.deepEqual(checkManifest(email, { ...ctx, installed: [email, webmail] }), { ok: true });
  // Its own routes beside it are fine; the dependency's name stays the dependency's.
  const both = {
    ...webmail,
    http_routes: [...webmail.http_routes!, { subdomain: 'webmail', container: 'app', port: 8080 }],
  };
  assert.deepEqual(checkManifest(both, ctx), { ok: true });
});

test("the mail-like hooks pass when they name the service's own parts", () => {
  const m: ServiceManifest = {
    ...base(),
    dns_names: ['notes-mx'],
    tls: { container: 'app', volume: 'data', certificate: true, reload: ['reload'] },
    dns_records: { container: 'app', list: ['records'] },
    status: { container: 'app', command: ['status'] },
    settings: {
      container: 'app',
      apply: ['apply'],
      fields: [
        { key: 'a', label: 'A', type: 'text' },
        { key: 'b', label: 'B', type: 'secret' },
      ],
    },
  };
  assert.deepEqual(checkManifest(m, ctx), { ok: true });
});
