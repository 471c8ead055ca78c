// The DNS blocklists (ADR 0020; beyond the spec, what Pi-hole and AdGuard Home users expect): lists
// from URLs or uploaded files, answered NXDOMAIN to the peers with blocking on (a peer's
// `blocklists` field, PUT /api/peers/:name). Admin only; each handler is one call into
// BlocklistService. Audit rows name the list (its id, or the URL's host), never a whole URL.
import { z } from 'zod';
import {
  BLOCKLIST_MAX_BYTES,
  blocklistIdParams,
  blocklistStatsQuery,
  blocklistStatsView,
  blocklistView,
  createBlocklistSchema,
  updateBlocklistSchema,
  uploadQuery,
} from '../../schema/blocklists.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const blocklistRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/dns/blocklists',
    access: ADMIN,
    tag: 'dns',
    summary: 'The blocklists: source, enabled, names, invalid lines, last fetch and its error',
    response: z.array(blocklistView),
    handler: ({ deps }) => deps.blocklists.list(),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/dns/blocklists',
    access: ADMIN,
    tag: 'dns',
    summary:
      'Add a list by URL (http or https, hosts format or one name a line); fetched now and daily. ' +
      'A failed fetch keeps the list with its error',
    body: createBlocklistSchema,
    response: blocklistView,
    status: 201,
    handler: ({ deps, body, req }) => {
      req.auditTarget = `host=${new URL(body.url).host}`;
      return deps.blocklists.addUrl(body.url);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/dns/blocklists/upload',
    access: ADMIN,
    tag: 'dns',
    summary: `Upload a list file as the raw body (application/octet-stream or text/plain, at most ${BLOCKLIST_MAX_BYTES / 1024 / 1024} MB)`,
    query: uploadQuery,
    rawBody: { maxBytes: BLOCKLIST_MAX_BYTES },
    response: blocklistView,
    status: 201,
    handler: ({ deps, query, body, req }) => {
      req.auditTarget = `upload=${query.name}`;
      return deps.blocklists.upload(query.name, body as unknown as Buffer);
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/dns/blocklists/refresh',
    access: ADMIN,
    tag: 'dns',
    summary: 'Fetch every URL list now',
    response: z.array(blocklistView),
    handler: ({ deps }) => deps.blocklists.refresh(),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/dns/blocklists/stats',
    // Admin only: which names a peer's devices asked for is the peer's private business; a peer
    // account does not see its own counts either (ADR 0020, amendment).
    access: ADMIN,
    tag: 'dns',
    summary:
      'Names blocked, peers blocking, and the queries blocked per peer and in total over a window ' +
      '(24h, 7d or 30d, from the last reset at most) with the names blocked most',
    query: blocklistStatsQuery,
    response: blocklistStatsView,
    handler: ({ deps, query }) => deps.blocklists.stats(query.window),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/dns/blocklists/stats/reset',
    access: ADMIN,
    tag: 'dns',
    summary: 'Forget the per-peer blocked-query counts (204): counting starts again now',
    status: 204,
    handler: async ({ deps }) => {
      await deps.blocklists.resetStats();
    },
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/dns/blocklists/:id',
    access: ADMIN,
    tag: 'dns',
    summary: 'Enable or disable a list',
    params: blocklistIdParams,
    body: updateBlocklistSchema,
    response: blocklistView,
    handler: ({ deps, params, body }) => deps.blocklists.setEnabled(params.id, body.enabled),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/dns/blocklists/:id',
    access: ADMIN,
    tag: 'dns',
    summary: 'Remove a list (204); its names stop being blocked at once',
    params: blocklistIdParams,
    status: 204,
    handler: async ({ deps, params }) => {
      await deps.blocklists.remove(params.id);
    },
  }),
];
