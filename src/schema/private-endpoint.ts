// Where an off-host S3 target must not point (issue 11, part 6): this machine (loopback, the
// unspecified address), the link-local networks (169.254.0.0/16, where clouds answer metadata with
// credentials; fe80::/10) and the cell's own networks (its containers, its VPN). A backup copy sent
// there is not off-host, and a stored endpoint there would make cell-api a client of its own
// neighbours. Only the owner's explicit `allow_private_endpoint: true` lets one through (a local
// test server, an S3 gateway on the cell's own network on purpose). Pure: names and literal
// addresses here; the S3 driver checks what a host name resolves to with the same function.
import { isIP } from 'node:net';
import { cidrRange, parseIpv4 } from './fields.ts';

const LOOPBACK_NAME = /^(localhost|.*\.localhost)\.?$/i;

/** Why `host` (a name or a literal address, IPv6 with or without brackets) is refused; undefined when it is not. */
export function privateEndpointReason(host: string, cellNetworks: readonly string[]): string | undefined {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAME.test(h)) return 'is this machine (loopback)';
  const kind = isIP(h);
  if (kind === 4) {
    const n = parseIpv4(h);
    if (inRange(n, '127.0.0.0/8')) return 'is this machine (loopback)';
    if (inRange(n, '0.0.0.0/8')) return 'is this machine (unspecified address)';
    if (inRange(n, '169.254.0.0/16')) return 'is link-local (169.254.0.0/16)';
    const net = cellNetworks.find((c) => inRange(n, c));
    if (net) return `is in the cell's own network ${net}`;
    return undefined;
  }
  if (kind === 6) {
    if (h === '::1') return 'is this machine (loopback)';
    if (h === '::') return 'is this machine (unspecified address)';
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return privateEndpointReason(mapped[1]!, cellNetworks);
    const first = Number.parseInt(h.split(':')[0] || '0', 16);
    if ((first & 0xffc0) === 0xfe80) return 'is link-local (fe80::/10)';
  }
  return undefined;
}

function inRange(n: number, cidr: string): boolean {
  const { first, last } = cidrRange(cidr);
  return n >= first && n <= last;
}

/** The error text, naming both fields. */
export function privateEndpointMessage(reason: string): string {
  return `${reason}: an off-host copy must go to another machine (set allow_private_endpoint: true to allow it on purpose)`;
}
