// The cell's desired runtime: one network and the core containers, with the files each daemon runs
// from, derived from the configuration and the optional `.env` file. Pure: no Docker, no disk here.

import { createHash } from 'node:crypto';
import { targetMountPath, targetPath } from '../../schema/backup-schedule.ts';
import type { CellConfig } from '../../schema/config.ts';
import { vpnNetwork } from '../../schema/config.ts';
import { cidrRange, formatIpv4 } from '../../schema/fields.ts';
import { FILES_OWNER, FILES_SERVICE_ID, FILES_VOLUME } from '../../schema/files.ts';
import { HOST_FACTS_VAR, type HostFacts } from '../../schema/host-facts.ts';
import {
  type BindSpec,
  CADDY_ADMIN_SOCKET,
  CADDY_GOGC,
  CADDY_TLS_DIR,
  CADDY_TLS_FILES,
  CADDY_UID,
  type CellEnv,
  type ContainerSpec,
  type CoreService,
  caddyShared,
  type DesiredState,
  hostFacts,
  IP_OFFSETS,
  IP_VARS,
} from '../../schema/runtime.ts';
import { serviceVolumeHostPath } from '../../schema/service-manifest.ts';
import { type StoreRouteFact, storeSites } from '../../schema/store-sites.ts';
import { vpnSourceBlock } from '../../schema/vpn-sources.ts';
import { renderCaddyConfig } from '../caddy/caddy-config.ts';
import { renderChronyConf } from '../chrony/chrony-conf.ts';
import { renderControlInterfaces } from '../unbound/control-interfaces.ts';
import { renderForwardZone } from '../unbound/forward-zone.ts';
import { API_NODE_FLAGS } from './api-node-flags.ts';
import { canonicalJson } from './canonical-json.ts';

export interface DesiredInput {
  config: CellConfig;
  env: CellEnv;
  cellDir: string;
  dockerGid: number;
  /**
   * What `pic up` read on the host (default-route address, name, own addresses): handed to cell-api,
   * which cannot see the host's interfaces from its bridge, to pick the endpoint peers dial.
   */
  host?: HostFacts | undefined;
  /**
   * Directory backup targets (ADR 0022), each mounted into cell-api at /backup-targets/<id> (never
   * at its host path) so its copies land on the host's disk. Only targets that passed the schema and
   * exist on the host: `pic up` checks (the caller filters); prepareBind refuses symlinks.
   */
  backupDirs?: ReadonlyArray<{ id: number; path: string }> | undefined;
  /**
   * The installed store services' HTTP routes (InstalledServicesPort.routes): each gets Caddy servers
   * of its own in caddy.json (ADR 0023). Caddy's file is live, so they never recreate cell-caddy;
   * cell-caddy joins the services' networks live too (core/service-store/caddy-networks.ts).
   */
  store?: readonly StoreRouteFact[] | undefined;
}

/** cell-api's uid: it owns the rendered config directories, as it rewrites them on config apply. */
const API_UID = 1000;

/** The binds of directory targets: allowed paths only, one per id, sorted by id. */
function backupBinds(dirs: ReadonlyArray<{ id: number; path: string }>): BindSpec[] {
  const byId = new Map<number, string>();
  for (const d of dirs)
    if (targetPath.safeParse(d.path).success && Number.isSafeInteger(d.id) && d.id > 0)
      byId.set(d.id, d.path);
  return [...byId.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, host]) => ({
      host,
      container: targetMountPath(id),
      readOnly: false,
      uid: API_UID,
      external: true,
    }));
}

export function cellIdFor(cellDir: string): string {
  return createHash('sha256').update(cellDir).digest('hex').slice(0, 12);
}

