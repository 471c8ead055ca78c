// The last resort for the host peers dial (no endpoint_host set, no host facts from `pic up`): the
// first non-internal IPv4 address of this machine that is not a Docker bridge, else the host name.
// Read from the local interfaces only; nothing off the machine is asked (no public-IP echo service).
// Inside the cell this is the container's own bridge address, which is why `pic up` hands over the
// host's facts and the guess comes last.
import { hostname, networkInterfaces } from 'node:os';

/** Interfaces that are Docker's, a container's or a tunnel's, not the host's own network. */
const NOT_THE_HOST = /^(docker|br-|veth|wg|lo)/;
const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export function guessEndpoint(): string {
  const first = hostAddresses()[0];
  if (first) return first;
  return hostName() ?? 'localhost';
}

/** This machine's own IPv4 addresses in interface order, Docker's bridges and loopback left out. */
export function hostAddresses(): string[] {
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (NOT_THE_HOST.test(name)) continue;
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out;
}

/** The host name, lower-cased, when it is a valid DNS name (it is written into peer configs). */
export function hostName(): string | undefined {
  const h = hostname().toLowerCase();
  return h.length <= 253 && HOST_NAME.test(h) ? h : undefined;
}
