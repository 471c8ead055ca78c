// What the cell's CA vouches for: DNS names under `.cell` (the local-mode zone) and private
// addresses, nothing else. The same list is written into every new root and intermediate as a
// critical NameConstraints extension (x509.ts), so a device that trusts the cell's root refuses a
// certificate for `bank.example.com` even if the CA's key signed one; issuing checks it first, so
// the cell never signs what devices would refuse. The domain of a public mode is not in it: a CA is
// made once and the domain changes; public modes serve ACME certificates (ADR 0019).
// docs/adr/0016-internal-certificate-authority.md, "Name constraints".
import { isIP } from 'node:net';
import type { FieldError } from '../errors.ts';

/** The permitted dNSName subtree: `cell` and every name under it (RFC 5280 §4.2.1.10). */
export const CA_DNS_ZONE = 'cell';

/** The permitted iPAddress subtrees: RFC 1918, CGNAT, loopback, IPv6 unique local and loopback. */
export const CA_IP_RANGES = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '127.0.0.0/8',
  'fc00::/7',
  '::1/128',
] as const;

export const CA_SCOPE_MESSAGE =
  "the cell's CA only issues for names under .cell and private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, 127/8, fc00::/7, ::1)";

/** The 4 or 16 bytes of a plain IP address (IPv6 may end in a dotted quad). */
export function ipBytes(ip: string): number[] {
  if (isIP(ip) === 4) return ip.split('.').map(Number);
  let text = ip.toLowerCase();
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[2]!.split('.').map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left = '', right] = text.split('::');
  const head = left ? left.split(':') : [];
  const tail = right ? right.split(':') : [];
  const groups =
    right === undefined ? head : [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/**
 * An IPv6 address as eight hex groups (`fd00::10.0.0.1` → `fd00:0:0:0:0:0:a00:1`): the x509 library
 * reads a dotted quad inside IPv6 as a hex group and would encode the wrong bytes in a SAN.
 */
export function ipv6Groups(ip: string): string {
  const b = ipBytes(ip);
  return Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16)).join(':');
}

function inRange(ip: number[], cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const net = ipBytes(base);
  // An IPv4 address never matches an IPv6 range (nor the other way): devices compare byte strings.
  if (net.length !== ip.length) return false;
  let left = Number(bits);
  for (let i = 0; i < net.length && left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if ((ip[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

/** Whether the cell's CA may issue for this SAN entry (a lowercase DNS name or a plain IP). */
export function inCaScope(name: string): boolean {
  if (isIP(name) !== 0) {
    const bytes = ipBytes(name);
    return CA_IP_RANGES.some((r) => inRange(bytes, r));
  }
  return name.endsWith(`.${CA_DNS_ZONE}`);
}

/** A field error for each name outside the CA's scope (`field` names where it came from). */
export function outOfScope(names: ReadonlyArray<{ field: string; name: string }>): FieldError[] {
  return names.filter((n) => !inCaScope(n.name)).map((n) => ({ field: n.field, message: CA_SCOPE_MESSAGE }));
}
