// cell-dns's forward zone (config/dns/forward.conf, included by the image's unbound.conf): every
// name outside Unbound's local zones goes to network.dns_forwarders. With none the file holds only a
// comment, and the base config's unusable root hints keep Unbound from recursing anywhere.
import { z } from 'zod';
import { ipv4 } from '../../schema/fields.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';

export interface ForwardZoneInput {
  forwarders: readonly string[];
}

const input = z.object({ forwarders: z.array(ipv4).max(8) }).strict();

export function renderForwardZone(raw: ForwardZoneInput): Rendered {
  const { forwarders } = must(input, raw, 'the Unbound forward zone');
  const head = '# Rendered by PIC from network.dns_forwarders; edits are overwritten.';
  if (forwarders.length === 0) {
    return { output: `${head}\n# No forwarders: names outside local zones get SERVFAIL.\n`, warnings: [] };
  }
  const lines = [head, 'forward-zone:', '    name: "."', ...forwarders.map((f) => `    forward-addr: ${f}`)];
  return { output: `${lines.join('\n')}\n`, warnings: [] };
}
