// The cell services a peer may be granted, each a destination (a container's address on the cell
// network) and its ports. The per-peer firewall allows exactly these and denies the rest. For now the
// core services; store services will add their Caddy virtual IPs here.
//
// Addresses are offsets into the cell network (identity.ip_range), the same offsets the runtime gives
// the containers (spec: CADDY_IP..., from 172.20.0.2 upwards).
import { z } from 'zod';
import { cidrRange, formatIpv4 } from './fields.ts';

export interface ServicePort {
  proto: 'tcp' | 'udp';
  port: number;
}

export interface PeerServiceDef {
  id: string;
  label: string;
  /** Host offset of the serving container in the cell network (172.20.0.0/16 + 2 = 172.20.0.2). */
  offset: number;
  ports: readonly ServicePort[];
  /** Also reached at the server's VPN address (DNAT in cell-wireguard): what the peer config names. */
  onVpnAddress: boolean;
}

export const PEER_SERVICES = [
  {
    id: 'web',
    label: 'Web UI, API and HTTPS services (Caddy)',
    offset: 2,
    ports: [
      { proto: 'tcp', port: 80 },
      { proto: 'tcp', port: 443 },
    ],
    onVpnAddress: false,
  },
  {
    id: 'dns',
    label: 'DNS (Unbound)',
    offset: 3,
    ports: [
      { proto: 'udp', port: 53 },
      { proto: 'tcp', port: 53 },
    ],
    onVpnAddress: true,
  },
  {
    id: 'ntp',
    label: 'Time (chrony)',
    offset: 4,
    ports: [{ proto: 'udp', port: 123 }],
    onVpnAddress: true,
  },
] as const satisfies readonly PeerServiceDef[];

export type PeerServiceId = (typeof PEER_SERVICES)[number]['id'];
export const PEER_SERVICE_IDS = PEER_SERVICES.map((s) => s.id) as [PeerServiceId, ...PeerServiceId[]];
export const peerServiceId = z.enum(PEER_SERVICE_IDS);
/**
 * What a peer may be granted: a core service, or a store service by its id (a slug; whether it is
 * installed is checked by the peers' use-cases, and a grant of one not installed opens nothing).
 */
export const grantableServiceId = z.union([
  peerServiceId,
  z
    .string()
    .min(2)
    .max(32)
    .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, 'must be a service id'),
]);

/** The container address of a service in the cell network. */
export function serviceAddress(ipRange: string, offset: number): string {
  return formatIpv4(cidrRange(ipRange).first + offset);
}
