// The host peers should dial when the owner has not set network.endpoint_host: the first
// non-internal IPv4 address of this machine that is not a Docker bridge, else the host name. Read from
// the local interfaces only; nothing off the machine is asked (no public-IP echo service).
import { hostname, networkInterfaces } from 'node:os';

export function guessEndpoint(): string {
  const ifs = networkInterfaces();
  for (const [name, addrs] of Object.entries(ifs)) {
    if (/^(docker|br-|veth|wg|lo)/.test(name)) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  const h = hostname().toLowerCase();
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(h) ? h : 'localhost';
}
