// One [Peer] section of the server's wg(8) config: the lines the whole config and the `wg addconf`
// delta both write, so the two can never disagree.
import { z } from 'zod';
import { dnsLabel, ipv4 } from '../../schema/fields.ts';
import { wgKey } from '../../schema/peers.ts';
import { must } from '../common/guards.ts';

export interface ServerPeer {
  name: string;
  publicKey: string;
  presharedKey: string;
  /** The peer's VPN address (AllowedIPs = address/32). */
  address: string;
}

export const serverPeer = z.object({ name: dnsLabel, publicKey: wgKey, presharedKey: wgKey, address: ipv4 });

/** The section's lines (a comment naming the peer, then [Peer]); every value is validated first. */
export function peerSection(raw: ServerPeer): string[] {
  const p = must(serverPeer, raw, `peer ${JSON.stringify(raw.name)}`);
  return [
    `# ${p.name}`,
    '[Peer]',
    `PublicKey = ${p.publicKey}`,
    `PresharedKey = ${p.presharedKey}`,
    `AllowedIPs = ${p.address}/32`,
  ];
}
