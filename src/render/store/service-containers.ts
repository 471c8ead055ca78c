// A store service's containers as the runtime creates them, rendered from its manifest (already
// checked by the schema and the policy) and the cell's facts. Pure and deterministic: the same
// manifest and context give the same specs, so the spec hash recreates a container only when
// something about it changed.
//
// What every store container gets, whatever the manifest says (ADR 0007, issue 12):
// - its own network (`<prefix>cell-svc-<id>`): never the cell network, where cell-api listens; Caddy
//   joins it to proxy the service's routes. A manifest's `network_mode: none` means no network at all.
// - binds only from its declared volumes, each `data/services/<id>/<volume>` in the cell directory;
// - never privileged, never the Docker socket, no-new-privileges;
// - every capability dropped, then exactly the manifest's added back (the policy allowed them);
// - the manifest's user, read-only root, memory limit (swap included) and health check;
// - labels naming the store id, container and version, beside the runtime's own;
// - the store's own environment (issue 13), beside the manifest's (which may not set PIC_*):
//   PIC_CELL_DOMAIN, the cell's domain; and for each service S it requires and each container C of S,
//   PIC_SVC_<S>_<C> (uppercase, `-` → `_`) = C's container name, reachable by that name because the
//   service's containers also join the networks of the services it requires (`networks`).
import { posix } from 'node:path';
import { type BindSpec, type ContainerSpec, LABELS, storeContainerKey } from '../../schema/runtime.ts';
import {
  type ServiceContainer,
  type ServiceManifest,
  serviceVolumeHostPath,
} from '../../schema/service-manifest.ts';

export interface StoreCellContext {
  /** The cell directory (absolute): volumes live under <cellDir>/data/services/<id>/. */
  cellDir: string;
  /** PIC_NAME_PREFIX: container and network names start with it. */
  prefix: string;
  /** The host address host ports are published on (BIND_ADDRESS, default 0.0.0.0). */
  bindAddress: string;
  /**
   * The image each `build` container runs, by container name: the ID recorded when it was built here,
   * so what runs is exactly what was built. Left out, the local tag (storeImageTag) stands in.
   */
  builtImages?: Readonly<Record<string, string>>;
  /** The service's virtual IP on the cell network (allocateVirtualIps), when it has names or host ports. */
  virtualIp?: string;
  /** The cell's domain (`home.cell`): PIC_CELL_DOMAIN in every container. */
  domain: string;
  /**
   * The services this one requires, as installed (their manifests' ids and containers): each container
   * gets PIC_SVC_<S>_<C> for them. One left out gets no variables (the store checks they are all here
   * before it creates anything).
   */
  dependencies?: ReadonlyArray<Pick<ServiceManifest, 'id' | 'containers'>>;
  /**
   * Where a route on a dependency's name is answered (webmail's `mail` on email's address): the
   * virtual IP of the service holding that name in `dns_names`, by name. Left out: at its own.
   */
  namesAt?: Readonly<Record<string, string>>;
}

export interface StoreRoute {
  /** `https://<subdomain>.<domain>` */
  subdomain: string;
  /** The service's own virtual IP: Caddy's ports for the service derive from it. */
  virtualIp: string | undefined;
  /** Where the name resolves and 80/443 are answered: a dependency's virtual IP for its name. */
  address: string | undefined;
  /** Where Caddy sends it, on the service's network: `<container name>:<port>`. */
  upstream: string;
}

export interface StoreServiceRender {
  id: string;
  /** The service's own network, which its containers (and Caddy) join. */
  network: string;
  /** The networks of the services it requires, which its containers join too (sorted). */
  networks: string[];
  containers: ContainerSpec[];
  routes: StoreRoute[];
}

export const storeNetworkName = (prefix: string, id: string) => `${prefix}cell-svc-${id}`;
/** `_` is never in a slug, so `<id>_<container>` names one container of one service only. */
export const storeContainerName = (prefix: string, id: string, container: string) =>
  `${prefix}cell-${id}_${container}`;
/** The local tag an image built from the catalog folder gets before its ID is recorded. */
export const storeImageTag = (id: string, container: string) => `pic/store-${id}_${container}:latest`;

/** A numeric `uid[:gid]`: the store gives the volume directories to it on the host. */
function numericOwner(user: string | undefined): { uid: number; gid: number } | undefined {
  const m = user === undefined ? null : /^(\d{1,10})(?::(\d{1,10}))?$/.exec(user);
  if (!m) return undefined;
  const uid = Number(m[1]);
  return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
}

function binds(m: ServiceManifest, c: ServiceContainer, cellDir: string): BindSpec[] {
  // A user by name has no uid known here: the directory stays root's and the service's entrypoint
  // (with CHOWN/FOWNER) hands it on. Either way only the directory itself is given (`shallow`): what
  // the service made inside keeps the owners it gave them.
  const owner = numericOwner(c.user) ?? { uid: 0, gid: 0 };
  return (c.volumes ?? []).map((v) => ({
    host: posix.join(cellDir, serviceVolumeHostPath(m.id, v.name)),
    container: v.path,
    readOnly: false,
    uid: owner.uid,
    gid: owner.gid,
    shallow: true,
  }));
}

