// What is wrong with the endpoint peers dial, as the WireGuard page and the Dashboard show it. Pure:
// the addresses a name resolves to and the host's own addresses are looked up by the caller.
//
// Whether the endpoint is reachable is not probed: WireGuard answers nothing to a packet without a
// valid handshake, so a UDP probe cannot tell "nobody listens" from "dropped" from "ignored". Instead
// the endpoint must be (or resolve to) one of the addresses where this host publishes the WireGuard
// port. A public address of a router that forwards the port is then reported too: the message says
// that this is fine when the forwarding exists.
import { isIP } from 'node:net';
import { inIpv4Network } from '../../schema/in-network.ts';

export type EndpointWarningCode = 'private_address' | 'not_this_host' | 'unresolved';

export interface EndpointWarning {
  code: EndpointWarningCode;
  message: string;
}

export interface EndpointCheck {
  host: string;
  port: number;
  /** What a name resolved to (undefined for an address, or when the lookup failed). */
  resolved?: string[] | undefined;
  /**
   * Addresses where this host publishes the WireGuard port (BIND_ADDRESS when it names one, else all
   * of the host's own addresses); undefined when unknown, and then that check is skipped.
   */
  published?: string[] | undefined;
}

const RANGES: Array<[string, string]> = [
  ['127.0.0.0/8', 'a loopback address: only this host itself can reach it'],
  ['10.0.0.0/8', 'a private address (RFC 1918)'],
  ['172.16.0.0/12', 'a private address (RFC 1918)'],
  ['192.168.0.0/16', 'a private address (RFC 1918)'],
  ['100.64.0.0/10', 'a carrier-grade NAT address (100.64.0.0/10)'],
  ['169.254.0.0/16', 'a link-local address'],
];

/** Why an IPv4 address cannot be reached from the internet, or undefined when it can. */
export function privateKind(address: string): string | undefined {
  return RANGES.find(([cidr]) => inIpv4Network(address, cidr))?.[1];
}

const SETTINGS = 'Settings → Network';

export function endpointWarnings({ host, port, resolved, published }: EndpointCheck): EndpointWarning[] {
  const literal = isIP(host) === 4;
  const addresses = literal ? [host] : (resolved ?? []);
  if (!literal && addresses.length === 0) {
    return [
      {
        code: 'unresolved',
        message: `Peers dial ${host}, a name the cell cannot resolve: devices will not find the cell either. Check the name, or set an address in ${SETTINGS}.`,
      },
    ];
  }
  const out: EndpointWarning[] = [];
  const shown = literal ? host : `${host} (${addresses.join(', ')})`;
  const kinds = addresses.map(privateKind);
  const loopback = kinds.some((k) => k?.startsWith('a loopback'));
  const kind = kinds.find((k) => k !== undefined);
  if (kind) {
    out.push({
      code: 'private_address',
      message: loopback
        ? `Peers dial ${shown}, ${kind}: no other device can use the exported configs. Set the address of this host on your network, or its public name, in ${SETTINGS}.`
        : `Peers dial ${shown}, ${kind}: devices on the same network as this host can connect, devices elsewhere (a phone on mobile data, a laptop away from home) cannot. For those, set your public name or address in ${SETTINGS} and forward UDP port ${port} on your router to this host.`,
    });
  }
  if (!loopback && published && !addresses.some((a) => published.includes(a))) {
    out.push({
      code: 'not_this_host',
      message: `Peers dial ${shown}, which is not an address where this host publishes the WireGuard port (${published.join(', ') || 'none found'}): devices reach the cell only if ${host} forwards UDP port ${port} to this host, as a router with port forwarding does. If it does not, correct the endpoint in ${SETTINGS}.`,
    });
  }
  return out;
}
