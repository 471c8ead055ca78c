// What `pic up` reads on the host and hands to cell-api (the PIC_HOST_FACTS variable, canonical JSON),
// because cell-api sits on a Docker bridge and sees only its own container address: the address of the
// host's default route, its name, and its own addresses. Each is optional: a host without a default
// route, or a name that is no DNS name, simply leaves it out.
import { z } from 'zod';
import { dnsLabel, domainName, ipv4 } from './fields.ts';

/** The container variable that carries the host facts into cell-api. */
export const HOST_FACTS_VAR = 'PIC_HOST_FACTS';

export const hostFactsSchema = z
  .object({
    /** Source address of the host's default route: where a device on the host's LAN reaches it. */
    address: ipv4.optional(),
    /** The host's name, when it is a valid DNS name. */
    name: z.union([domainName, dnsLabel]).optional(),
    /** The host's own IPv4 addresses (Docker's bridges left out), sorted. */
    addresses: z.array(ipv4).max(64).optional(),
  })
  .strict();
export type HostFacts = z.infer<typeof hostFactsSchema>;
