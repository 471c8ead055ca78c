// The spec's peer endpoints (/api/peers...), plus what wg-easy users value: traffic, one-time config
// links, and the peer's own dashboard (/api/peer/me). Handlers are one call into PeersService each.
// QR codes are made here, from the config text, only by the routes that answer with one: core never
// makes them, and `POST /api/peers?qr=false` (what scripts and the CLI want) skips it on the hot path.
import QRCode from 'qrcode';
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
import { warningSchema } from '../../schema/warnings.ts';
import { ADMIN, defineRoute, type RouteContext } from '../route.ts';

const applyView = z.object({
  applied: z.boolean(),
  data_plane: z.enum(['running', 'not_running']),
  warnings: z.array(warningSchema),
  /** Why a running data plane did not take the change: it is stored, and retried within seconds. */
  error: z.string().optional(),
});

/** The QR code of a config as an SVG data URL (scan with the WireGuard app). */
async function qrDataUrl(config: string): Promise<string> {
  const svg = await QRCode.toString(config, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

export const createPeerQuery = z
  .object({
    /** false: answer without the QR code (saves making it; GET /api/peers/{name}/config has it). */
    qr: z.enum(['true', 'false']).default('true'),
  })
  .strict();

export const createPeerResponse = z.object({
  peer: peerView,
  config: z.string(),
  /** QR code of `config` (SVG data URL); absent when asked with ?qr=false. */
  qr: z.string().optional(),
  /** The generated login password, present only in this answer and only when none was supplied. */
  password: z.string().optional(),
  apply: applyView,
});

/** Adding a peer; also served at POST /api/wireguard/peers, the spec's second name for it. */
export const addPeer = {
  body: createPeerSchema,
  query: createPeerQuery,
  response: createPeerResponse,
  status: 201,
  handler: async ({
    deps,
    body,
    query,
    req,
  }: Pick<
    RouteContext<CreatePeerInput, z.infer<typeof createPeerQuery>, unknown>,
    'deps' | 'body' | 'query' | 'req'
  >) => {
    req.auditTarget = `name=${body.name}`;
    const created = await deps.peers.create(body);
    if (query.qr === 'false') return created;
    return { ...created, qr: await qrDataUrl(created.config) };
  },
} as const;

export const peerRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/grantable-services',
    access: ADMIN,
    tag: 'peers',
    summary:
      'What a peer may be granted: the core services, then each installed store service by id (its virtual IP)',
    response: z.array(z.object({ id: z.string(), label: z.string(), store: z.boolean() })),
    handler: ({ deps }) => deps.peers.grantable(),
  }),
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
    handler: async ({ deps, params }) => {
      const exported = deps.peers.exportConfig(params.name);
      return { ...exported, qr: await qrDataUrl(exported.config) };
    },
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
    summary:
      'A one-time link that serves the config once, for `minutes` (default 60); 409 for a disabled or ' +
      'expired peer',
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
    summary:
      'Serves a peer config once through a one-time link (rate-limited per source address); 409, and ' +
      'the link is not spent, while its peer is disabled or expired',
    params: configLinkParams,
    handler: async ({ deps, params, source, reply }) => {
      const { name, config } = deps.peers.redeemLink(params.token, source);
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
    whileDisabled: true,
    tag: 'peers',
    summary:
      "The logged-in peer's own record, config and QR code (nothing of anyone else); a disabled or " +
      'expired peer gets its record with `disabled: true` and no config',
    response: z.object({
      peer: peerView,
      /** The peer is disabled or expired: no config, no QR, until the owner enables it again. */
      disabled: z.boolean(),
      config: z.string().optional(),
      qr: z.string().optional(),
      has_private_key: z.boolean(),
    }),
    handler: async ({ deps, session }) => {
      const name = session!.username;
      const peer = deps.peers.get(name);
      if (session!.disabled === true) return { peer, disabled: true, has_private_key: peer.has_private_key };
      const exported = deps.peers.exportConfig(name);
      return { peer, disabled: false, ...exported, qr: await qrDataUrl(exported.config) };
    },
  }),
];
