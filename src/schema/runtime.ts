// The shapes of the cell's runtime: the `.env` file (the original's variables), the address table
// and the container specs. desiredState, which fills them from the configuration, is in render/runtime.
import { z } from 'zod';
import type { CellConfig } from './config.ts';
import { ipv4, port, privateCidr4 } from './fields.ts';

/** Address of each core container inside CELL_NETWORK: network base + offset. One table, used everywhere. */
export const IP_OFFSETS = { caddy: 2, dns: 3, ntp: 4, wireguard: 5, api: 10 } as const;
export type CoreService = keyof typeof IP_OFFSETS;
/**
 * Caddy's admin API listens on a unix socket in a directory only cell-caddy and cell-api mount (no
 * TCP listener at all: no other container on the cell network can reach it). Inside cell-caddy it is
 * here; cell-api and `pic up` reach it at the host path data/caddy-admin/admin.sock.
 */
export const CADDY_ADMIN_SOCKET = '/run/pic/caddy-admin/admin.sock';
/** The one Host the admin API accepts (Caddy checks Host against `origins`, also on a socket). */
export const CADDY_ADMIN_HOST = 'caddy-admin.pic';
/** Caddy's uid and gid in cell-caddy; cell-api joins the group to read/write the shared directories. */
export const CADDY_UID = 970;
/**
 * Go's GC target for cell-caddy (GOGC, percent of the live heap allocated between collections; Go's
 * default is 100). Caddy's live heap is a few MiB, so at 100 it collects dozens of times a second
 * under load, and every collection empties its sync.Pools (TLS and bufio buffers), which are then
 * allocated again: the HTTPS benchmark measured a third of the front door's CPU per request there
 * (docs/performance.md, "Caddy's garbage collector"). 400 trades a few MiB of peak heap for it.
 */
export const CADDY_GOGC = 400;
/** Where cell-caddy reads the certificate cell-api delivers (read-only mount of data/caddy-tls). */
export const CADDY_TLS_DIR = '/etc/pic/caddy-tls';
/** The files in it: the chain (leaf, intermediate, root) and the leaf's key. */
export const CADDY_TLS_FILES = { cert: 'cert.pem', key: 'key.pem' } as const;
/** Host paths of the two directories cell-caddy shares with cell-api, under the cell directory. */
export const caddyShared = (cellDir: string) => ({
  adminSocket: `${cellDir.replace(/\/$/, '')}/data/caddy-admin/admin.sock`,
  tlsDir: `${cellDir.replace(/\/$/, '')}/data/caddy-tls`,
});
/** Start order: each service after the ones it needs. */
export const START_ORDER: readonly CoreService[] = ['dns', 'ntp', 'wireguard', 'api', 'caddy'];
/** The `.env` variable that overrides each core container's address. */
export const IP_VARS: Record<CoreService, 'CADDY_IP' | 'DNS_IP' | 'NTP_IP' | 'WG_IP' | 'API_IP'> = {
  caddy: 'CADDY_IP',
  dns: 'DNS_IP',
  ntp: 'NTP_IP',
  wireguard: 'WG_IP',
  api: 'API_IP',
};

const hostPort = z.coerce.number().pipe(port);
/** `.env`: every key optional; unknown keys and bad values are errors naming the key. */
export const envSchema = z
  .object({
    CELL_NETWORK: privateCidr4.optional(),
    CADDY_IP: ipv4.optional(),
    DNS_IP: ipv4.optional(),
    NTP_IP: ipv4.optional(),
    WG_IP: ipv4.optional(),
    API_IP: ipv4.optional(),
    DNS_PORT: hostPort.optional(),
    NTP_PORT: hostPort.optional(),
    WG_PORT: hostPort.optional(),
    API_PORT: hostPort.optional(),
    WEBUI_PORT: hostPort.optional(),
    HTTP_PORT: hostPort.optional(),
    HTTPS_PORT: hostPort.optional(),
    /** Host address the public ports bind to (default all). */
    BIND_ADDRESS: ipv4.optional(),
    /** Prefix for container and network names: lets a test cell run beside a real one. */
    PIC_NAME_PREFIX: z
      .string()
      .regex(/^[a-z0-9-]{0,20}$/)
      .optional(),
  })
  .strict();
export type CellEnv = z.infer<typeof envSchema>;

export class EnvFileError extends Error {}

/** Parses KEY=VALUE lines (comments and blank lines allowed; no expansion, no quotes needed). */
export function parseEnvFile(text: string): CellEnv {
  const raw: Record<string, string> = {};
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(t);
    if (!m) throw new EnvFileError(`.env line ${i + 1}: expected KEY=VALUE`);
    raw[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  });
  const r = envSchema.safeParse(raw);
  if (!r.success) {
    const msgs = r.error.issues.map((is) =>
      is.code === 'unrecognized_keys'
        ? `${is.keys.join(', ')}: not a known variable`
        : `${is.path.join('.')}: ${is.message}`,
    );
    throw new EnvFileError(`.env: ${msgs.join('; ')}`);
  }
  return r.data;
}

