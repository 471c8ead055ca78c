// One peer's firewall chain (PIC-PEER-<address>): the lines both the full iptables-restore document
// and the delta write, so the two can never disagree. The chain accepts the peer's granted services
// (virtual IP + port), sends peer-to-peer traffic to PIC-P2P when allowed, refuses the rest of the cell
// network and the VPN, then the internet unless granted.
//
// A store service (ADR 0023) is granted by its id: its virtual IP is DNATed to Caddy's front ports
// for that service (PIC-PREROUTING), so the chain accepts Caddy's address on those ports only when
// the packet's original destination was the service's virtual IP (conntrack --ctorigdst).
//
// Issue 13: a route on a required service's name (webmail's `mail`) is answered at that service's
// virtual IP (`addresses`), still on the route's service's front ports; and a service's host ports
// (mail's 25/587/993) are DNATed from its virtual IP to where Docker publishes them on the host
// (`hostAddress`: the cell network's gateway, or BIND_ADDRESS), accepted the same way: only for a peer
// granted the service, only when the original destination was its virtual IP.
import { z } from 'zod';
import { cidr4, dnsLabel, ifaceAddress4, ipv4, port } from '../../schema/fields.ts';
import { grantableServiceId, PEER_SERVICES, serviceAddress } from '../../schema/peers-services.ts';

export interface FirewallPeer {
  name: string;
  address: string;
  services: readonly string[];
  internet: boolean;
  peer_to_peer: boolean;
}

/** What every peer chain depends on besides the peer itself. */
export interface ChainContext {
  iface: string;
  /** Interface toward the cell network and the internet. */
  outIface: string;
  vpnAddress: string;
  cellNetwork: string;
  /** Installed store services a peer may be granted (storeSites); none: only the core services. */
  store?: readonly StoreGrant[] | undefined;
}

/**
 * What the firewall needs of an installed store service: its id, its virtual IP, Caddy's ports for
 * its routes and where they are answered, and its host ports with where the host publishes them.
 */
export interface StoreGrant {
  id: string;
  virtualIp: string;
  /** Caddy's ports for its routes; left out when it has none (names or host ports only). */
  ports?: { https: number; http: number } | undefined;
  /** The virtual IPs whose 80/443 go to `ports` (default: `virtualIp` alone). */
  addresses?: readonly string[] | undefined;
  /** Ports published on the host for it, answered at `virtualIp`. */
  hostPorts?: ReadonlyArray<{ proto: 'tcp' | 'udp'; port: number }> | undefined;
  /** Where cell-wireguard reaches them: the cell network's gateway, or BIND_ADDRESS. */
  hostAddress?: string | undefined;
}

export const storeGrant = z
  .object({
    id: dnsLabel,
    virtualIp: ipv4,
    ports: z.object({ https: port, http: port }).strict().optional(),
    addresses: z.array(ipv4).min(1).max(16).optional(),
    hostPorts: z
      .array(z.object({ proto: z.enum(['tcp', 'udp']), port }).strict())
      .max(16)
      .optional(),
    hostAddress: ipv4.optional(),
  })
  .strict()
  .refine((g) => !g.hostPorts?.length || g.hostAddress !== undefined, {
    message: 'host ports need the address the host publishes them on',
    path: ['hostAddress'],
  });

/** The virtual IPs whose 80/443 are this service's routes (none without routes). */
const routeAddresses = (s: StoreGrant): readonly string[] => (s.ports ? (s.addresses ?? [s.virtualIp]) : []);

export const ifaceName = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name');

export const firewallPeer = z.object({
  name: dnsLabel,
  address: ipv4,
  services: z.array(grantableServiceId),
  internet: z.boolean(),
  peer_to_peer: z.boolean(),
});

export const chainContext = z.object({
  iface: ifaceName,
  outIface: ifaceName,
  vpnAddress: ifaceAddress4,
  cellNetwork: cidr4,
  store: z.array(storeGrant).max(256).optional(),
});

export const PIC_CHAIN = /^PIC-/;
export const REJECT = '-j REJECT --reject-with icmp-admin-prohibited';
export const peerChain = (address: string) => `PIC-PEER-${address.replaceAll('.', '-')}`;

/** The rules of one validated peer's chain; vpnNet is the VPN range (vpnNetwork of vpnAddress). */
export function peerChainRules(p: FirewallPeer, c: ChainContext, vpnNet: string): string[] {
  const chain = peerChain(p.address);
  const out: string[] = [];
  for (const s of PEER_SERVICES) {
    if (!p.services.includes(s.id)) continue;
    const dest = serviceAddress(c.cellNetwork, s.offset);
    for (const port of s.ports)
      out.push(`-A ${chain} -d ${dest}/32 -p ${port.proto} --dport ${port.port} -j ACCEPT`);
  }
  const caddy = caddyAddress(c.cellNetwork);
  for (const s of c.store ?? []) {
    if (!p.services.includes(s.id)) continue;
    for (const at of routeAddresses(s))
      for (const to of [s.ports!.https, s.ports!.http])
        out.push(
          `-A ${chain} -d ${caddy}/32 -p tcp --dport ${to} -m conntrack --ctorigdst ${at}/32 -j ACCEPT`,
        );
    for (const h of s.hostPorts ?? [])
      out.push(
        `-A ${chain} -d ${s.hostAddress}/32 -p ${h.proto} --dport ${h.port} -m conntrack --ctorigdst ${s.virtualIp}/32 -j ACCEPT`,
      );
  }
  if (p.peer_to_peer) out.push(`-A ${chain} -o ${c.iface} -d ${vpnNet} -j PIC-P2P`);
  out.push(`-A ${chain} -d ${c.cellNetwork} ${REJECT}`, `-A ${chain} -d ${vpnNet} ${REJECT}`);
  if (p.internet) out.push(`-A ${chain} -o ${c.outIface} -j ACCEPT`);
  out.push(`-A ${chain} ${REJECT}`);
  return out;
}

/** Caddy's address on the cell network (the `web` service's). */
export const caddyAddress = (cellNetwork: string) =>
  serviceAddress(cellNetwork, PEER_SERVICES.find((s) => s.id === 'web')!.offset);

/**
 * cell-wireguard's DNAT of a store service's virtual IP (and of a required service's, for a route on
 * its name) to Caddy's front ports, and of its host ports to the host (nat PIC-PREROUTING).
 */
export function storeDnatRules(c: ChainContext): string[] {
  const caddy = caddyAddress(c.cellNetwork);
  return (c.store ?? []).flatMap((s) => [
    ...routeAddresses(s).flatMap((at) => [
      `-A PIC-PREROUTING -i ${c.iface} -d ${at}/32 -p tcp --dport 443 -j DNAT --to-destination ${caddy}:${s.ports!.https}`,
      `-A PIC-PREROUTING -i ${c.iface} -d ${at}/32 -p tcp --dport 80 -j DNAT --to-destination ${caddy}:${s.ports!.http}`,
    ]),
    ...(s.hostPorts ?? []).map(
      (h) =>
        `-A PIC-PREROUTING -i ${c.iface} -d ${s.virtualIp}/32 -p ${h.proto} --dport ${h.port} -j DNAT --to-destination ${s.hostAddress}:${h.port}`,
    ),
  ]);
}
