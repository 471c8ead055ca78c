// What a store service may ask of the host, decided on the parsed manifest before anything is built,
// pulled or created. A signature says who published a manifest, not that it is safe to run here, so
// these refusals hold even for a validly signed manifest (ADR 0007, issue 12): privileged mode, the
// host's namespaces, capabilities beyond a short list, devices, mounts outside the service's own
// data directory, the Docker socket, and ports, names or ids the core or another service holds.
import { posix } from 'node:path';
import {
  CORE_NAMES,
  type ManifestProblem,
  type ServiceContainer,
  type ServiceManifest,
  serviceVolumeHostPath,
} from '../../schema/service-manifest.ts';

/**
 * Capabilities any service may add (the store drops all others): file ownership fix-ups at start,
 * dropping root to a daemon user, binding ports below 1024 inside its own network namespace, and
 * signalling its own children. All are in Docker's default set, so none widens what a stock
 * container may do.
 */
export const ALLOWED_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'SETUID',
  'SETGID',
  'NET_BIND_SERVICE',
  'KILL',
];
/** An exit service routes peers' traffic through a tunnel: it needs its own routes and a tun device. */
export const EXIT_CAPABILITIES: readonly string[] = ['NET_ADMIN'];
export const EXIT_DEVICES: readonly string[] = ['/dev/net/tun'];

/** Environment variables the store sets in every container (service-containers.ts); never the manifest. */
export const STORE_ENV_PREFIX = 'PIC_';

/** Namespace modes a container may name; anything else (host, container:<x>) shares another's. */
const ALLOWED_MODES = {
  network_mode: ['none'],
  pid_mode: [] as string[],
  ipc_mode: ['private', 'none'],
} as const;

/** Container paths a volume must not cover: the kernel's views, where a mount would mask or leak. */
const KERNEL_PATHS = ['/proc', '/sys', '/dev'];

export interface HeldPort {
  proto: 'tcp' | 'udp';
  port: number;
  /** Who holds it, for the message: `core (cell-caddy)`, `service mail`. */
  holder: string;
}

export interface ManifestContext {
  /** Ids the catalog knows (built-in and remote): what `requires` may name. */
  catalogIds: readonly string[];
  /** Manifests of the services installed now; one with the checked id (a reinstall) is ignored. */
  installed: readonly ServiceManifest[];
  /** Host ports the core publishes (see coreHeldPorts); installed services' host_ports are added. */
  heldPorts: readonly HeldPort[];
}

export type ManifestCheck = { ok: true } | { ok: false; problems: ManifestProblem[] };

export function checkManifest(m: ServiceManifest, ctx: ManifestContext): ManifestCheck {
  const problems: ManifestProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const others = ctx.installed.filter((o) => o.id !== m.id);

  m.containers.forEach((c, i) => {
    checkContainer(m, c, `containers.${i}`, add);
  });
  checkReferences(m, add);
  checkHooks(m, add);
  checkPorts(m, ctx, others, add);
  checkNames(m, others, add);
  checkRequires(m, ctx, add);
  return problems.length === 0 ? { ok: true } : { ok: false, problems };
}

type Add = (path: string, message: string) => void;

function mentionsDockerSocket(s: string): boolean {
  return /docker\.sock/i.test(s);
}

function checkContainer(m: ServiceManifest, c: ServiceContainer, at: string, add: Add): void {
  if (c.privileged === true)
    add(`${at}.privileged`, 'privileged mode is refused: it gives the container the host');
  for (const key of ['network_mode', 'pid_mode', 'ipc_mode'] as const) {
    const mode = c[key];
    if (mode === undefined) continue;
    const allowed: readonly string[] = ALLOWED_MODES[key];
    if (mode === 'host' || mode.startsWith('container:'))
      add(
        `${at}.${key}`,
        `${mode} is refused: a service never shares the host's or another container's namespace`,
      );
    else if (!allowed.includes(mode))
      add(
        `${at}.${key}`,
        allowed.length ? `must be one of ${allowed.join(', ')} (or left out)` : 'must be left out',
      );
  }
  const caps = m.kind === 'exit' ? [...ALLOWED_CAPABILITIES, ...EXIT_CAPABILITIES] : ALLOWED_CAPABILITIES;
  c.capabilities?.forEach((cap, i) => {
    if (caps.includes(cap)) return;
    const why = EXIT_CAPABILITIES.includes(cap) ? ' (only an exit service may hold it)' : '';
    add(`${at}.capabilities.${i}`, `${cap} is not in the allowed list${why}: ${caps.join(', ')}`);
  });
  c.devices?.forEach((d, i) => {
    if (m.kind === 'exit' && EXIT_DEVICES.includes(d)) return;
    add(
      `${at}.devices.${i}`,
      m.kind === 'exit'
        ? `${d} is refused: an exit service may have ${EXIT_DEVICES.join(', ')} only`
        : `${d} is refused: only an exit service may have a device (${EXIT_DEVICES.join(', ')})`,
    );
  });
  checkVolumes(m.id, c, at, add);
  for (const [name, value] of Object.entries(c.environment ?? {})) {
    if (name === 'DOCKER_HOST' || mentionsDockerSocket(value))
      add(`${at}.environment.${name}`, 'the Docker engine is refused in any form: it is root on the host');
    else if (name.toUpperCase().startsWith(STORE_ENV_PREFIX))
      add(
        `${at}.environment.${name}`,
        `${STORE_ENV_PREFIX}* is set by the store itself (PIC_CELL_DOMAIN, PIC_SVC_<service>_<container>)`,
      );
  }
  for (const key of ['command', 'entrypoint'] as const) {
    c[key]?.forEach((item, i) => {
      if (mentionsDockerSocket(item)) add(`${at}.${key}.${i}`, 'the Docker socket is refused in any form');
    });
  }
  if ('build' in c.image && !insideFolder(c.image.build))
    add(`${at}.image.build`, 'must stay inside the service folder');
}