export interface PortSpec {
  container: number;
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

export interface BindSpec {
  host: string;
  container: string;
  readOnly: boolean;
  /** Owner the host directory must have (the daemon's uid inside the image). */
  uid: number;
  /** Its group (default: the uid): a directory two containers share names the group both hold. */
  gid?: number;
  /** Mode of the host directory (default 0700); rendered configs hold no secret and are 0755. */
  mode?: number;
  /**
   * The owner's directory (a backup target, ADR 0022): never created (a missing one is left out, or
   * Docker would make it on the root file system) and only the directory itself is given to uid.
   */
  external?: boolean;
  /**
   * A store service's volume: only the directory itself is given to uid, never what is inside (the
   * service owns its files by its own rules, e.g. www-data folders below a root one).
   */
  shallow?: boolean;
}

/** A file rendered for a container, written into the cell's config/ before the container starts. */
export interface RenderedFile {
  /** Absolute host path, inside one of the container's bind-mounted config directories. */
  path: string;
  content: string;
  /**
   * Loaded into the running daemon through its own API (Caddy's POST /load) instead of recreating
   * the container, so the spec hash leaves its content out.
   */
  live?: boolean;
}

/**
 * A store service's container as the runtime keys it: `<service id>_<container name>`. Both parts are
 * slugs (no `_`), so the key is unambiguous, and no core service name has a `_`.
 */
export type StoreContainerKey = `${string}_${string}`;
export const storeContainerKey = (id: string, container: string): StoreContainerKey => `${id}_${container}`;

/** A container's health check, run by the engine in the container (exec form, no shell). */
export interface HealthcheckSpec {
  test: string[];
  intervalS: number;
  timeoutS: number;
  retries: number;
}

export interface ContainerSpec {
  /** A core service, or a store service's container (render/store/service-containers.ts). */
  service: CoreService | StoreContainerKey;
  name: string;
  image: string;
  /**
   * Static address on the network it joins. Core containers always have one; a store container
   * leaves it out and takes whatever its own network gives it (Caddy reaches it by name).
   */
  ip?: string;
  env: Record<string, string>;
  cmd?: string[];
  /** Replaces the image's ENTRYPOINT (store manifests may). */
  entrypoint?: string[];
  ports: PortSpec[];
  binds: BindSpec[];
  files: RenderedFile[];
  capAdd: string[];
  devices: string[];
  sysctls: Record<string, string>;
  groupAdd: string[];
  mountDockerSocket: boolean;
  /**
   * no-new-privileges for everything except Caddy: it runs as a plain user whose binary carries the
   * file capability to bind ports 80/443, and no-new-privileges would discard that capability.
   */
  noNewPrivileges: boolean;
  // Store services only (left out, the engine's defaults apply, as for every core container).
  /** Hard memory limit in MiB, swap included. */
  memoryMb?: number;
  /** A read-only root file system (its binds stay as they are). */
  readOnly?: boolean;
  /** `user[:group]` the main process runs as. */
  user?: string;
  /** Capabilities dropped before capAdd applies: a store container drops ALL, then adds its own. */
  capDrop?: 'ALL'[];
  healthcheck?: HealthcheckSpec;
  /** `none`: no network at all (a manifest's network_mode). */
  networkMode?: 'none';
  /** A manifest's ipc_mode (the policy allows private and none). */
  ipcMode?: 'private' | 'none';
  /** Labels beyond the runtime's own (LABELS), e.g. the store id; the runtime's own always win. */
  labels?: Record<string, string>;
}

export interface DesiredState {
  cellId: string;
  network: { name: string; subnet: string; gateway: string };
  containers: ContainerSpec[];
}

export const LABELS = {
  managed: 'org.pic.managed',
  cell: 'org.pic.cell',
  service: 'org.pic.service',
  specHash: 'org.pic.spec-hash',
  /** On a store service's containers: the service's id, its container name and its version. */
  storeId: 'org.pic.store.id',
  storeContainer: 'org.pic.store.container',
  storeVersion: 'org.pic.store.version',
} as const;

/** The cell network the containers sit on and the host port WireGuard is published on (.env wins). */
export function hostFacts(config: CellConfig, env: CellEnv): { cellNetwork: string; wgPort: number } {
  return {
    cellNetwork: env.CELL_NETWORK ?? config.identity.ip_range,
    wgPort: env.WG_PORT ?? config.identity.wg_port,
  };
}
