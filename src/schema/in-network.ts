import { isIP } from 'node:net';
import { cidrRange, parseIpv4 } from './fields.ts';

/** Whether an address (plain or IPv4-mapped IPv6) lies inside an IPv4 CIDR. */
export function inIpv4Network(address: string, cidr: string): boolean {
  const ip = address.replace(/^::ffff:/i, '');
  if (isIP(ip) !== 4) return false;
  const { first, last } = cidrRange(cidr);
  const n = parseIpv4(ip);
  return n >= first && n <= last;
}
