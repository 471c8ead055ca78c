// Caddy's JSON config for cell-caddy (config/caddy/caddy.json): one server on :80 and :8081 that
// proxies /api, /api/* and /health to cell-api and serves the built UI from /srv/www with an
// index.html fallback, with the API's security headers (see front-door-headers.ts). Caddy starts from this file; cell-api later loads changes through the admin
// API (POST /load), which replaces the admin block too, so the block is part of every render.
//
// Who may reach the admin API: it listens on the container's own cell-network address only (never
// 0.0.0.0, and no host port is published for it), and Caddy rejects requests whose Host is not in
// `origins` (DNS rebinding). Only containers on cell-network can route to it; in practice cell-api.
//
// Values are emitted with JSON.stringify, so no value can change the document's structure; the
// allow-lists below also keep out Caddy placeholders ({env.HOME}), which Caddy would expand.
import { z } from 'zod';
import { dnsLabel, ipv4, port } from '../../schema/fields.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';
import { type CaddyServer, UI_HEADERS, withFrontDoorHeaders } from './front-door-headers.ts';

export interface CaddyConfigInput {
  /** ip:port of the admin API: the container's cell-network address. */
  adminListen: string;
  /** host:port values the admin API accepts as Host. */
  adminOrigins: readonly string[];
  /** ip:port of cell-api. */
  apiUpstream: string;
}

const hostPort = (host: z.ZodType<string>) =>
  z
    .string()
    .regex(/^[a-z0-9.-]+:\d{1,5}$/, 'must be host:port')
    .refine((v) => {
      const at = v.lastIndexOf(':');
      const h = v.slice(0, at);
      // 0.0.0.0 is "every address": never what the admin API, its origins or the upstream should be.
      return h !== '0.0.0.0' && host.safeParse(h).success && port.safeParse(Number(v.slice(at + 1))).success;
    }, 'must be host:port');

const input = z
  .object({
    adminListen: hostPort(ipv4),
    adminOrigins: z
      .array(hostPort(z.union([ipv4, dnsLabel])))
      .min(1)
      .max(4),
    apiUpstream: hostPort(ipv4),
  })
  .strict();

export function renderCaddyConfig(raw: CaddyConfigInput): Rendered {
  const i = must(input, raw, 'the Caddy config');
  const config = {
    admin: { listen: i.adminListen, origins: i.adminOrigins },
    logging: {
      logs: { default: { level: 'INFO', writer: { output: 'stderr' }, encoder: { format: 'json' } } },
    },
    apps: {
      http: {
        servers: withFrontDoorHeaders<Record<string, CaddyServer>>({
          cell: {
            listen: [':80', ':8081'],
            // The base config never talks to an ACME CA.
            automatic_https: { disable: true },
            routes: [
              {
                // /metrics: Prometheus scrapes through the front door (the API checks its bearer token).
                match: [{ path: ['/api', '/api/*', '/health', '/metrics'] }],
                // No header handler here: cell-api's own headers (security, no-store) pass untouched.
                handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: i.apiUpstream }] }],
                terminal: true,
              },
              {
                handle: [
                  {
                    handler: 'subroute',
                    routes: [
                      { handle: [{ handler: 'vars', root: '/srv/www' }] },
                      {
                        // Client-side routes of the UI fall back to index.html.
                        match: [{ file: { try_files: ['{http.request.uri.path}', '/index.html'] } }],
                        handle: [{ handler: 'rewrite', uri: '{http.matchers.file.relative}' }],
                      },
                      {
                        handle: [
                          // The UI's files carry the API's security headers; their caching is Caddy's
                          // (ETag, Last-Modified), untouched.
                          { handler: 'headers', response: { set: UI_HEADERS } },
                          { handler: 'encode', encodings: { zstd: {}, gzip: {} }, prefer: ['zstd', 'gzip'] },
                          { handler: 'file_server' },
                        ],
                      },
                    ],
                  },
                ],
              },
            ],
          },
        }),
      },
    },
  };
  return { output: `${JSON.stringify(config, null, 2)}\n`, warnings: [] };
}
