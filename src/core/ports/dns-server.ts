// How core reaches the cell's resolver (cell-dns's Unbound). The driver (src/drivers/dns/) writes the
// rendered zone file, the one a restart loads, and changes the running server through unbound-control
// by the difference from its last apply (zone-delta.ts); when it does not know what the server holds
// (its first apply, or after a failed one) it writes the file and reloads the whole configuration.
import type { CellZoneInput } from '../../render/unbound/cell-zone.ts';
import type { BlockedDrain } from '../../schema/blocklists.ts';

export interface DnsApplyResult {
  /** delta: unbound-control changes; full: file written and Unbound reloaded; unchanged: nothing sent. */
  mode: 'delta' | 'full' | 'unchanged';
}

/** The blocked names (ADR 0020): read only when their digest differs from what the server holds. */
export interface BlockedNames {
  digest: string;
  names(): readonly string[];
}

export interface DnsServerPort {
  running(): Promise<boolean>;
  /** blocked: the blocklists' names (possibly none); absent: no blocklist machinery is loaded. */
  apply(zone: CellZoneInput, blocked?: BlockedNames): Promise<DnsApplyResult>;
  /** Queries the blocklists answered NXDOMAIN since the server started; undefined when unknown. */
  blockedQueries(): Promise<number | undefined>;
  /**
   * The blocked queries per client address and name since the last drain (cell-dns's pic-dns-blocked,
   * ADR 0020 amendment), which forgets them; undefined when they cannot be read (no cell-dns, an image
   * without the tap).
   */
  drainBlocked?(): Promise<BlockedDrain | undefined>;
  /** Forget what was applied: the next apply is a full one (a restart the driver could not see). */
  reset(): void;
}

export const NO_DNS_SERVER: DnsServerPort = {
  running: async () => false,
  apply: async () => {
    throw new Error('no data plane');
  },
  reset: () => undefined,
  blockedQueries: async () => undefined,
  drainBlocked: async () => undefined,
};
