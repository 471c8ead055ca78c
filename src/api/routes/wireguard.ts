// The spec's WireGuard endpoints: interface status with per-peer handshake and traffic, and the
// peer list/add under /api/wireguard/peers (the same use-case as /api/peers).
import { z } from 'zod';
import { ADMIN, defineRoute } from '../route.ts';
import { addPeer } from './peers.ts';

const wgPeer = z.object({
  name: z.string(),
  address: z.string(),
  public_key: z.string(),
  enabled: z.boolean(),
  connected: z.boolean(),
  endpoint: z.string().nullable(),
  latest_handshake: z.string().nullable(),
  handshake_age_s: z.number().nullable(),
  rx: z.number(),
  tx: z.number(),
});

export const wireguardRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/wireguard/status',
    access: ADMIN,
    tag: 'wireguard',
    summary: 'Interface state, listen port, public endpoint, and per-peer handshake age and rx/tx',
    response: z.object({
      interface: z.string(),
      running: z.boolean(),
      pending: z.boolean(),
      public_key: z.string(),
      address: z.string(),
      listen_port: z.number(),
      endpoint: z.string(),
      peers: z.array(wgPeer),
    }),
    handler: ({ deps }) => deps.peers.status(),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/wireguard/peers',
    access: ADMIN,
    tag: 'wireguard',
    summary: 'WireGuard peers with their live state',
    response: z.array(wgPeer),
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
