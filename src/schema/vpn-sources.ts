// How a VPN peer's address stays visible to the cell's containers.
//
// cell-wireguard forwards a peer's packets into the cell network. Masquerading them would make every
// peer look like cell-wireguard to Caddy, the API (login budgets, audit rows) and Unbound (per-peer
// views). Routing the VPN range back through cell-wireguard would need a route in every container (or
// on the host, where a lost route sends replies out of the default gateway). Instead cell-wireguard maps
// the VPN range 1:1 (iptables NETMAP) onto the last block of the cell network with the VPN's prefix and
// answers ARP for that block: replies stay on the bridge, and each peer keeps one address of its own.
// Containers take their addresses from the bottom of the network, so the top block is never theirs.
// Record of the design: docs/adr/0015-vpn-sources-on-the-cell-network.md.
import { cidrRange, formatIpv4, parseIpv4 } from './fields.ts';
import { inIpv4Network } from './in-network.ts';

/** The VPN range may use at most this share of the cell network (as a prefix difference: 2 = a quarter). */
export const MIN_PREFIX_GAP = 2;

/** Why a VPN range cannot be mapped into a cell network, or undefined when it can. */
export function vpnMapProblem(cellNetwork: string, vpnNet: string): string | undefined {
  const cell = cidrRange(cellNetwork);
  const vpn = cidrRange(vpnNet);
  if (vpn.prefix - cell.prefix < MIN_PREFIX_GAP)
    return `the VPN range /${vpn.prefix} must be at most a quarter of the cell network /${cell.prefix} (its peers appear on the cell network's last /${vpn.prefix})`;
  return undefined;
}

/** The block of the cell network that VPN sources appear from: its last block of the VPN's size. */
export function vpnSourceBlock(cellNetwork: string, vpnNet: string): string {
  const problem = vpnMapProblem(cellNetwork, vpnNet);
  if (problem) throw new Error(problem);
  const cell = cidrRange(cellNetwork);
  const vpn = cidrRange(vpnNet);
  const size = vpn.last - vpn.first + 1;
  return `${formatIpv4(cell.last - size + 1)}/${vpn.prefix}`;
}

/** A VPN address as the cell's containers see it (inside the source block). */
export function vpnAddressOnCell(vpnAddress: string, cellNetwork: string, vpnNet: string): string {
  const block = cidrRange(vpnSourceBlock(cellNetwork, vpnNet));
  return formatIpv4(block.first + (parseIpv4(vpnAddress) - cidrRange(vpnNet).first));
}

/** The peer's VPN address behind a source seen on the cell network, or undefined when it is not one. */
export function vpnAddressOfSource(source: string, cellNetwork: string, vpnNet: string): string | undefined {
  if (vpnMapProblem(cellNetwork, vpnNet)) return undefined;
  const blockCidr = vpnSourceBlock(cellNetwork, vpnNet);
  if (!inIpv4Network(source, blockCidr)) return undefined;
  const offset = parseIpv4(source.replace(/^::ffff:/i, '')) - cidrRange(blockCidr).first;
  return formatIpv4(cidrRange(vpnNet).first + offset);
}
