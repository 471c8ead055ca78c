// The two Caddy configs the HTTPS benchmark compares, both loading the same certificate files:
// - cell: renderCaddyConfig's output for local mode, as cell-caddy runs it, with only what loopback
//   needs changed (as src/front-door.int.test.ts does): listen addresses, the admin socket, the
//   certificate and UI paths. Its https server keeps the front door routes (API matcher with HSTS;
//   the UI: skip_log, the security headers and HSTS, file_server of the precompressed files with
//   pass_thru, the index.html fallback) and its access log.
// - bare: one server, the same TLS policy and protocols, a file_server of the same directory; no
//   headers, no encode, no access log.
// Variants of the cell config (BENCH_HTTPS_TOGGLES=1) each drop one feature, to see what costs what,
// and the front door as it was before the UI was precompressed, to measure the change in one run.
import { CELL_CERT_TAG, renderCaddyConfig } from '../../src/render/caddy/caddy-config.ts';
import { CADDY_ADMIN_SOCKET, CADDY_TLS_DIR } from '../../src/schema/runtime.ts';

export interface Paths {
  domain: string;
  tlsDir: string;
  www: string;
  adminSocket: string;
}

export interface Ports {
  http: number;
  https: number;
  lan: number;
  api: number;
}

/** The rendered cell config, moved onto loopback ports and the benchmark's directories. */
export function cellConfig(p: Paths, ports: Ports): string {
  const rendered = renderCaddyConfig({
    adminSocket: CADDY_ADMIN_SOCKET,
    apiUpstream: `127.0.0.1:${ports.api}`,
    https: {
      domain: p.domain,
      certFile: `${CADDY_TLS_DIR}/cert.pem`,
      keyFile: `${CADDY_TLS_DIR}/key.pem`,
      publicPort: ports.https,
    },
  }).output;
  return rendered
    .replaceAll(`unix/${CADDY_ADMIN_SOCKET}`, `unix/${p.adminSocket}`)
    .replaceAll(`"${CADDY_TLS_DIR}/`, `"${p.tlsDir}/`)
    .replaceAll('"/srv/www"', JSON.stringify(p.www))
    .replaceAll('":80"', `"127.0.0.1:${ports.http}"`)
    .replaceAll('":443"', `"127.0.0.1:${ports.https}"`)
    .replaceAll('":8081"', `"127.0.0.1:${ports.lan}"`);
}

/** The reference: Caddy's file_server of the same directory with the same certificate, nothing else. */
export function bareConfig(p: Paths, port: number): string {
  return `${JSON.stringify(
    {
      admin: { listen: `unix/${p.adminSocket}` },
      apps: {
        http: {
          servers: {
            bare: {
              listen: [`127.0.0.1:${port}`],
              automatic_https: { disable: true },
              tls_connection_policies: [{ certificate_selection: { any_tag: [CELL_CERT_TAG] } }],
              protocols: ['h1', 'h2'],
              routes: [{ handle: [{ handler: 'file_server', root: p.www }] }],
            },
          },
        },
        tls: {
          certificates: {
            load_files: [
              {
                certificate: `${p.tlsDir}/cert.pem`,
                key: `${p.tlsDir}/key.pem`,
                format: 'pem',
                tags: [CELL_CERT_TAG],
              },
            ],
          },
        },
      },
    },
    null,
    2,
  )}\n`;
}

type Json = Record<string, unknown>;

/** Removes every handler `drop` matches from every `handle` list; a route left with none goes. */
function stripHandlers(node: unknown, drop: (h: Json) => boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => stripHandlers(n, drop)).filter((n) => n !== null);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === 'handle' && Array.isArray(v)) {
      const kept = v.filter((h) => !drop(h as Json)).map((h) => stripHandlers(h, drop));
      if (kept.length === 0) return null;
      out[k] = kept;
    } else out[k] = stripHandlers(v, drop);
  }
  return out;
}

/** The config with no server's `logs`: no access line at all. */
function withoutLogs(c: unknown): unknown {
  const servers = (c as { apps: { http: { servers: Record<string, Json> } } }).apps.http.servers;
  for (const s of Object.values(servers)) delete s.logs;
  return c;
}

/**
 * The front door as it was before the UI was precompressed (2026-12-03, second stop): a subroute with
 * `vars` (root, skip_log), `try_files` and its rewrite, then headers, `encode` (zstd, gzip) and
 * file_server; HSTS in a first route of its own. Kept to measure the change in the same run.
 */
function before(c: unknown): unknown {
  const servers = (c as { apps: { http: { servers: Record<string, Json> } } }).apps.http.servers;
  const https = servers.https as { routes: Json[] };
  const [api, ui] = https.routes as [Json, Json];
  const apiHandle = api.handle as Json[];
  const uiHandle = ui.handle as Json[];
  const set = { ...((uiHandle.find((h) => h.handler === 'headers')!.response as Json).set as Json) };
  const hsts = { 'strict-transport-security': set['strict-transport-security'] };
  delete set['strict-transport-security'];
  const root = uiHandle.find((h) => h.handler === 'file_server')!.root;
  https.routes = [
    { handle: [{ handler: 'headers', response: { set: hsts } }] },
    { ...api, handle: apiHandle.filter((h) => h.handler !== 'headers') },
    {
      handle: [
        {
          handler: 'subroute',
          routes: [
            { handle: [{ handler: 'vars', root, skip_log: true }] },
            {
              match: [{ file: { try_files: ['{http.request.uri.path}', '/index.html'] } }],
              handle: [{ handler: 'rewrite', uri: '{http.matchers.file.relative}' }],
            },
            {
              handle: [
                { handler: 'headers', response: { set } },
                { handler: 'encode', encodings: { zstd: {}, gzip: {} }, prefer: ['zstd', 'gzip'] },
                { handler: 'file_server' },
              ],
            },
          ],
        },
      ],
    },
  ];
  return c;
}

export interface Variant {
  name: string;
  config: (text: string) => string;
  /** Loaded with every request (not only GET /), like the cell and the reference. */
  all?: boolean;
}

/** The cell config with one feature taken out, for the side experiment (never what the cell runs). */
export const VARIANTS: Variant[] = [
  {
    name: 'cell, no access log',
    config: (text) => JSON.stringify(withoutLogs(JSON.parse(text))),
  },
  {
    name: 'cell, no headers (HSTS, UI)',
    config: (text) => JSON.stringify(stripHandlers(JSON.parse(text), (h) => h.handler === 'headers')),
  },
  {
    // What is left: the routes themselves (API matcher, vars, file_server, its fallback).
    name: 'cell, neither',
    config: (text) => {
      const c = stripHandlers(JSON.parse(text), (h) => h.handler === 'headers');
      return JSON.stringify(withoutLogs(c));
    },
  },
  {
    name: 'cell as before (try_files, encode per request)',
    config: (text) => JSON.stringify(before(JSON.parse(text))),
    all: true,
  },
];
