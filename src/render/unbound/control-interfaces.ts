// Where unbound-control listens (config/dns/control-interfaces.conf): loopback for the healthcheck and
// the container's own cell-network address for cell-api, never 0.0.0.0. The file opens its own
// `remote-control:` clause (Unbound merges repeated clauses), like every file in /etc/pic/unbound.
import { z } from 'zod';
import { ipv4 } from '../../schema/fields.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';

export interface ControlInterfacesInput {
  /** The first one is what a local `unbound-control` connects to: put 127.0.0.1 first. */
  addresses: readonly string[];
}

const input = z
  .object({ addresses: z.array(ipv4).min(1).max(4) })
  .strict()
  .refine((i) => !i.addresses.includes('0.0.0.0'), 'never on every address');

export function renderControlInterfaces(raw: ControlInterfacesInput): Rendered {
  const { addresses } = must(input, raw, 'the Unbound control interfaces');
  const lines = [
    '# Rendered by PIC from the cell network; edits are overwritten.',
    'remote-control:',
    ...[...new Set(addresses)].map((a) => `    control-interface: ${a}`),
  ];
  return { output: `${lines.join('\n')}\n`, warnings: [] };
}
