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
  /**
   * The route's name: a label (`calendar`, what the store reports) or that label under the domain
   * being rendered (`calendar.<domain>`).
   */
  subdomain: string;
  /** The service's own virtual IP: Caddy's front ports for the service derive from it. */
  virtualIp: string;
  /**
   * Where the name resolves and cell-wireguard answers 80/443 (default `virtualIp`): a required
   * service's virtual IP when the route is on a name that one holds (webmail's `mail` on email's).
   */
  address?: string | undefined;
  upstream: string;
}

/**
 * An installed service with a virtual IP, beyond its routes (issue 13; structurally
 * InstalledServiceFacts, core/ports): its `dns_names`, A records at the virtual IP, and its
 * `host_ports`, answered at the virtual IP for peers granted it by DNAT to where Docker publishes them.
 */
export interface StoreServiceFact {
  serviceId: string;
  virtualIp: string;
  /** Labels in the cell's zone (`mail`). */
  names: readonly string[];
  hostPorts: ReadonlyArray<{ proto: 'tcp' | 'udp'; port: number }>;
  /**
   * Where the published ports are reached from cell-wireguard: BIND_ADDRESS, or the cell network's
   * gateway when the ports are published on every address (0.0.0.0).
   */
  hostAddress: string;
}

export interface StoreSiteHost {
  /** Relative to the cell's zone: `calendar`. */
  label: string;
  /** `calendar.<domain>` */
  host: string;
  upstream: string;
  /** The virtual IP the name resolves to: the site's own, or a required service's for its name. */
  address: string;
}

export interface StoreSite {
  id: string;
  virtualIp: string;
  /** Where Caddy listens for this service alone (cell-wireguard DNATs :443 and :80 here). */
  ports: { https: number; http: number };
  hosts: StoreSiteHost[];
  /** The virtual IPs whose 80/443 go to `ports`: its hosts' addresses, sorted. */
  addresses: string[];
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
        addresses: [],
      };
      byId.set(r.serviceId, site);
    }
    const address = r.address ?? r.virtualIp;
    site.hosts.push({ label, host: `${label}.${domain}`, upstream: r.upstream, address });
    if (!site.addresses.includes(address)) site.addresses.push(address);
  }
  for (const site of byId.values()) site.addresses.sort((a, b) => parseIpv4(a) - parseIpv4(b));
  return [...byId.values()];
}

/**
 * One installed service as the per-peer firewall grants it (structurally the firewall's StoreGrant):
 * Caddy's ports for its routes and the virtual IPs they are answered at (only when not its own alone),
 * and its host ports with where the host publishes them. A service with names only is grantable with
 * no rule (its names resolve for the peers granted it; nothing answers there).
 */
export interface StoreGrantFact {
  id: string;
  virtualIp: string;
  ports?: { https: number; http: number };
  addresses?: string[];
  hostPorts?: Array<{ proto: 'tcp' | 'udp'; port: number }>;
  hostAddress?: string;
}

export function storeGrants(
  routes: readonly StoreRouteFact[],
  services: readonly StoreServiceFact[],
  domain: string,
  cellNetwork: string,
): StoreGrantFact[] {
  const byId = new Map<string, StoreGrantFact>();
  for (const s of storeSites(routes, domain, cellNetwork)) {
    const own = s.addresses.length === 1 && s.addresses[0] === s.virtualIp;
    byId.set(s.id, {
      id: s.id,
      virtualIp: s.virtualIp,
      ports: s.ports,
      ...(own ? {} : { addresses: [...s.addresses] }),
    });
  }
  for (const f of services) {
    const g = byId.get(f.serviceId) ?? { id: f.serviceId, virtualIp: f.virtualIp };
    if (f.hostPorts.length > 0) {
      g.hostPorts = f.hostPorts.map((h) => ({ proto: h.proto, port: h.port }));
      g.hostAddress = f.hostAddress;
    }
    byId.set(f.serviceId, g);
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}
