// The cell's configuration: what GET /api/config returns and PUT /api/config changes. It never holds
// a secret (secrets live in their own tables or 0600 files), so it can be returned whole.
import { z } from 'zod';
import { dnsTlsForwarder } from './dns.ts';
import {
  cidrRange,
  cidrsOverlap,
  dnsLabel,
  domainName,
  formatIpv4,
  ifaceAddress4,
  ipv4,
  logLevel,
  port,
  privateCidr4,
  timezone,
  webUrl,
} from './fields.ts';
import { vpnMapProblem } from './vpn-sources.ts';

export const domainModes = ['local', 'pic_ngo', 'custom'] as const;
export const domainMode = z.enum(domainModes);
export type DomainMode = z.infer<typeof domainMode>;

export const LOG_SERVICES = [
  'api',
  'auth',
  'config',
  'docker',
  'monitor',
  'dns',
  'wireguard',
  'caddy',
  'ntp',
] as const;
export const logService = z.enum(LOG_SERVICES);
export type LogService = z.infer<typeof logService>;

export const identitySchema = z
  .object({
    cell_name: dnsLabel,
    domain_mode: domainMode,
    /** Effective domain: `<cell_name>.cell` (local), `<cell_name>.pic.ngo` (pic_ngo) or the owner's own. */
    domain: domainName,
    timezone,
    /** Docker bridge network of the cell (CELL_NETWORK); RFC 1918 only. */
    ip_range: privateCidr4,
    /** The cell's own address on the VPN, with the VPN prefix (VPN_ADDRESS). */
    vpn_address: ifaceAddress4,
    wg_port: port,
  })
  .strict();

export const networkSchema = z
  .object({
    /** Where Unbound forwards queries it is not authoritative for; empty = answer local zones only. */
    dns_forwarders: z.array(ipv4).max(8),
    /** DNS-over-TLS upstreams (port 853, certificate name checked); used instead of dns_forwarders. */
    dns_tls_forwarders: z.array(dnsTlsForwarder).max(8).optional(),
    /** DNSSEC validation of forwarded answers against the root trust anchor (default on). */
    dnssec: z.boolean().optional(),
    /** NTP upstreams for chrony; empty = serve the local clock. */
    ntp_servers: z.array(z.union([ipv4, domainName])).max(8),
    /** Public name or address peers dial (the Endpoint of exported peer configs); absent or '' = a guess from this host. */
    endpoint_host: z.union([ipv4, domainName, dnsLabel, z.literal('')]).optional(),
  })
  .strict();

/**
 * Where the store's remote index is fetched (docs/store/remote-index.md): https, or http only on
 * 127.0.0.1 / [::1]; no credentials, no fragment.
 */
export const storeIndexUrl = webUrl({ max: 2048, httpsExceptLoopback: true });

export const loggingSchema = z.object({ levels: z.record(logService, logLevel) }).strict();

export const cellConfigSchema = z
  .object({
    identity: identitySchema,
    network: networkSchema,
    logging: loggingSchema,
    image_verification: z.enum(['enforce', 'warn', 'off']),
    /** The store's remote index; absent = the built-in catalog only. */
    store_index_url: storeIndexUrl.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    // Outside custom mode the domain is derived, so a stored name always matches what DNS and Caddy serve.
    const derived = defaultDomain(cfg.identity.domain_mode, cfg.identity.cell_name);
    if (derived !== undefined && cfg.identity.domain !== derived) {
      ctx.addIssue({
        code: 'custom',
        path: ['identity', 'domain'],
        message: `must be ${derived} in ${cfg.identity.domain_mode} mode; set domain_mode to custom for your own domain`,
      });
    }
    if (cfg.network.dns_forwarders.length > 0 && (cfg.network.dns_tls_forwarders ?? []).length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['network', 'dns_tls_forwarders'],
        message:
          'use either plain dns_forwarders or dns_tls_forwarders, not both (Unbound sends one zone one way)',
      });
    }
    const vpnNet = vpnNetwork(cfg.identity.vpn_address);
    if (cidrsOverlap(vpnNet, cfg.identity.ip_range)) {
      ctx.addIssue({
        code: 'custom',
        path: ['identity', 'vpn_address'],
        message: `VPN range ${vpnNet} overlaps the cell network ${cfg.identity.ip_range}`,
      });
    } else {
      const problem = vpnMapProblem(cfg.identity.ip_range, vpnNet);
      if (problem) ctx.addIssue({ code: 'custom', path: ['identity', 'vpn_address'], message: problem });
    }
  });

export type CellConfig = z.infer<typeof cellConfigSchema>;

/** PUT /api/config takes any subset of the sections, each with any subset of its fields. */
export const configPatchSchema = z
  .object({
    identity: identitySchema.partial().strict().optional(),
    network: networkSchema.partial().strict().optional(),
    logging: z
      // partialRecord: a patch names only the services it changes (z.record with enum keys wants all).
      .object({ levels: z.partialRecord(logService, logLevel).optional() })
      .strict()
      .optional(),
    image_verification: z.enum(['enforce', 'warn', 'off']).optional(),
    /** null removes it. */
    store_index_url: storeIndexUrl.nullable().optional(),
  })
  .strict();
export type ConfigPatch = z.infer<typeof configPatchSchema>;

export function vpnNetwork(vpnAddress: string): string {
  const { first, prefix } = cidrRange(vpnAddress);
  return `${formatIpv4(first)}/${prefix}`;
}

export function defaultDomain(mode: DomainMode, cellName: string): string | undefined {
  if (mode === 'local') return `${cellName}.cell`;
  if (mode === 'pic_ngo') return `${cellName}.pic.ngo`;
  return undefined;
}

export function defaultConfig(): CellConfig {
  return {
    identity: {
      cell_name: 'mycell',
      domain_mode: 'local',
      domain: 'mycell.cell',
      timezone: 'UTC',
      ip_range: '172.20.0.0/16',
      vpn_address: '10.0.0.1/24',
      wg_port: 51820,
    },
    network: { dns_forwarders: [], ntp_servers: [] },
    logging: {
      levels: Object.fromEntries(LOG_SERVICES.map((s) => [s, 'info'])) as CellConfig['logging']['levels'],
    },
    image_verification: 'enforce',
  };
}

/** Fields whose change needs containers recreated; the rest apply live. */
export const RESTART_FIELDS: Record<string, string[]> = {
  'identity.ip_range': ['cell-caddy', 'cell-dns', 'cell-ntp', 'cell-wireguard', 'cell-api'],
  'identity.vpn_address': ['cell-wireguard', 'cell-dns', 'cell-ntp'],
  'identity.wg_port': ['cell-wireguard'],
  'identity.domain': ['cell-caddy', 'cell-dns'],
  'identity.domain_mode': ['cell-caddy', 'cell-dns'],
  'identity.cell_name': ['cell-caddy', 'cell-dns'],
  'identity.timezone': ['cell-ntp'],
  'network.dns_forwarders': ['cell-dns'],
  'network.dns_tls_forwarders': ['cell-dns'],
  'network.dnssec': ['cell-dns'],
  'network.ntp_servers': ['cell-ntp'],
};
