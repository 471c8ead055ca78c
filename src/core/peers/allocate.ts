// Address allocation in the VPN range: the lowest free host address, never the network, broadcast or
// the server's own address, never one still in use (a live peer, or a deleted one whose removal has
// not reached the data plane yet: its tunnel may still be up).
import { cidrRange, formatIpv4, parseIpv4 } from '../../schema/fields.ts';

export function allocateAddress(vpnAddress: string, inUse: Iterable<string>): string | undefined {
  const { first, last } = cidrRange(vpnAddress);
  const taken = new Set<number>([parseIpv4(vpnAddress.split('/')[0]!)]);
  for (const a of inUse) taken.add(parseIpv4(a));
  for (let n = first + 1; n < last; n++) if (!taken.has(n)) return formatIpv4(n);
  return undefined;
}

/** How many peer addresses the range holds (hosts minus the server). */
export function rangeCapacity(vpnAddress: string): number {
  const { first, last } = cidrRange(vpnAddress);
  return last - first - 2;
}
