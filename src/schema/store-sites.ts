// The installed store services as the front door, the names and the per-peer firewall see them
// (ADR 0023): one "site" per service, at its virtual IP, with one host name per HTTP route.
//
// Nothing holds a virtual IP. A peer's packets to <virtual IP>:443 (or :80) are DNATed by
// cell-wireguard to Caddy's own address on a port of that service alone (the front ports below), and
// Caddy serves the service's names only there: a peer granted the front door (`web`) but not the
// service cannot reach it through Caddy's :443 with the service's name, and one granted the service
// reaches it only through its virtual IP (the firewall checks the original destination).
//
// Pure and in the innermost ring: the Caddy renderer, the firewall renderer and the zone model all
// derive from here, so a service's address, name and ports cannot disagree between them.
import { cidrRange, parseIpv4 } from './fields.ts';

/** Caddy's ports for a store service: base + the virtual IP's offset in the cell network (64..319). */
export const STORE_FRONT_PORT_BASE = { https: 20_000, http: 21_000 } as const;

/** One HTTP route of an installed service (structurally InstalledServiceRoute, core/ports). */
export interface StoreRouteFact {
  serviceId: string;
  /** The route's name: a label (`calendar`) or that label under the domain (`calendar.<domain>`). */
  subdomain: string;
  virtualIp: string;
  upstream: string;
}

export interface StoreSiteHost {
  /** Relative to the cell's zone: `calendar`. */
  label: string;
  /** `calendar.<domain>` */
  host: string;
  upstream: string;
}

export interface StoreSite {
  id: string;
  virtualIp: string;
  /** Where Caddy listens for this service alone (cell-wireguard DNATs :443 and :80 here). */
  ports: { https: number; http: number };
  hosts: StoreSiteHost[];
}

/** The route's label in the zone: `calendar` from `calendar` or `calendar.<domain>`. */
export function routeLabel(subdomain: string, domain: string): string {
  const suffix = `.${domain}`;
  return subdomain.endsWith(suffix) ? subdomain.slice(0, -suffix.length) : subdomain;
}

/** Caddy's two ports for the service at `virtualIp` (offset from the cell network's address). */
export function storeFrontPorts(cellNetwork: string, virtualIp: string): { https: number; http: number } {
  const offset = parseIpv4(virtualIp) - cidrRange(cellNetwork).first;
  return { https: STORE_FRONT_PORT_BASE.https + offset, http: STORE_FRONT_PORT_BASE.http + offset };
}

/**
 * The sites of the installed routes, sorted by service id and host. A service's routes share its
 * virtual IP (the first one seen wins if a caller gave two); a name taken by an earlier route is
 * skipped. Values are not validated here: each renderer checks what it writes.
 */
export function storeSites(
  routes: readonly StoreRouteFact[],
  domain: string,
  cellNetwork: string,
): StoreSite[] {
  const byId = new Map<string, StoreSite>();
  const names = new Set<string>();
  const sorted = [...routes].sort(
    (a, b) => a.serviceId.localeCompare(b.serviceId) || a.subdomain.localeCompare(b.subdomain),
  );
  for (const r of sorted) {
    const label = routeLabel(r.subdomain, domain);
    if (names.has(label)) continue;
    names.add(label);
    let site = byId.get(r.serviceId);
    if (!site) {
      site = {
        id: r.serviceId,
        virtualIp: r.virtualIp,
        ports: storeFrontPorts(cellNetwork, r.virtualIp),
        hosts: [],
      };
      byId.set(r.serviceId, site);
    }
    site.hosts.push({ label, host: `${label}.${domain}`, upstream: r.upstream });
  }
  return [...byId.values()];
}
