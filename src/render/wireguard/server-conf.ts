// The cell's WireGuard interface config in wg(8) format (not wg-quick: no Address/DNS/PostUp), so
// `wg syncconf wg0 <file>` and `wg-quick strip` both take it as is. ListenPort is the port the
// container was started with (WG_PORT, read by the driver): without it syncconf would pick a random
// port, and a port taken from a not yet applied config change would move it under the published port.
import { z } from 'zod';
import { dnsLabel, ipv4, port } from '../../schema/fields.ts';
import { wgKey } from '../../schema/peers.ts';
import { must } from './guards.ts';

export interface ServerPeer {
  name: string;
  publicKey: string;
  presharedKey: string;
  /** The peer's VPN address (AllowedIPs = address/32). */
  address: string;
}

export interface ServerConfInput {
  privateKey: string;
  listenPort?: number | undefined;
  /** Enabled, unexpired peers only: a peer left out has no tunnel. */
  peers: readonly ServerPeer[];
}

export interface Rendered {
  output: string;
  warnings: string[];
}

const serverPeer = z.object({ name: dnsLabel, publicKey: wgKey, presharedKey: wgKey, address: ipv4 });

export function renderServerConf(input: ServerConfInput): Rendered {
  const warnings: string[] = [];
  const lines = [
    '# Rendered by PIC from its database; edits are overwritten on the next change.',
    '[Interface]',
    `PrivateKey = ${must(wgKey, input.privateKey, 'server private key')}`,
  ];
  if (input.listenPort !== undefined)
    lines.push(`ListenPort = ${must(port, input.listenPort, 'listen port')}`);
  const { peers, skipped } = effectivePeers(input.peers);
  for (const name of skipped)
    warnings.push(`peer ${name} skipped: its key or address is already used by another peer`);
  for (const peer of peers)
    lines.push(
      '',
      `# ${peer.name}`,
      '[Peer]',
      `PublicKey = ${peer.publicKey}`,
      `PresharedKey = ${peer.presharedKey}`,
      `AllowedIPs = ${peer.address}/32`,
    );
  return { output: `${lines.join('\n')}\n`, warnings };
}

/**
 * The peers that get a [Peer] section, validated, in name order. Two sections with one key or one
 * address would make wg merge them or steal routes: the later one by name is skipped.
 */
export function effectivePeers(all: readonly ServerPeer[]): { peers: ServerPeer[]; skipped: string[] } {
  const seenKeys = new Set<string>();
  const seenAddrs = new Set<string>();
  const peers: ServerPeer[] = [];
  const skipped: string[] = [];
  for (const p of [...all].sort((a, b) => a.name.localeCompare(b.name))) {
    const peer = must(serverPeer, p, `peer ${JSON.stringify(p.name)}`);
    if (seenKeys.has(peer.publicKey) || seenAddrs.has(peer.address)) {
      skipped.push(peer.name);
      continue;
    }
    seenKeys.add(peer.publicKey);
    seenAddrs.add(peer.address);
    peers.push(peer);
  }
  return { peers, skipped };
}
