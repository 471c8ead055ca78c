// The cell's WireGuard interface config in wg(8) format (not wg-quick: no Address/DNS/PostUp), so
// `wg setconf`/`wg syncconf` and `wg-quick strip` all take it as is. ListenPort is the port the
// container was started with (WG_PORT, read by the driver): without it a syncconf would pick a random
// port, and a port taken from a not yet applied config change would move it under the published port.
import { dnsLabel, port } from '../../schema/fields.ts';
import { wgKey } from '../../schema/peers.ts';
import { must } from '../common/guards.ts';
import type { Rendered, Warning } from '../common/rendered.ts';
import { peerSection, type ServerPeer } from './peer-section.ts';
import type { SectionCache } from './section-cache.ts';

export type { ServerPeer };

export interface ServerConfInput {
  privateKey: string;
  listenPort?: number | undefined;
  /** Enabled, unexpired peers only: a peer left out has no tunnel. */
  peers: readonly ServerPeer[];
}

/**
 * Renders the whole config. `sections` (optional) remembers each peer's validated section by its
 * content, so a caller that renders again after adding one peer validates and formats only that one;
 * the output is the same with or without it.
 */
export function renderServerConf(input: ServerConfInput, sections?: SectionCache): Rendered {
  const warnings: Warning[] = [];
  const lines = [
    '# Rendered by PIC from its database; edits are overwritten on the next change.',
    '[Interface]',
    `PrivateKey = ${must(wgKey, input.privateKey, 'server private key')}`,
  ];
  if (input.listenPort !== undefined)
    lines.push(`ListenPort = ${must(port, input.listenPort, 'listen port')}`);
  const { peers, skipped } = effectivePeers(input.peers);
  warnings.push(...warningsFor(skipped));
  peers.sort((a, b) => byName(a.name, b.name));
  let text = `${lines.join('\n')}\n`;
  for (const peer of peers)
    text += `\n${sections ? sections.section(peer) : `${peerSection(peer).join('\n')}\n`}`;
  sections?.forgetUnused();
  return { output: text, warnings };
}

const byName = new Intl.Collator().compare;

const warningsFor = (skipped: readonly ServerPeer[]): Warning[] =>
  skipped.map((p) => ({
    path: `peers.${must(dnsLabel, p.name, 'peer name')}`,
    message: 'skipped: its key or address is already used by another peer',
  }));

/** The warnings renderServerConf gives for these peers, without rendering (no validation either). */
export function skippedPeerWarnings(peers: readonly ServerPeer[]): Warning[] {
  return warningsFor(effectivePeers(peers).skipped);
}

/**
 * The peers that get a [Peer] section. Two sections with one key or one address would make wg merge
 * them or steal routes: the later one by name is skipped. Without such a clash (the database's unique
 * keys make it the usual case) the peers come back as given, unsorted: the delta needs no order, and
 * renderServerConf sorts what it writes. Values are validated where they are written (peerSection).
 */
export function effectivePeers(all: readonly ServerPeer[]): { peers: ServerPeer[]; skipped: ServerPeer[] } {
  const keys = new Set<string>();
  const addrs = new Set<string>();
  for (const p of all) {
    keys.add(p.publicKey);
    addrs.add(p.address);
  }
  if (keys.size === all.length && addrs.size === all.length) return { peers: [...all], skipped: [] };
  keys.clear();
  addrs.clear();
  const peers: ServerPeer[] = [];
  const skipped: ServerPeer[] = [];
  for (const p of [...all].sort((a, b) => byName(a.name, b.name))) {
    if (keys.has(p.publicKey) || addrs.has(p.address)) {
      skipped.push(p);
      continue;
    }
    keys.add(p.publicKey);
    addrs.add(p.address);
    peers.push(p);
  }
  return { peers, skipped };
}
