// The per-peer firewall as a change from the last applied model: only the chains of peers added,
// changed or removed (and PIC-P2P when its members change), still one iptables-restore --noflush
// transaction. Reloading all chains costs about half a second at 1000 peers (nft backend); a delta
// costs a few rules. Returns undefined when a delta cannot express the change (interface, networks):
// the caller then loads the full document. The caller also falls back to the full document when the
// restore fails (state drifted), so a wrong delta can never stick.
import { z } from 'zod';
import { PEER_SERVICES, serviceAddress } from '../../schema/peers-services.ts';
import { must } from '../wireguard/guards.ts';
import type { Rendered } from '../wireguard/server-conf.ts';
import { type FirewallInput, type FirewallPeer, peerChain } from './peer-rules.ts';

export type FirewallModelDelta = Omit<FirewallInput, 'present'>;

const REJECT = '-j REJECT --reject-with icmp-admin-prohibited';
const same = (a: FirewallPeer, b: FirewallPeer) =>
  a.name === b.name &&
  a.internet === b.internet &&
  a.peer_to_peer === b.peer_to_peer &&
  a.services.join() === b.services.join();

const peerSchema = z.object({
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/),
  address: z.ipv4(),
  services: z.array(z.enum(PEER_SERVICES.map((s) => s.id) as [string, ...string[]])),
  internet: z.boolean(),
  peer_to_peer: z.boolean(),
});

function vpnNetworkOf(vpnAddress: string): string {
  const [ip, bits] = vpnAddress.split('/') as [string, string];
  const n = ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
  const size = 2 ** (32 - Number(bits));
  const first = n - (n % size);
  return `${[24, 16, 8, 0].map((s) => Math.floor(first / 2 ** s) % 256).join('.')}/${bits}`;
}

/** Rules of one peer's chain (the same lines the full document writes). */
export function peerChainRules(p: FirewallPeer, m: FirewallModelDelta): string[] {
  const chain = peerChain(p.address);
  const vpnNet = vpnNetworkOf(m.vpnAddress);
  const out: string[] = [];
  for (const s of PEER_SERVICES) {
    if (!p.services.includes(s.id)) continue;
    const dest = serviceAddress(m.cellNetwork, s.offset);
    for (const port of s.ports)
      out.push(`-A ${chain} -d ${dest}/32 -p ${port.proto} --dport ${port.port} -j ACCEPT`);
  }
  if (p.peer_to_peer) out.push(`-A ${chain} -o ${m.iface} -d ${vpnNet} -j PIC-P2P`);
  out.push(`-A ${chain} -d ${m.cellNetwork} ${REJECT}`, `-A ${chain} -d ${vpnNet} ${REJECT}`);
  if (p.internet) out.push(`-A ${chain} -o ${m.outIface} -j ACCEPT`);
  out.push(`-A ${chain} ${REJECT}`);
  return out;
}

export function renderFirewallDelta(
  prev: FirewallModelDelta,
  next: FirewallModelDelta,
): Rendered | undefined {
  if (
    prev.iface !== next.iface ||
    prev.outIface !== next.outIface ||
    prev.vpnAddress !== next.vpnAddress ||
    prev.cellNetwork !== next.cellNetwork
  )
    return undefined;
  const before = new Map(prev.peers.map((p) => [p.address, p]));
  const after = new Map(
    next.peers.map((p) => [p.address, must(peerSchema, p, `peer ${JSON.stringify(p.name)}`)]),
  );
  const lines: string[] = ['*filter'];
  const body: string[] = [];
  const drop: string[] = [];
  const jump = (p: FirewallPeer) =>
    `PIC-FORWARD -i ${next.iface} -s ${p.address}/32 -j ${peerChain(p.address)}`;
  for (const [addr, p] of after) {
    const old = before.get(addr);
    if (old && same(old, p)) continue;
    lines.push(`:${peerChain(addr)} - [0:0]`); // declared = flushed under --noflush
    body.push(`# peer ${p.name}`, ...peerChainRules(p, next));
    // A new peer's jump goes right after the conntrack rule (sources differ, so order among peers does not matter).
    if (!old) body.push(`-I ${jump(p).replace('PIC-FORWARD', 'PIC-FORWARD 2')}`);
    else if (old.name !== p.name) return undefined;
  }
  for (const [addr, old] of before) {
    if (after.has(addr)) continue;
    body.push(`-D ${jump(old)}`);
    lines.push(`:${peerChain(addr)} - [0:0]`);
    drop.push(`-X ${peerChain(addr)}`);
  }
  const p2p = (m: Map<string, FirewallPeer>) =>
    [...m.values()].filter((p) => p.peer_to_peer).map((p) => p.address);
  const p2pBefore = p2p(before).sort().join();
  const p2pAfter = p2p(after);
  if (p2pBefore !== [...p2pAfter].sort().join()) {
    lines.push(':PIC-P2P - [0:0]');
    body.push(...p2pAfter.map((a) => `-A PIC-P2P -d ${a}/32 -j ACCEPT`), `-A PIC-P2P ${REJECT}`);
  }
  if (lines.length === 1 && body.length === 0) return { output: '', warnings: [] };
  return { output: `${[...lines, ...body, ...drop, 'COMMIT'].join('\n')}\n`, warnings: [] };
}
