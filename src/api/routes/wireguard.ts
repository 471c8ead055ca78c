// The spec's WireGuard endpoints: interface status with per-peer handshake and traffic, and the
// peer list/add under /api/wireguard/peers (the same use-case as /api/peers).
import { z } from 'zod';
import { wireguardPeerStatus, wireguardStatus } from '../../schema/wireguard-status.ts';
import { ADMIN, defineRoute } from '../route.ts';
import { addPeer } from './peers.ts';

export const wireguardRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/wireguard/status',
    access: ADMIN,
    tag: 'wireguard',
    summary:
      'Interface state, listen port, the endpoint peers dial with its source and warnings (a private address, not this host, a name that does not resolve), and per-peer handshake age and rx/tx',
    response: wireguardStatus,
    handler: ({ deps }) => deps.peers.status(),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/wireguard/peers',
    access: ADMIN,
    tag: 'wireguard',
    summary: 'WireGuard peers with their live state',
    response: z.array(wireguardPeerStatus),
    handler: async ({ deps }) => (await deps.peers.status()).peers,
  }),
  defineRoute({
    method: 'POST',
    url: '/api/wireguard/peers',
    access: ADMIN,
    tag: 'wireguard',
    summary: 'Add a peer (same as POST /api/peers)',
    ...addPeer,
  }),
];