export function desiredState({
  config,
  env,
  cellDir,
  dockerGid,
  host,
  backupDirs = [],
  store = [],
}: DesiredInput): DesiredState {
  const { cellNetwork: subnet, wgPort } = hostFacts(config, env);
  const { first } = cidrRange(subnet);
  const ipOf = (s: CoreService) => env[IP_VARS[s]] ?? formatIpv4(first + IP_OFFSETS[s]);
  const prefix = env.PIC_NAME_PREFIX ?? '';
  const bind = env.BIND_ADDRESS ?? '0.0.0.0';
  const vpnNet = vpnNetwork(config.identity.vpn_address);
  const dir = (...p: string[]) => [cellDir, ...p].join('/');
  const name = (s: CoreService) => `${prefix}cell-${s}`;
  // A daemon reads its rendered files from config/<service>/ (read-only); cell-api writes them there
  // through the same directory mounted at the same path, so one file path works on both sides.
  const configDir = (service: string, container: string): BindSpec => ({
    host: dir('config', service),
    container,
    readOnly: true,
    uid: API_UID,
    mode: 0o755,
  });
  // Shared by cell-caddy and cell-api only (ADR 0018). The admin socket's directory belongs to Caddy
  // (it makes the socket, 0770 under its umask) and its group, which cell-api joins. The certificate
  // directory belongs to cell-api (it writes the files) and Caddy's group (read-only for Caddy); setgid,
  // so every file written there keeps that group.
  const shared = caddyShared(cellDir);
  const caddyAdminDir = shared.adminSocket.slice(0, shared.adminSocket.lastIndexOf('/'));
  const caddyTlsDir = shared.tlsDir;
  const adminBind = (container: string): BindSpec => ({
    host: caddyAdminDir,
    container,
    readOnly: false,
    uid: CADDY_UID,
    gid: CADDY_UID,
    mode: 0o2770,
  });
  const tlsBind = (container: string, readOnly: boolean): BindSpec => ({
    host: caddyTlsDir,
    container,
    readOnly,
    uid: API_UID,
    gid: CADDY_UID,
    mode: 0o2750,
  });
  const socketDir = CADDY_ADMIN_SOCKET.slice(0, CADDY_ADMIN_SOCKET.lastIndexOf('/'));
  // HTTPS for the domain and its subdomains in every mode: cell-api delivers the certificate (the cell
  // CA's in local mode, and in a public mode until its ACME certificate is there; ADR 0018, 0019).
  const https = {
    domain: config.identity.domain,
    certFile: `${CADDY_TLS_DIR}/${CADDY_TLS_FILES.cert}`,
    keyFile: `${CADDY_TLS_DIR}/${CADDY_TLS_FILES.key}`,
    publicPort: env.HTTPS_PORT ?? 443,
  };

  const base = {
    capAdd: [],
    devices: [],
    sysctls: {},
    groupAdd: [],
    files: [],
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
      env: {},
      ports: [
        { container: 53, proto: 'udp', hostIp: bind, hostPort: env.DNS_PORT ?? 53 },
        { container: 53, proto: 'tcp', hostIp: bind, hostPort: env.DNS_PORT ?? 53 },
      ],
      binds: [
        configDir('dns', '/etc/pic/unbound'),
        // Held the control keys of older images; unused since the channel has none (ADR 0017 amendment).
        { host: dir('data', 'dns-control'), container: '/var/lib/unbound/control', readOnly: false, uid: 0 },
      ],
      files: [
        {
          path: dir('config', 'dns', 'forward.conf'),
          content: renderForwardZone({
            forwarders: config.network.dns_forwarders,
            tlsForwarders: config.network.dns_tls_forwarders,
            dnssec: config.network.dnssec,
          }).output,
        },
        {
          // Loopback only: cell-api runs unbound-control inside cell-dns (docker exec, ADR 0017), so
          // the control port is never on the cell network and its keys never leave the container.
          path: dir('config', 'dns', 'control-interfaces.conf'),
          content: renderControlInterfaces({ addresses: ['127.0.0.1'] }).output,
        },
      ],
    },
    {
      ...base,
      service: 'ntp',
      name: name('ntp'),
      image: 'pic/cell-ntp:latest',
      ip: ipOf('ntp'),
      env: {},
      ports: [{ container: 123, proto: 'udp', hostIp: bind, hostPort: env.NTP_PORT ?? 123 }],
      binds: [configDir('ntp', '/etc/pic/chrony')],
      files: [
        {
          path: dir('config', 'ntp', 'chrony.conf'),
          content: renderChronyConf({
            servers: config.network.ntp_servers,
            allow: [...new Set([vpnNet, subnet])],
          }).output,
        },
      ],
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
        // Peers keep their own addresses on the cell network (NETMAP onto this block; ADR 0015).
        WG_CELL_NETWORK: subnet,
        WG_SOURCE_BLOCK: vpnSourceBlock(subnet, vpnNet),
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
      env: {
        PIC_DATA_PLANE: 'docker',
        PIC_CELL_DIR: cellDir,
        PIC_CELL_ENV: canonicalJson(env),
        ...(host ? { [HOST_FACTS_VAR]: canonicalJson(host) } : {}),
      },
      cmd: [
        'node',
        ...API_NODE_FLAGS,
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
      binds: [
        { host: dir('data', 'api'), container: '/data', readOnly: false, uid: API_UID },
        // The rendered configs it rewrites on config apply, at their host paths.
        ...['dns', 'ntp', 'caddy'].map((s) => ({ ...configDir(s, dir('config', s)), readOnly: false })),
        // Caddy's admin socket and the certificate it serves, at their host paths too.
        adminBind(caddyAdminDir),
        tlsBind(caddyTlsDir, false),
        // The Files service's volume, at its host path: the UI's file browser works on it (ADR 0010).
        // As the service's entrypoint leaves it: root's, the group of pic-files (uid and gid 1000,
        // cell-api's own), 0750; only the directory itself, the folders inside are the service's.
        {
          host: dir(serviceVolumeHostPath(FILES_SERVICE_ID, FILES_VOLUME)),
          container: dir(serviceVolumeHostPath(FILES_SERVICE_ID, FILES_VOLUME)),
          readOnly: false,
          uid: 0,
          gid: FILES_OWNER.gid,
          mode: 0o750,
          shallow: true,
        },
        // Directory backup targets, each at /backup-targets/<id> (sorted by id: the same set is the
        // same spec). The path is checked again here: only an allowed one is ever mounted.
        ...backupBinds(backupDirs),
      ],
      // Docker's socket, and Caddy's group: the admin socket and the certificate directory.
      groupAdd: [String(dockerGid), String(CADDY_UID)],
      mountDockerSocket: true,
    },
    {
      ...base,
      service: 'caddy',
      name: name('caddy'),
      noNewPrivileges: false,
      image: 'pic/cell-caddy:latest',
      ip: ipOf('caddy'),
      // The healthcheck asks the admin API on this socket; GOGC: see CADDY_GOGC.
      env: { CADDY_ADMIN_SOCKET, GOGC: String(CADDY_GOGC) },
      ports: [
        { container: 80, proto: 'tcp', hostIp: bind, hostPort: env.HTTP_PORT ?? 80 },
        ...(https
          ? [{ container: 443, proto: 'tcp' as const, hostIp: bind, hostPort: https.publicPort }]
          : []),
        { container: 8081, proto: 'tcp', hostIp: bind, hostPort: env.WEBUI_PORT ?? 8081 },
      ],
      binds: [
        configDir('caddy', '/etc/pic/caddy'),
        adminBind(socketDir),
        tlsBind(CADDY_TLS_DIR, true),
        { host: dir('data', 'caddy'), container: '/data', readOnly: false, uid: 970 },
        { host: dir('data', 'caddy-config'), container: '/config', readOnly: false, uid: 970 },
      ],
      files: [
        {
          path: dir('config', 'caddy', 'caddy.json'),
          content: renderCaddyConfig({
            adminSocket: CADDY_ADMIN_SOCKET,
            apiUpstream: `${ipOf('api')}:3000`,
            frontDoorAddress: ipOf('caddy'),
            ...(https ? { https } : {}),
            ...(store.length
              ? {
                  store: {
                    caddyAddress: ipOf('caddy'),
                    sites: storeSites(store, config.identity.domain, subnet),
                  },
                }
              : {}),
          }).output,
          live: true,
        },
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