/** The schema makes a mount outside data/services/<id>/ unwritable; this double-checks the result. */
function checkVolumes(id: string, c: ServiceContainer, at: string, add: Add): void {
  const seen = new Set<string>();
  c.volumes?.forEach((v, i) => {
    const p = `${at}.volumes.${i}`;
    const host = serviceVolumeHostPath(id, v.name);
    if (!/^[a-z][a-z0-9-]*$/.test(v.name) || posix.dirname(posix.normalize(host)) !== `data/services/${id}`)
      add(`${p}.name`, `must be one directory under data/services/${id}/`);
    if (posix.normalize(v.path) !== v.path || !v.path.startsWith('/') || v.path === '/')
      add(`${p}.path`, 'must be an absolute normalised path other than /');
    if (KERNEL_PATHS.some((k) => v.path === k || v.path.startsWith(`${k}/`)))
      add(`${p}.path`, `must not cover ${KERNEL_PATHS.join(', ')}`);
    if (mentionsDockerSocket(v.path) || /^\/(var\/)?run\/docker(\/|$)/.test(v.path))
      add(`${p}.path`, 'the Docker socket is refused in any form');
    if (seen.has(v.path)) add(`${p}.path`, 'is mounted twice');
    seen.add(v.path);
  });
}

function insideFolder(dir: string): boolean {
  const n = posix.normalize(dir);
  return !posix.isAbsolute(n) && n !== '..' && !n.startsWith('../');
}

/** Every name a manifest uses to point at its own parts must exist. */
function checkReferences(m: ServiceManifest, add: Add): void {
  const names = m.containers.map((c) => c.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) add(`containers.${i}.name`, `${n} is used by two containers`);
  });
  const known = new Set(names);
  const unknown = (n: string) => `${n} is not a container of this service (${names.join(', ')})`;
  m.host_ports?.forEach((h, i) => {
    if (!known.has(h.container)) add(`host_ports.${i}.container`, unknown(h.container));
  });
  m.http_routes?.forEach((r, i) => {
    if (!known.has(r.container)) add(`http_routes.${i}.container`, unknown(r.container));
  });
  for (const key of ['accounts', 'tls', 'dns_records', 'settings', 'status'] as const) {
    const hook = m[key];
    if (hook && !known.has(hook.container)) add(`${key}.container`, unknown(hook.container));
  }
  const volumes = new Set(m.containers.flatMap((c) => (c.volumes ?? []).map((v) => v.name)));
  m.backup_volumes?.forEach((b, i) => {
    if (!volumes.has(b)) add(`backup_volumes.${i}`, `${b} is not a volume of this service`);
  });
}

/** The certificate volume belongs to the container that reads it; settings keys name one value each. */
function checkHooks(m: ServiceManifest, add: Add): void {
  if (m.tls) {
    const c = m.containers.find((x) => x.name === m.tls!.container);
    const volumes = (c?.volumes ?? []).map((v) => v.name);
    if (c && !volumes.includes(m.tls.volume))
      add(
        'tls.volume',
        `${m.tls.volume} is not a volume of ${c.name} (${volumes.join(', ') || 'it has none'}): the certificates are written into it`,
      );
    if (m.tls.certificate && zoneNames(m).length === 0)
      add('tls.certificate', 'a certificate names the service: give it dns_names or http_routes');
  }
  const keys = new Set<string>();
  m.settings?.fields.forEach((f, i) => {
    if (keys.has(f.key)) add(`settings.fields.${i}.key`, `${f.key} is used by two fields`);
    keys.add(f.key);
  });
}

