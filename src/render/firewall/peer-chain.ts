// One peer's firewall chain (PIC-PEER-<address>): the lines both the full iptables-restore document
// and the delta write, so the two can never disagree. The chain accepts the peer's granted services
// (virtual IP + port), sends peer-to-peer traffic to PIC-P2P when allowed, refuses the rest of the cell
// network and the VPN, then the internet unless granted.
import { z } from 'zod';
import { cidr4, dnsLabel, ifaceAddress4, ipv4 } from '../../schema/fields.ts';
import { PEER_SERVICES, peerServiceId, serviceAddress } from '../../schema/peers-services.ts';

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
}

export const ifaceName = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name');

export const firewallPeer = z.object({
  name: dnsLabel,
  address: ipv4,
  services: z.array(peerServiceId),
  internet: z.boolean(),
  peer_to_peer: z.boolean(),
});

export const chainContext = z.object({
  iface: ifaceName,
  outIface: ifaceName,
  vpnAddress: ifaceAddress4,
  cellNetwork: cidr4,
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
  if (p.peer_to_peer) out.push(`-A ${chain} -o ${c.iface} -d ${vpnNet} -j PIC-P2P`);
  out.push(`-A ${chain} -d ${c.cellNetwork} ${REJECT}`, `-A ${chain} -d ${vpnNet} ${REJECT}`);
  if (p.internet) out.push(`-A ${chain} -o ${c.outIface} -j ACCEPT`);
  out.push(`-A ${chain} ${REJECT}`);
  return out;
}
