// What the cell's zone holds, derived from the configuration, the active peers, the services and the
// owner's records (reads only; the renderer and the delta take it from here):
//   @            → Caddy's address on the cell network: what a peer reaches through its tunnel (both
//                  split and full tunnels route the cell network; the server's VPN address only
//                  forwards DNS and NTP)
//   <service>    → the service's address: the core services', and each installed store service's
//                  route names and `dns_names` at its virtual IP (storeServiceNames; ADR 0023); a
//                  route on a required service's name is that service's record, resolved by the
//                  peers granted either service
//   <peer>       → the peer's VPN address
//   the owner's records, relative to the zone
// and one view per client address of the VPN range that denies the services its peer is not granted.
import type { CellZoneInput, ZoneRecord, ZoneView } from '../../render/unbound/cell-zone.ts';
import { vpnNetwork } from '../../schema/config.ts';
import { cidrRange, formatIpv4, parseIpv4 } from '../../schema/fields.ts';
import { PEER_SERVICES, serviceAddress } from '../../schema/peers-services.ts';
import { type StoreRouteFact, type StoreServiceFact, storeSites } from '../../schema/store-sites.ts';
import { vpnAddressOnCell, vpnMapProblem } from '../../schema/vpn-sources.ts';
import type { Warning } from '../../schema/warnings.ts';
import type { DnsRecordRow } from '../ports/dns-records-repository.ts';

/** A name in the zone that belongs to a service: peers not granted `service` get NXDOMAIN for it. */
export interface ServiceName {
  name: string;
  service: string;
  address: string;
}

export interface ZonePeer {
  name: string;
  address: string;
  services: readonly string[];
  /** The blocklists apply to its queries (default true; ADR 0020). */
  blocklists?: boolean;
}

/** TTL of the names the cell makes itself: short, so a peer's new address is seen soon. */
export const GENERATED_TTL = 300;
/**
 * Views for every address of a VPN range up to this many hosts (a /22), so a new peer's view is
 * already loaded and its grants apply live; a larger range gets views for its peers only, and a new
 * peer there costs one reload (access-control-view cannot be added at run time).
 */
export const VIEW_RANGE_MAX = 1022;

/** The core services' names: the web front door (Caddy), DNS and NTP, at their cell-network addresses. */
export function coreServiceNames(cellNetwork: string): ServiceName[] {
  const names: Record<string, string> = { web: 'web', dns: 'dns', ntp: 'ntp' };
  return PEER_SERVICES.map((s) => ({
    name: names[s.id] ?? s.id,
    service: s.id,
    address: serviceAddress(cellNetwork, s.offset),
  }));
}

/**
 * The installed store services' names: each service's `dns_names` at its virtual IP, then each
 * route's label where it is answered (its service's virtual IP, or a required service's for a name
 * that one holds: the same name and address, listed once more for the route's service). A peer
 * granted none of a name's services gets NXDOMAIN for it, as for a denied core service (ADR 0017).
 */
export function storeServiceNames(
  routes: readonly StoreRouteFact[],
  zone: string,
  cellNetwork: string,
  services: readonly StoreServiceFact[] = [],
): ServiceName[] {
  const core = new Set(coreServiceNames(cellNetwork).map((s) => s.name));
  const own = [...services]
    .sort((a, b) => a.serviceId.localeCompare(b.serviceId))
    .flatMap((s) => s.names.map((name) => ({ name, service: s.serviceId, address: s.virtualIp })));
  const routed = storeSites(routes, zone, cellNetwork).flatMap((site) =>
    site.hosts.map((h) => ({ name: h.label, service: site.id, address: h.address })),
  );
  return [...own, ...routed].filter((n) => !core.has(n.name));
}

/**
 * `autoconfig` at Caddy's address while a service answering mail autoconfig (email) is installed:
 * mail apps ask https://autoconfig.<domain>/mail/config-v1.1.xml, which the front door passes to
 * cell-api. It is the front door's name, so it follows the `web` grant like `web` itself.
 */
export function mailAutoconfigNames(emailInstalled: boolean, cellNetwork: string): ServiceName[] {
  if (!emailInstalled) return [];
  const web = coreServiceNames(cellNetwork).find((s) => s.service === 'web')!;
  return [{ name: 'autoconfig', service: 'web', address: web.address }];
}

export interface ZoneModelInput {
  zone: string;
  vpnAddress: string;
  cellNetwork: string;
  peers: readonly ZonePeer[];
  services: readonly ServiceName[];
  records: readonly DnsRecordRow[];
  /**
   * Records installed store services need (their `dns_records` hook: MX, SPF, DKIM...), served in
   * every view: at `@`, at `_` names, or at one of the service's own names.
   */
  serviceRecords?: readonly ServiceZoneRecord[];
}

