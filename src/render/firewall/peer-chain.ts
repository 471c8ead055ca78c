// One peer's firewall chain (PIC-PEER-<address>): the lines both the full iptables-restore document
// and the delta write, so the two can never disagree. The chain accepts the peer's granted services
// (virtual IP + port), sends peer-to-peer traffic to PIC-P2P when allowed, refuses the rest of the cell
// network and the VPN, then the internet unless granted.
//
// A store service (ADR 0023) is granted by its id: its virtual IP is DNATed to Caddy's front ports
// for that service (PIC-PREROUTING), so the chain accepts Caddy's address on those ports only when
// the packet's original destination was the service's virtual IP (conntrack --ctorigdst).
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

/** What the firewall needs of a store site: its id, its virtual IP and Caddy's ports for it. */
export interface StoreGrant {
  id: string;
  virtualIp: string;
  ports: { https: number; http: number };
}

export const storeGrant = z
  .object({ id: dnsLabel, virtualIp: ipv4, ports: z.object({ https: port, http: port }).strict() })
  .strict();

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
    for (const to of [s.ports.https, s.ports.http])
      out.push(
        `-A ${chain} -d ${caddy}/32 -p tcp --dport ${to} -m conntrack --ctorigdst ${s.virtualIp}/32 -j ACCEPT`,
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

/** cell-wireguard's DNAT of a store service's virtual IP to Caddy's front ports (nat PIC-PREROUTING). */
export function storeDnatRules(c: ChainContext): string[] {
  const caddy = caddyAddress(c.cellNetwork);
  return (c.store ?? []).flatMap((s) => [
    `-A PIC-PREROUTING -i ${c.iface} -d ${s.virtualIp}/32 -p tcp --dport 443 -j DNAT --to-destination ${caddy}:${s.ports.https}`,
    `-A PIC-PREROUTING -i ${c.iface} -d ${s.virtualIp}/32 -p tcp --dport 80 -j DNAT --to-destination ${caddy}:${s.ports.http}`,
  ]);
}
