// The per-peer firewall as a change from the last applied model: only the chains of peers added,
// changed or removed (and PIC-P2P when its members change), still one iptables-restore --noflush
// transaction. Reloading all chains costs about half a second at 1000 peers (nft backend); a delta
// costs a few rules. Returns undefined when a delta cannot express the change (interface, networks):
// the caller then loads the full document. The caller also falls back to the full document when the
// restore fails (state drifted), so a wrong delta can never stick. Only what is written is validated
// (the changed peers, the P2P members when that chain is rewritten): an add at 1000 peers checks one.
import { vpnNetwork } from '../../schema/config.ts';
import { ipv4 } from '../../schema/fields.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';
import {
  type ChainContext,
  chainContext,
  type FirewallPeer,
  firewallPeer,
  peerChain,
  peerChainRules,
  REJECT,
} from './peer-chain.ts';
import type { FirewallInput } from './peer-rules.ts';

export type FirewallModelDelta = Omit<FirewallInput, 'present'>;

const same = (a: FirewallPeer, b: FirewallPeer) =>
  a.name === b.name &&
  a.internet === b.internet &&
  a.peer_to_peer === b.peer_to_peer &&
  a.services.length === b.services.length &&
  a.services.every((s, i) => s === b.services[i]);

const sameContext = (a: ChainContext, b: ChainContext) =>
  a.iface === b.iface &&
  a.outIface === b.outIface &&
  a.vpnAddress === b.vpnAddress &&
  a.cellNetwork === b.cellNetwork &&
  // An install or uninstall changes the NAT rules and every chain granting it: the full document.
  JSON.stringify(a.store ?? []) === JSON.stringify(b.store ?? []);

export function renderFirewallDelta(
  prev: FirewallModelDelta,
  next: FirewallModelDelta,
): Rendered | undefined {
  if (!sameContext(prev, next)) return undefined;
  const ctx = must(chainContext, next, 'firewall');
  const vpnNet = vpnNetwork(ctx.vpnAddress);
  const before = new Map(prev.peers.map((p) => [p.address, p]));
  const after = new Map(next.peers.map((p) => [p.address, p]));
  const lines: string[] = ['*filter'];
  const body: string[] = [];
  const drop: string[] = [];
  const jump = (p: FirewallPeer) =>
    `PIC-FORWARD -i ${ctx.iface} -s ${p.address}/32 -j ${peerChain(p.address)}`;
  for (const [addr, raw] of after) {
    const old = before.get(addr);
    if (old && same(old, raw)) continue;
    const p = must(firewallPeer, raw, `peer ${JSON.stringify(raw.name)}`);
    lines.push(`:${peerChain(p.address)} - [0:0]`); // declared = flushed under --noflush
    body.push(`# peer ${p.name}`, ...peerChainRules(p, ctx, vpnNet));
    // A new peer's jump goes right after the conntrack rule (sources differ, so order among peers does not matter).
    if (!old) body.push(`-I ${jump(p).replace('PIC-FORWARD', 'PIC-FORWARD 2')}`);
    else if (old.name !== p.name) return undefined;
  }
  for (const [addr, old] of before) {
    if (after.has(addr)) continue;
    const address = must(ipv4, addr, 'removed peer address');
    body.push(`-D ${jump({ ...old, address })}`);
    lines.push(`:${peerChain(address)} - [0:0]`);
    drop.push(`-X ${peerChain(address)}`);
  }
  const p2p = (m: Map<string, FirewallPeer>) =>
    [...m.values()].filter((p) => p.peer_to_peer).map((p) => p.address);
  const p2pBefore = p2p(before).sort().join();
  const p2pAfter = p2p(after);
  if (p2pBefore !== [...p2pAfter].sort().join()) {
    lines.push(':PIC-P2P - [0:0]');
    body.push(
      ...p2pAfter.map((a) => `-A PIC-P2P -d ${must(ipv4, a, 'peer address')}/32 -j ACCEPT`),
      `-A PIC-P2P ${REJECT}`,
    );
  }
  if (lines.length === 1 && body.length === 0) return { output: '', warnings: [] };
  return { output: `${[...lines, ...body, ...drop, 'COMMIT'].join('\n')}\n`, warnings: [] };
}
