// Rendered [Peer] sections remembered by their content: re-rendering the server config after one peer
// changed validates and formats that peer only. Pure (no I/O): a cache of a pure function's results.
// Sections not used by the last render are forgotten, so it never holds more than the live peers.
import { peerSection, type ServerPeer } from './peer-section.ts';

const keyOf = (p: ServerPeer) => `${p.name}\n${p.publicKey}\n${p.presharedKey}\n${p.address}`;

export class SectionCache {
  #kept = new Map<string, string>();
  #used = new Map<string, string>();

  /** The section's text, ending in a newline. */
  section(p: ServerPeer): string {
    const key = keyOf(p);
    let text = this.#used.get(key) ?? this.#kept.get(key);
    if (text === undefined) text = `${peerSection(p).join('\n')}\n`;
    this.#used.set(key, text);
    return text;
  }

  /** Ends one render: keeps the sections it used, drops the rest. */
  forgetUnused(): void {
    this.#kept = this.#used;
    this.#used = new Map();
  }
}