export interface ServiceZoneRecord {
  service: string;
  name: string;
  type: 'MX' | 'TXT' | 'SRV';
  value: string;
  ttl: number;
}

export function cellZoneModel(i: ZoneModelInput): { zone: CellZoneInput; warnings: Warning[] } {
  const warnings: Warning[] = [];
  const caddy = serviceAddress(i.cellNetwork, PEER_SERVICES.find((s) => s.id === 'web')!.offset);
  const records: ZoneRecord[] = [{ name: '@', type: 'A', value: caddy, ttl: GENERATED_TTL }];
  const taken = new Set<string>(['@']);
  for (const s of i.services) {
    if (taken.has(s.name)) continue;
    taken.add(s.name);
    records.push({ name: s.name, type: 'A', value: s.address, ttl: GENERATED_TTL });
  }
  for (const p of i.peers) {
    if (taken.has(p.name)) {
      warnings.push({
        path: `peers.${p.name}`,
        message: 'a service has this name: the peer gets no DNS name',
      });
      continue;
    }
    taken.add(p.name);
    records.push({ name: p.name, type: 'A', value: p.address, ttl: GENERATED_TTL });
  }
  for (const r of i.records) {
    // The apex may carry the owner's TXT, MX and SRV; every other cell name is the cell's alone.
    const clash = r.name === '@' ? ['A', 'AAAA', 'CNAME'].includes(r.type) : taken.has(r.name);
    if (clash) {
      warnings.push({
        path: `records.${r.id}`,
        message: `${r.name} is a name of the cell: record not served`,
      });
      continue;
    }
    records.push({ name: r.name, type: r.type, value: r.value, ttl: r.ttl });
  }
  // A name may be held by two services (a route on a dependency's name): either's own.
  const owners = new Map<string, Set<string>>();
  for (const s of i.services) owners.set(s.name, (owners.get(s.name) ?? new Set()).add(s.service));
  const cnames = new Set(i.records.filter((r) => r.type === 'CNAME').map((r) => r.name));
  for (const r of i.serviceRecords ?? []) {
    // A name of the cell is the service's own only when it is one of the service's names.
    const clash =
      cnames.has(r.name) || (r.name !== '@' && taken.has(r.name) && !owners.get(r.name)?.has(r.service));
    if (clash) {
      warnings.push({
        path: `services.${r.service}.dns_records`,
        message: `${r.name} is a name of the cell or has a CNAME: the service's ${r.type} record is not served`,
      });
      continue;
    }
    records.push({ name: r.name, type: r.type, value: r.value, ttl: r.ttl });
  }
  return { zone: { zone: i.zone, records, views: zoneViews(i) }, warnings };
}

/**
 * A peer's queries reach Unbound from its VPN address mapped into the cell network (cell-wireguard's
 * NETMAP, ADR 0015): that is the address a view matches; its name keeps the VPN address.
 */
function zoneViews(i: ZoneModelInput): ZoneView[] {
  const vpnNet = vpnNetwork(i.vpnAddress);
  const mapped = !vpnMapProblem(i.cellNetwork, vpnNet);
  const blockOff = new Set(i.peers.filter((p) => p.blocklists === false).map((p) => p.address));
  const view = (address: string, deny: string[]): ZoneView => {
    const block = !blockOff.has(address);
    return mapped
      ? { address: vpnAddressOnCell(address, i.cellNetwork, vpnNet), label: address, deny, block }
      : { address, deny, block };
  };
  // A name is denied when the peer is granted none of the services listed for it (a route on a
  // required service's name is listed for both).
  const deny = (granted: readonly string[]) => {
    const allowed = new Set(i.services.filter((s) => granted.includes(s.service)).map((s) => s.name));
    return [...new Set(i.services.filter((s) => !allowed.has(s.name)).map((s) => s.name))].sort();
  };
  const byAddress = new Map(i.peers.map((p) => [p.address, deny(p.services)]));
  const { first, last } = cidrRange(i.vpnAddress);
  const server = parseIpv4(i.vpnAddress.split('/')[0]!);
  if (last - first - 1 <= VIEW_RANGE_MAX) {
    const views: ZoneView[] = [];
    for (let n = first + 1; n < last; n++) {
      if (n === server) continue;
      const address = formatIpv4(n);
      views.push(view(address, byAddress.get(address) ?? []));
    }
    return views;
  }
  return [...byAddress].map(([address, d]) => view(address, d));
}