function image(m: ServiceManifest, c: ServiceContainer, ctx: StoreCellContext): string {
  if ('ref' in c.image) return c.image.ref;
  return ctx.builtImages?.[c.name] ?? storeImageTag(m.id, c.name);
}

function sortedEnv(env: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(env ?? {}).sort()) out[k] = env![k]!;
  return out;
}

/** `PIC_SVC_<S>_<C>`: uppercase, `-` → `_` (slugs have nothing else a variable name cannot hold). */
export const storeServiceEnvName = (service: string, container: string) =>
  `PIC_SVC_${service}_${container}`.toUpperCase().replaceAll('-', '_');

/** The variable that tells every store container the cell's domain (read back by the store's engine). */
export const CELL_DOMAIN_ENV = 'PIC_CELL_DOMAIN';

/** What the store sets in every container of `m`, whatever the manifest says. */
export function storeEnvironment(m: ServiceManifest, ctx: StoreCellContext): Record<string, string> {
  const env: Record<string, string> = { [CELL_DOMAIN_ENV]: ctx.domain };
  for (const id of m.requires ?? []) {
    const dep = ctx.dependencies?.find((d) => d.id === id);
    for (const c of dep?.containers ?? [])
      env[storeServiceEnvName(id, c.name)] = storeContainerName(ctx.prefix, id, c.name);
  }
  return env;
}

function containerSpec(m: ServiceManifest, c: ServiceContainer, ctx: StoreCellContext): ContainerSpec {
  // The policy refuses PIC_* in a manifest; the store's values win over one that skipped it.
  const env = sortedEnv({ ...c.environment, ...storeEnvironment(m, ctx) });
  const spec: ContainerSpec = {
    service: storeContainerKey(m.id, c.name),
    name: storeContainerName(ctx.prefix, m.id, c.name),
    image: image(m, c, ctx),
    env,
    ...(c.command ? { cmd: [...c.command] } : {}),
    ...(c.entrypoint ? { entrypoint: [...c.entrypoint] } : {}),
    ports: (m.host_ports ?? [])
      .filter((h) => h.container === c.name)
      .map((h) => ({
        container: h.container_port,
        proto: h.proto,
        hostIp: ctx.bindAddress,
        hostPort: h.port,
      })),
    binds: binds(m, c, ctx.cellDir),
    files: [],
    capAdd: [...(c.capabilities ?? [])],
    capDrop: ['ALL'],
    devices: [...(c.devices ?? [])],
    sysctls: {},
    groupAdd: [],
    mountDockerSocket: false,
    noNewPrivileges: true,
    labels: {
      [LABELS.storeId]: m.id,
      [LABELS.storeContainer]: c.name,
      [LABELS.storeVersion]: m.version,
    },
  };
  if (c.memory_limit_mb !== undefined) spec.memoryMb = c.memory_limit_mb;
  if (c.read_only === true) spec.readOnly = true;
  if (c.user !== undefined) spec.user = c.user;
  if (c.healthcheck)
    spec.healthcheck = {
      test: [...c.healthcheck.test],
      intervalS: c.healthcheck.interval_s,
      timeoutS: c.healthcheck.timeout_s,
      retries: c.healthcheck.retries,
    };
  if (c.network_mode === 'none') spec.networkMode = 'none';
  if (c.ipc_mode === 'private' || c.ipc_mode === 'none') spec.ipcMode = c.ipc_mode;
  return spec;
}

/**
 * The policy has refused these already; a manifest that skipped it must still not become a container
 * that holds the host (the renderer never writes a privileged flag or a namespace mode other than
 * these, but a silent drop would hide the bypass).
 */
function refuseUnchecked(m: ServiceManifest): void {
  for (const c of m.containers) {
    const bad =
      c.privileged === true ||
      c.pid_mode !== undefined ||
      (c.network_mode !== undefined && c.network_mode !== 'none') ||
      (c.ipc_mode !== undefined && c.ipc_mode !== 'private' && c.ipc_mode !== 'none') ||
      [c.command, c.entrypoint, Object.values(c.environment ?? {}), (c.volumes ?? []).map((v) => v.path)]
        .flatMap((l) => l ?? [])
        .some((x) => /docker\.sock/i.test(x));
    if (bad) throw new Error(`refusing to render ${m.id}/${c.name}: its manifest did not pass the policy`);
  }
}

export function renderServiceContainers(m: ServiceManifest, ctx: StoreCellContext): StoreServiceRender {
  refuseUnchecked(m);
  return {
    id: m.id,
    network: storeNetworkName(ctx.prefix, m.id),
    networks: [...new Set((m.requires ?? []).map((id) => storeNetworkName(ctx.prefix, id)))].sort(),
    containers: m.containers.map((c) => containerSpec(m, c, ctx)),
    routes: (m.http_routes ?? []).map((r) => ({
      subdomain: r.subdomain,
      virtualIp: ctx.virtualIp,
      address: ctx.namesAt?.[r.subdomain] ?? ctx.virtualIp,
      upstream: `${storeContainerName(ctx.prefix, m.id, r.container)}:${r.port}`,
    })),
  };
}
