// The two Caddy configs the HTTPS benchmark compares, both loading the same certificate files:
// - cell: renderCaddyConfig's output for local mode, as cell-caddy runs it, with only what loopback
//   needs changed (as src/front-door.int.test.ts does): listen addresses, the admin socket, the
//   certificate and UI paths. Its https server keeps the front door routes (API matcher with HSTS;
//   the UI: the security headers and HSTS, file_server of the precompressed files with pass_thru,
//   the index.html fallback); the front door has no access log (ADR 0018), Caddy's own log stays.
// - bare: one server, the same TLS policy and protocols, a file_server of the same directory; no
//   headers, no encode, no access log.
// Variants of the cell config (BENCH_HTTPS_TOGGLES=1): without the headers, to see what they cost,
// and the front door as it was before (with its access log), to measure that change in one run.
import { CELL_CERT_TAG, renderCaddyConfig } from '../../src/render/caddy/caddy-config.ts';
import { CADDY_ADMIN_HOST, CADDY_ADMIN_SOCKET, CADDY_TLS_DIR } from '../../src/schema/runtime.ts';

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
      // The same admin origin as the cell's (the benchmark reads Go's memory statistics through it).
      admin: { listen: `unix/${p.adminSocket}`, origins: [CADDY_ADMIN_HOST] },
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

/**
 * The front door as it was before 2026-12-04's second session: every server with an access log
 * (`logs`), the UI's files exempted by `vars` `skip_log` (which Caddy 2.6 still pays the access
 * logger's encoding and response recorder for). Kept to measure the change in the same run.
 */
function withAccessLog(c: unknown): unknown {
  const servers = (c as { apps: { http: { servers: Record<string, Json> } } }).apps.http.servers;
  for (const s of Object.values(servers)) {
    s.logs = {};
    for (const r of s.routes as Array<{ match?: unknown; handle: Json[] }>)
      if (!r.match && r.handle.some((h) => h.handler === 'file_server'))
        r.handle.unshift({ handler: 'vars', skip_log: true });
  }
  return c;
}

/** The default log with Caddy's plain JSON encoder instead of the filter around it. */
function withPlainLog(c: unknown): unknown {
  const logs = (c as { logging: { logs: Record<string, { encoder: unknown }> } }).logging.logs;
  for (const l of Object.values(logs)) l.encoder = { format: 'json' };
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
    // The control: the cell's config unchanged, loaded like the toggles (GET / only). Twice the cell's
    // row was above every toggle (124–131 against 97–112 µs/req, 2026-12-04); with the control in the
    // same rounds it was not (88 and 89): a toggle's difference means something only beside this row's.
    name: 'cell (control: same config, GET / only)',
    config: (text) => text,
  },
  {
    name: 'cell, no headers (HSTS, UI)',
    config: (text) => JSON.stringify(stripHandlers(JSON.parse(text), (h) => h.handler === 'headers')),
  },
  {
    // Caddy 2.6 encodes every request into each log's encoder up front (the error logger's With),
    // so the filter encoder's per-field work is paid on every request: what that costs.
    name: 'cell, log without the filter encoder (plain JSON)',
    config: (text) => JSON.stringify(withPlainLog(JSON.parse(text))),
  },
  {
    name: 'cell as before (access log, skip_log for the UI)',
    config: (text) => JSON.stringify(withAccessLog(JSON.parse(text))),
  },
];
