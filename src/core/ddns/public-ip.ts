// The cell's public address, read from the owner's IP echo URLs in order (none by default: nothing
// leaves the machine until the owner names one). An echo answers the address as plain text; one
// that answers a private, loopback or link-local address is not believed.
import { isIP } from 'node:net';
import type { HttpClient } from '../ports/http-client.ts';

const PRIVATE_V4: ReadonlyArray<readonly [number, number]> = [
  [0x00000000, 8], // 0/8
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10 (carrier-grade NAT)
  [0x7f000000, 8], // 127/8
  [0xa9fe0000, 16], // 169.254/16
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0xe0000000, 3], // multicast and reserved
];

export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) {
    const n = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    return !PRIVATE_V4.some(
      ([net, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(net / 2 ** (32 - bits)),
    );
  }
  if (family === 6) {
    const l = ip.toLowerCase();
    return !(
      l === '::' ||
      l === '::1' ||
      /^f[cd]/.test(l) ||
      /^fe[89ab]/.test(l) ||
      /^ff/.test(l) ||
      l.startsWith('::ffff:')
    );
  }
  return false;
}

export type EchoResult = { ok: true; ip: string } | { ok: false; message: string };

export async function publicIp(
  http: HttpClient,
  urls: readonly string[],
  userAgent: string,
): Promise<EchoResult> {
  if (urls.length === 0) return { ok: false, message: 'no IP echo URL is configured: nothing is published' };
  const problems: string[] = [];
  for (const [i, url] of urls.entries()) {
    try {
      const r = await http.send({
        method: 'GET',
        url,
        headers: { 'user-agent': userAgent, accept: 'text/plain' },
      });
      const text = r.body.trim();
      if (r.status !== 200) problems.push(`echo ${i + 1}: HTTP ${r.status}`);
      else if (!isIP(text)) problems.push(`echo ${i + 1}: the reply is not an address`);
      else if (!isPublicAddress(text)) problems.push(`echo ${i + 1}: answered a private address`);
      else return { ok: true, ip: text };
    } catch (err) {
      problems.push(`echo ${i + 1}: ${(err as Error).message}`);
    }
  }
  return { ok: false, message: `IP echo failed (${problems.join('; ')})` };
}
