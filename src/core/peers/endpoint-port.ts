// What peers need from outside to know where devices dial the cell: the facts `pic up` read on the
// host, a last-resort guess from this process's own interfaces, where the WireGuard port is published,
// and a name lookup (for the warnings only). The composition root implements it with drivers.
import type { HostFacts } from '../../schema/host-facts.ts';

export interface EndpointPort {
  /** The host's facts as `pic up` handed them over; undefined outside the cell or from an older `pic up`. */
  host(): HostFacts | undefined;
  /** A guess from the interfaces this process sees; never asked of the internet. */
  guess(): string;
  /** Addresses where the host publishes the WireGuard port; undefined when they are not known. */
  published(): string[] | undefined;
  /** The IPv4 addresses a name resolves to; undefined when it does not resolve (or not in time). */
  resolve(name: string): Promise<string[] | undefined>;
}
