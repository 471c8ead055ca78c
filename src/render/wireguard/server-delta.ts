// The change between two sets of server peers, for applying without `wg syncconf`: syncconf must
// carry ListenPort (without it the port is re-picked at random), and wireguard-go rebinds its UDP
// socket on every ListenPort it is handed, dropping whatever arrives meanwhile. So a change is
// applied as `wg set <if> peer <key> remove ...` for peers gone or changed, then `wg addconf` of a
// document holding only the new or changed [Peer] sections. Unchanged peers are not touched at all,
// nor validated again: only what is written is checked.
import { wgKey } from '../../schema/peers.ts';
import { must } from '../common/guards.ts';
import { peerSection } from './peer-section.ts';
import { effectivePeers, type ServerPeer } from './server-conf.ts';

export interface ServerDelta {
  /** Public keys to remove (gone, or changed in address or preshared key: removed, then added). */
  remove: string[];
  /** A wg(8) document of [Peer] sections for `wg addconf`; '' when nothing is added. */
  add: string;
}

export function renderServerDelta(before: readonly ServerPeer[], after: readonly ServerPeer[]): ServerDelta {
  const old = new Map(effectivePeers(before).peers.map((p) => [p.publicKey, p]));
  const remove: string[] = [];
  const lines: string[] = [];
  const next = effectivePeers(after).peers;
  const kept = new Set<string>();
  for (const p of next) {
    const was = old.get(p.publicKey);
    kept.add(p.publicKey);
    if (was && was.address === p.address && was.presharedKey === p.presharedKey) continue;
    if (was) remove.push(p.publicKey);
    lines.push(...peerSection(p), '');
  }
  for (const key of old.keys()) if (!kept.has(key)) remove.push(key);
  return { remove: remove.map((k) => must(wgKey, k, 'public key to remove')).sort(), add: lines.join('\n') };
}
