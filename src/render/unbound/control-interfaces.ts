// Where Unbound's control channel listens (config/dns/control-interfaces.conf): loopback only. The
// channel is plain TCP without certificates (control-use-cert: no, ADR 0017 amendment), which is safe
// only because 127.0.0.0/8 of cell-dns's network namespace is reachable from inside the container
// alone; so any other address (the container's cell-network address the first design used for a TLS
// channel to cell-api, 0.0.0.0) is refused. The file opens its own `remote-control:` clause (Unbound
// merges repeated clauses), like every file in /etc/pic/unbound.
import { z } from 'zod';
import { ipv4 } from '../../schema/fields.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';

export interface ControlInterfacesInput {
  /** Loopback addresses; the first one is what unbound-control and pic-dns-control connect to. */
  addresses: readonly string[];
}

const input = z
  .object({ addresses: z.array(ipv4).min(1).max(4) })
  .strict()
  .refine(
    (i) => i.addresses.every((a) => a.startsWith('127.')),
    'loopback only: the channel has no certificates (ADR 0017)',
  );

export function renderControlInterfaces(raw: ControlInterfacesInput): Rendered {
  const { addresses } = must(input, raw, 'the Unbound control interfaces');
  const lines = [
    '# Rendered by PIC from the cell network; edits are overwritten.',
    'remote-control:',
    ...[...new Set(addresses)].map((a) => `    control-interface: ${a}`),
  ];
  return { output: `${lines.join('\n')}\n`, warnings: [] };
}
