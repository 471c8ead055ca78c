// The per-peer firewall inside cell-wireguard as one iptables-restore document, applied with
// `iptables-restore --noflush`: each table is committed as one transaction, so a change is all or
// nothing and rules of other owners (the entrypoint's NAT, Docker's) are left alone.
//
// Shape: FORWARD → PIC-FORWARD → one chain per peer (PIC-PEER-<address>), deny by default. A peer chain
// accepts its granted services (virtual IP + port), then refuses the rest of the cell network and the
// VPN, then the internet unless granted. Peer-to-peer goes through PIC-P2P, which accepts only peers
// that allow it too. DNS and NTP are also answered at the server's VPN address (DNAT in PIC-PREROUTING),
// which is what peer configs name; a store service's virtual IP is DNATed to Caddy's ports for it. Chains are declared (which flushes them under --noflush) and stale
// PIC chains are emptied and deleted in the same transaction.
import { z } from 'zod';
import { vpnNetwork } from '../../schema/config.ts';
import { PEER_SERVICES, serviceAddress } from '../../schema/peers-services.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';
import {
  type ChainContext,
  chainContext,
  type FirewallPeer,
  firewallPeer,
  PIC_CHAIN,
  peerChain,
  peerChainRules,
  REJECT,
  storeDnatRules,
} from './peer-chain.ts';

/** What is already loaded (read with iptables-save by the driver): makes the document idempotent. */
export interface FirewallPresent {
  filterChains: readonly string[];
  natChains: readonly string[];
  hooks: { forward: boolean; input: boolean; prerouting: boolean };
}

export interface FirewallInput extends ChainContext {
  /** Enabled peers only: a peer without a chain is dropped by PIC-FORWARD. */
  peers: readonly FirewallPeer[];
  present: FirewallPresent;
}

export const NO_PIC_STATE: FirewallPresent = {
  filterChains: [],
  natChains: [],
  hooks: { forward: false, input: false, prerouting: false },
};

const chainName = z.string().regex(/^[A-Za-z0-9_.-]{1,28}$/, 'must be a chain name');
const schema = chainContext.extend({
  peers: z.array(firewallPeer),
  present: z.object({
    filterChains: z.array(chainName),
    natChains: z.array(chainName),
    hooks: z.object({ forward: z.boolean(), input: z.boolean(), prerouting: z.boolean() }),
  }),
});

export function renderFirewall(raw: FirewallInput): Rendered {
  const i = must(schema, raw, 'firewall');
  const serverIp = i.vpnAddress.split('/')[0]!;
  const vpnNet = vpnNetwork(i.vpnAddress);
  const peers = [...i.peers].sort((a, b) => a.name.localeCompare(b.name));

  // nat: DNS and NTP at the server's VPN address.
  const nat: string[] = ['*nat', ':PIC-PREROUTING - [0:0]'];
  for (const s of PEER_SERVICES) {
    if (!s.onVpnAddress) continue;
    const to = serviceAddress(i.cellNetwork, s.offset);
    for (const p of s.ports)
      nat.push(
        `-A PIC-PREROUTING -i ${i.iface} -d ${serverIp}/32 -p ${p.proto} --dport ${p.port} -j DNAT --to-destination ${to}:${p.port}`,
      );
  }
  // Store services: their virtual IPs to Caddy's front ports for each (ADR 0023).
  nat.push(...storeDnatRules(i));
  for (const c of i.present.natChains)
    if (PIC_CHAIN.test(c) && c !== 'PIC-PREROUTING') nat.push(`:${c} - [0:0]`, `-X ${c}`);
  if (!i.present.hooks.prerouting) nat.push('-I PREROUTING 1 -j PIC-PREROUTING');
  nat.push('COMMIT');

  const wanted = new Set(['PIC-FORWARD', 'PIC-INPUT', 'PIC-P2P', ...peers.map((p) => peerChain(p.address))]);
  const filter: string[] = ['*filter'];
  for (const c of wanted) filter.push(`:${c} - [0:0]`);
  const stale = i.present.filterChains.filter((c) => PIC_CHAIN.test(c) && !wanted.has(c));
  for (const c of stale) filter.push(`:${c} - [0:0]`);

  filter.push(
    '# replies to connections a rule below accepted',
    '-A PIC-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );
  for (const p of peers)
    filter.push(`-A PIC-FORWARD -i ${i.iface} -s ${p.address}/32 -j ${peerChain(p.address)}`);
  filter.push(
    '# from the tunnel but no enabled peer: nothing',
    `-A PIC-FORWARD -i ${i.iface} -j DROP`,
    `-A PIC-INPUT -i ${i.iface} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    '# peers may ping the cell at its VPN address; nothing else listens here',
    `-A PIC-INPUT -i ${i.iface} -d ${serverIp}/32 -p icmp --icmp-type echo-request -j ACCEPT`,
    `-A PIC-INPUT -i ${i.iface} -j DROP`,
  );
  for (const p of peers) filter.push(`# peer ${p.name}`, ...peerChainRules(p, i, vpnNet));
  filter.push('# peer to peer: only toward peers that allow it too');
  for (const p of peers) if (p.peer_to_peer) filter.push(`-A PIC-P2P -d ${p.address}/32 -j ACCEPT`);
  filter.push(`-A PIC-P2P ${REJECT}`);
  for (const c of stale) filter.push(`-X ${c}`);
  if (!i.present.hooks.forward) filter.push('-I FORWARD 1 -j PIC-FORWARD');
  if (!i.present.hooks.input) filter.push('-I INPUT 1 -j PIC-INPUT');
  filter.push('COMMIT');

  const head = '# Rendered by PIC: per-peer firewall of cell-wireguard (iptables-restore --noflush)';
  return { output: `${[head, ...nat, ...filter].join('\n')}\n`, warnings: [] };
}

/** Reads PIC's chains and hooks out of `iptables-save` output (one table or several). */
export function parsePresent(saved: string): FirewallPresent {
  const present: FirewallPresent = {
    ...NO_PIC_STATE,
    filterChains: [],
    natChains: [],
    hooks: { ...NO_PIC_STATE.hooks },
  };
  let table = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    const chain = /^:(PIC-[A-Za-z0-9_.-]+) /.exec(line)?.[1];
    if (chain && table === 'nat') (present.natChains as string[]).push(chain);
    if (chain && table === 'filter') (present.filterChains as string[]).push(chain);
    if (table === 'filter' && /^-A FORWARD (.* )?-j PIC-FORWARD\s*$/.test(line)) present.hooks.forward = true;
    if (table === 'filter' && /^-A INPUT (.* )?-j PIC-INPUT\s*$/.test(line)) present.hooks.input = true;
    if (table === 'nat' && /^-A PREROUTING (.* )?-j PIC-PREROUTING\s*$/.test(line))
      present.hooks.prerouting = true;
  }
  return present;
}