function checkPorts(
  m: ServiceManifest,
  ctx: ManifestContext,
  others: readonly ServiceManifest[],
  add: Add,
): void {
  const held: HeldPort[] = [
    ...ctx.heldPorts,
    ...others.flatMap((o) => (o.host_ports ?? []).map((h) => ({ ...h, holder: `service ${o.id}` }))),
  ];
  const mine = new Set<string>();
  m.host_ports?.forEach((h, i) => {
    const key = `${h.port}/${h.proto}`;
    const holder = held.find((x) => x.proto === h.proto && x.port === h.port)?.holder;
    if (holder) add(`host_ports.${i}.port`, `${key} is held by ${holder}`);
    if (mine.has(key)) add(`host_ports.${i}.port`, `${key} is listed twice`);
    mine.add(key);
  });
}

/**
 * Subdomains and extra DNS names share the zone with the core's names and other services'. A name is
 * held by one service: its `dns_names` entry, or a route's subdomain. The one exception (issue 13): a
 * route may use a `dns_names` entry of a service this one requires (webmail's `mail` on email's name);
 * it is then answered at that service's virtual IP, whose ports 80/443 the route's service takes, so
 * only one service may do so for a given dependency, and never one that has routes of its own.
 */
function checkNames(m: ServiceManifest, others: readonly ServiceManifest[], add: Add): void {
  const requires = new Set(m.requires ?? []);
  const dependencyOf = new Map<string, ServiceManifest>();
  for (const o of others) if (requires.has(o.id)) for (const n of o.dns_names ?? []) dependencyOf.set(n, o);
  // Names others hold; a route of a service that requires this one, on one of this one's dns_names,
  // is that exception seen from the other side (email reinstalled under webmail).
  const owner = new Map<string, string>();
  for (const o of others) {
    for (const n of o.dns_names ?? []) owner.set(n, `service ${o.id}`);
    for (const r of o.http_routes ?? []) {
      const onMine = (o.requires ?? []).includes(m.id) && (m.dns_names ?? []).includes(r.subdomain);
      if (!onMine) owner.set(r.subdomain, `service ${o.id}`);
    }
  }
  const check = (name: string, path: string) => {
    if (CORE_NAMES.includes(name)) add(path, `${name} is a name the core holds`);
    const by = owner.get(name);
    if (by) add(path, `${name} is taken by ${by}`);
  };
  const subdomains = new Set<string>();
  m.http_routes?.forEach((r, i) => {
    const path = `http_routes.${i}.subdomain`;
    if (subdomains.has(r.subdomain)) add(path, `${r.subdomain} is routed twice`);
    subdomains.add(r.subdomain);
    const dep = dependencyOf.get(r.subdomain);
    if (!dep) {
      check(r.subdomain, path);
      return;
    }
    // On a dependency's name: its virtual IP's 80/443 become this service's.
    if ((dep.http_routes ?? []).length > 0)
      add(path, `${r.subdomain} belongs to ${dep.id}, which answers HTTPS at its address itself`);
    const rival = others.find(
      (o) =>
        o.id !== dep.id &&
        (o.requires ?? []).includes(dep.id) &&
        (o.http_routes ?? []).some((x) => (dep.dns_names ?? []).includes(x.subdomain)),
    );
    if (rival) add(path, `service ${rival.id} already answers HTTPS at ${dep.id}'s address`);
  });
  const names = new Set<string>();
  m.dns_names?.forEach((n, i) => {
    const path = `dns_names.${i}`;
    check(n, path);
    if (names.has(n) || subdomains.has(n)) add(path, `${n} is listed twice (dns_names or a route)`);
    names.add(n);
  });
  // Reinstalled with routes of its own while a dependent answers HTTPS on one of its names.
  if ((m.http_routes ?? []).length > 0) {
    const dependent = others.find(
      (o) =>
        (o.requires ?? []).includes(m.id) &&
        (o.http_routes ?? []).some((r) => (m.dns_names ?? []).includes(r.subdomain)),
    );
    if (dependent)
      add('http_routes.0.subdomain', `service ${dependent.id} answers HTTPS at this service's address`);
  }
}

function zoneNames(m: ServiceManifest): string[] {
  return [...(m.http_routes ?? []).map((r) => r.subdomain), ...(m.dns_names ?? [])];
}

function checkRequires(m: ServiceManifest, ctx: ManifestContext, add: Add): void {
  m.requires?.forEach((r, i) => {
    if (r === m.id) add(`requires.${i}`, 'a service cannot require itself');
    else if (!ctx.catalogIds.includes(r)) add(`requires.${i}`, `${r} is not in the catalog`);
    if (m.requires?.indexOf(r) !== i) add(`requires.${i}`, `${r} is listed twice`);
  });
}
