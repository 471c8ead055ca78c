// The virtual IP of each store service with HTTP routes (DESIGN §1): `calendar.<domain>` resolves to
// an address of its own on the cell network, so per-peer firewall rules can allow or deny a service by
// destination. No container holds the address; it fronts Caddy, which routes by name.
//
// Where they sit on the cell network (offsets from the network address):
//   1            the gateway
//   2 .. 63      the core's containers (IP_OFFSETS: 2..5 and 10 today; the rest kept for the core)
//   64 .. 319    store virtual IPs (VIRTUAL_IP_OFFSETS), lowest free first
//   last block   the VPN's sources (vpn-sources.ts, ADR 0015): never handed out here
// Addresses the caller says are taken (a `.env` override can put a core container anywhere) are
// skipped. An address once given is kept for as long as it stays valid, so a service's address, its
// DNS record and the firewall rules naming it do not move when others come and go.
import { cidrRange, formatIpv4, ipv4, parseIpv4 } from '../../schema/fields.ts';
import { IP_OFFSETS } from '../../schema/runtime.ts';
import { vpnMapProblem, vpnSourceBlock } from '../../schema/vpn-sources.ts';

export const VIRTUAL_IP_OFFSETS = { first: 64, last: 319 } as const;

// The core's offsets must stay below the store's range; a new core container past 63 fails here first.
for (const [s, o] of Object.entries(IP_OFFSETS))
  if (o >= VIRTUAL_IP_OFFSETS.first)
    throw new Error(`core offset of ${s} (${o}) is inside the store's range`);

export interface VirtualIpInput {
  /** The cell network (CELL_NETWORK or identity.ip_range). */
  cellNetwork: string;
  /** The VPN range: its sources appear on the cell network's last block of that size. */
  vpnNetwork: string;
  /** Addresses in use whatever the offsets say: the core containers' actual addresses. */
  taken: readonly string[];
  /** Addresses given before, by service id. */
  assigned: Readonly<Record<string, string>>;
  /** Services that need an address now (those with http_routes), in a stable order. */
  services: readonly string[];
}

export type VirtualIpResult =
  | {
      ok: true;
      /** Every valid earlier assignment, plus one for each service that had none; sorted by id. */
      assigned: Record<string, string>;
      /** Services given an address by this call (new, or their old one was no longer valid). */
      added: string[];
    }
  | { ok: false; problem: string };

export function allocateVirtualIps(input: VirtualIpInput): VirtualIpResult {
  const cell = cidrRange(input.cellNetwork);
  // The last address usable for the store: before the VPN block (or the broadcast address).
  const ceiling = vpnMapProblem(input.cellNetwork, input.vpnNetwork)
    ? cell.last - 1
    : cidrRange(vpnSourceBlock(input.cellNetwork, input.vpnNetwork)).first - 1;
  const lo = cell.first + VIRTUAL_IP_OFFSETS.first;
  const hi = Math.min(cell.first + VIRTUAL_IP_OFFSETS.last, ceiling);
  const taken = new Set(input.taken.flatMap((a) => (validIpv4(a) ? [parseIpv4(a)] : [])));
  const used = new Set<number>();
  const out: Record<string, string> = {};

  for (const id of Object.keys(input.assigned).sort()) {
    const a = input.assigned[id]!;
    if (!validIpv4(a)) continue;
    const n = parseIpv4(a);
    if (n < lo || n > hi || taken.has(n) || used.has(n)) continue;
    used.add(n);
    out[id] = a;
  }
  const added: string[] = [];
  let next = lo;
  for (const id of input.services) {
    if (out[id] !== undefined) continue;
    while (next <= hi && (taken.has(next) || used.has(next))) next++;
    if (next > hi)
      return {
        ok: false,
        problem: `no free virtual IP for ${id}: the cell network ${input.cellNetwork} has room for ${Math.max(0, hi - lo + 1)} store addresses (offsets ${VIRTUAL_IP_OFFSETS.first}..${VIRTUAL_IP_OFFSETS.last}, below the VPN's block) and all are used`,
      };
    used.add(next);
    out[id] = formatIpv4(next);
    added.push(id);
  }
  const sorted: Record<string, string> = {};
  for (const id of Object.keys(out).sort()) sorted[id] = out[id]!;
  return { ok: true, assigned: sorted, added };
}

const validIpv4 = (a: string) => ipv4.safeParse(a).success;
