// The cell's desired runtime: one network and the core containers, derived from the configuration
// and the optional `.env` file (the original's variables). Pure: no Docker here.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CellConfig } from './config.ts';
import { vpnNetwork } from './config.ts';
import { cidrRange, formatIpv4, ipv4, port, privateCidr4 } from './fields.ts';

/** Address of each core container inside CELL_NETWORK: network base + offset. One table, used everywhere. */
export const IP_OFFSETS = { caddy: 2, dns: 3, ntp: 4, wireguard: 5, api: 10 } as const;
export type CoreService = keyof typeof IP_OFFSETS;
/** Start order: each service after the ones it needs. */
export const START_ORDER: readonly CoreService[] = ['dns', 'ntp', 'wireguard', 'api', 'caddy'];
const IP_VARS: Record<CoreService, string> = {
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
}

export interface ContainerSpec {
  service: CoreService;
  name: string;
  image: string;
  ip: string;
  env: Record<string, string>;
  cmd?: string[];
  ports: PortSpec[];
  binds: BindSpec[];
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
} as const;

export function cellIdFor(cellDir: string): string {
  return createHash('sha256').update(cellDir).digest('hex').slice(0, 12);
}

export interface DesiredInput {
  config: CellConfig;
  env: CellEnv;
  cellDir: string;
  dockerGid: number;
}

/** The cell network the containers sit on and the host port WireGuard is published on (.env wins). */
export function hostFacts(config: CellConfig, env: CellEnv): { cellNetwork: string; wgPort: number } {
  return {
    cellNetwork: env.CELL_NETWORK ?? config.identity.ip_range,
    wgPort: env.WG_PORT ?? config.identity.wg_port,
  };
}

export function desiredState({ config, env, cellDir, dockerGid }: DesiredInput): DesiredState {
  const { cellNetwork: subnet, wgPort } = hostFacts(config, env);
  const { first } = cidrRange(subnet);
  const ipOf = (s: CoreService) => env[IP_VARS[s] as 'CADDY_IP'] ?? formatIpv4(first + IP_OFFSETS[s]);
  const prefix = env.PIC_NAME_PREFIX ?? '';
  const bind = env.BIND_ADDRESS ?? '0.0.0.0';
  const vpnNet = vpnNetwork(config.identity.vpn_address);
  const dir = (...p: string[]) => [cellDir, ...p].join('/');
  const name = (s: CoreService) => `${prefix}cell-${s}`;

  const base = {
    capAdd: [],
    devices: [],
    sysctls: {},
    groupAdd: [],
    mountDockerSocket: false,
    noNewPrivileges: true,
  };
  const containers: ContainerSpec[] = [
    {
      ...base,
      service: 'dns',
      name: name('dns'),
      image: 'pic/cell-dns:latest',
      ip: ipOf('dns'),
      env: { DNS_FORWARDERS: config.network.dns_forwarders.join(' ') },
      ports: [
        { container: 53, proto: 'udp', hostIp: bind, hostPort: env.DNS_PORT ?? 53 },
        { container: 53, proto: 'tcp', hostIp: bind, hostPort: env.DNS_PORT ?? 53 },
      ],
      binds: [
        { host: dir('config', 'dns'), container: '/etc/pic/unbound', readOnly: true, uid: 0 },
        { host: dir('data', 'dns-control'), container: '/var/lib/unbound/control', readOnly: false, uid: 0 },
      ],
    },
    {
      ...base,
      service: 'ntp',
      name: name('ntp'),
      image: 'pic/cell-ntp:latest',
      ip: ipOf('ntp'),
      env: {
        NTP_UPSTREAMS: config.network.ntp_servers.join(' '),
        NTP_ALLOW: [...new Set([vpnNet, subnet])].join(' '),
      },
      ports: [{ container: 123, proto: 'udp', hostIp: bind, hostPort: env.NTP_PORT ?? 123 }],
      binds: [],
    },
    {
      ...base,
      service: 'wireguard',
      name: name('wireguard'),
      image: 'pic/cell-wireguard:latest',
      ip: ipOf('wireguard'),
      // WG_NETWORK: the entrypoint is handed the VPN range rendered here, it does not compute it.
      env: {
        WG_ADDRESS: config.identity.vpn_address,
        WG_NETWORK: vpnNet,
        WG_PORT: String(config.identity.wg_port),
      },
      ports: [{ container: config.identity.wg_port, proto: 'udp', hostIp: bind, hostPort: wgPort }],
      binds: [{ host: dir('config', 'wireguard'), container: '/etc/wireguard', readOnly: false, uid: 0 }],
      // What wireguard-go and iptables need, and nothing more: never privileged.
      capAdd: ['NET_ADMIN'],
      devices: ['/dev/net/tun'],
      sysctls: { 'net.ipv4.ip_forward': '1' },
    },
    {
      ...base,
      service: 'api',
      name: name('api'),
      image: 'pic/cell-api:latest',
      ip: ipOf('api'),
      // The API recreates containers itself (POST /api/config/apply), so it gets what desiredState needs.
      env: { PIC_DATA_PLANE: 'docker', PIC_CELL_DIR: cellDir, PIC_CELL_ENV: canonicalJson(env) },
      cmd: [
        'node',
        'src/cli/main.ts',
        'serve',
        '--data-dir',
        '/data',
        '--listen',
        '0.0.0.0:3000',
        '--trusted-proxy',
        ipOf('caddy'),
      ],
      // The API is reached only through Caddy; the host port is for the CLI and is loopback-only.
      ports: [{ container: 3000, proto: 'tcp', hostIp: '127.0.0.1', hostPort: env.API_PORT ?? 3000 }],
      binds: [{ host: dir('data', 'api'), container: '/data', readOnly: false, uid: 1000 }],
      groupAdd: [String(dockerGid)],
      mountDockerSocket: true,
    },
    {
      ...base,
      service: 'caddy',
      name: name('caddy'),
      noNewPrivileges: false,
      image: 'pic/cell-caddy:latest',
      ip: ipOf('caddy'),
      env: { API_UPSTREAM: `${ipOf('api')}:3000`, CADDY_ADMIN_LISTEN: `${ipOf('caddy')}:2019` },
      ports: [
        { container: 80, proto: 'tcp', hostIp: bind, hostPort: env.HTTP_PORT ?? 80 },
        { container: 8081, proto: 'tcp', hostIp: bind, hostPort: env.WEBUI_PORT ?? 8081 },
      ],
      binds: [
        { host: dir('data', 'caddy'), container: '/data', readOnly: false, uid: 970 },
        { host: dir('data', 'caddy-config'), container: '/config', readOnly: false, uid: 970 },
      ],
    },
  ];
  const gateway = formatIpv4(first + 1);
  return {
    cellId: cellIdFor(cellDir),
    network: { name: `${prefix}cell-network`, subnet, gateway },
    containers,
  };
}

/** JSON with object keys sorted at every depth, so equal specs always hash equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A stable hash of what a container should be: a change means it must be recreated. */
export function specHash(spec: ContainerSpec, imageId: string): string {
  return createHash('sha256').update(canonicalJson({ spec, imageId })).digest('hex').slice(0, 16);
}
