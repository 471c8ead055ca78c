// The spec's peer endpoints (/api/peers...), plus what wg-easy users value: traffic, one-time config
// links, and the peer's own dashboard (/api/peer/me). Handlers are one call into PeersService each.
import { z } from 'zod';
import {
  type CreatePeerInput,
  configLinkBody,
  configLinkParams,
  createPeerSchema,
  peerConfigView,
  peerNameParams,
  peerView,
  trafficQuery,
  updatePeerSchema,
} from '../../schema/peers.ts';
import { ADMIN, defineRoute, type RouteContext } from '../route.ts';

const applyView = z.object({
  applied: z.boolean(),
  data_plane: z.enum(['running', 'not_running']),
  warnings: z.array(z.string()),
});

export const createPeerResponse = z.object({
  peer: peerView,
  config: z.string(),
  qr: z.string(),
  /** The generated login password, present only in this answer and only when none was supplied. */
  password: z.string().optional(),
  apply: applyView,
});

/** Adding a peer; also served at POST /api/wireguard/peers, the spec's second name for it. */
export const addPeer = {
  body: createPeerSchema,
  response: createPeerResponse,
  status: 201,
  handler: ({
    deps,
    body,
    req,
  }: Pick<RouteContext<CreatePeerInput, unknown, unknown>, 'deps' | 'body' | 'req'>) => {
    req.auditTarget = `name=${body.name}`;
    return deps.peers.create(body);
  },
} as const;

export const peerRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/peers',
    access: ADMIN,
    tag: 'peers',
    summary: 'Every peer (never a private or preshared key)',
    response: z.array(peerView),
    handler: ({ deps }) => deps.peers.list(),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/peers',
    access: ADMIN,
    tag: 'peers',
    summary:
      'Add a peer: keys (or its own public key), an address, access; applied live when the data plane runs',
    ...addPeer,
  }),
  defineRoute({
    method: 'GET',
    url: '/api/peers/:name',
    access: ADMIN,
    tag: 'peers',
    summary: 'One peer',
    params: peerNameParams,
    response: peerView,
    handler: ({ deps, params }) => deps.peers.get(params.name),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/peers/:name',
    access: ADMIN,
    tag: 'peers',
    summary: 'Change routing, access, enabled, expiry or public key of a peer',
    params: peerNameParams,
    body: updatePeerSchema,
    response: z.object({ peer: peerView, apply: applyView }),
    handler: ({ deps, params, body }) => deps.peers.update(params.name, body),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/peers/:name',
    access: ADMIN,
    tag: 'peers',
    summary: 'Remove a peer, its login and its tunnel',
    params: peerNameParams,
    response: z.object({ removed: z.string(), apply: applyView }),
    handler: async ({ deps, params }) => ({
      removed: params.name,
      apply: await deps.peers.remove(params.name),
    }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/peers/:name/config',
    auditRead: true,
    access: ADMIN,
    tag: 'peers',
    summary: "The peer's wg-quick config and its QR code (SVG data URL)",
    params: peerNameParams,
    response: peerConfigView,
    handler: ({ deps, params }) => deps.peers.exportConfig(params.name),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/peers/:name/traffic',
    access: ADMIN,
    tag: 'peers',
    summary: 'Received/sent byte counters of a peer over time (default: the last hour)',
    params: peerNameParams,
    query: trafficQuery,
    response: z.object({ samples: z.array(z.object({ ts: z.string(), rx: z.number(), tx: z.number() })) }),
    handler: ({ deps, params, query }) => ({ samples: deps.peers.traffic(params.name, query.since) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/peers/:name/config-link',
    access: ADMIN,
    tag: 'peers',
    summary: 'A one-time link that serves the config once, for `minutes` (default 60)',
    params: peerNameParams,
    body: configLinkBody,
    response: z.object({ url: z.string(), token: z.string(), expires_at: z.string() }),
    status: 201,
    handler: ({ deps, params, body }) => {
      const link = deps.peers.createLink(params.name, body.minutes);
      return { url: `/api/config-links/${link.token}`, ...link };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/config-links/:token',
    auditRead: true,
    access: 'public',
    tag: 'peers',
    summary: 'Serves a peer config once through a one-time link (rate-limited per source address)',
    params: configLinkParams,
    handler: async ({ deps, params, source, reply }) => {
      const { name, config } = await deps.peers.redeemLink(params.token, source);
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}.conf"`)
        .send(config);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/peer/me',
    auditRead: true,
    access: ['peer'],
    tag: 'peers',
    summary: "The logged-in peer's own record, config and QR code (nothing of anyone else)",
    response: z.object({ peer: peerView, config: z.string(), qr: z.string(), has_private_key: z.boolean() }),
    handler: async ({ deps, session }) => {
      const name = session!.username;
      return { peer: deps.peers.get(name), ...(await deps.peers.exportConfig(name)) };
    },
  }),
];
