// Caddy's JSON config for cell-caddy (config/caddy/caddy.json). The front door proxies /api, /api/*,
// /health, /metrics and mail autoconfig (/.well-known/autoconfig/*, and /mail/config-v1.1.xml for
// the name autoconfig.<domain>) to cell-api and serves the built UI from /srv/www with an index.html fallback,
// with the API's security headers (see front-door-headers.ts), and the UI's files compressed at build
// time (web/precompress.ts; `precompressed`), never per request. Caddy starts from this file; cell-api
// later loads changes through the admin API (POST /load), which replaces the admin block too, so the
// block is part of every render.
//
// Servers:
// - without HTTPS (no certificate for the mode yet): `cell` on :80 and :8081, plain, as before;
// - with HTTPS (local mode, the cell CA's certificate; ADR 0018): `cell` on :8081 (plain, the LAN's
//   first-run address), `http` on :80 (the cell's names redirect to https, anything else, e.g. the
//   host's IP, still gets the front door) and `https` on :443 with HSTS on every answer.
// Automatic HTTPS is disabled on every server and the TLS app has no automation policy: Caddy never
// asks a public CA (ACME) for anything; it only loads the files cell-api wrote.
//
// The admin API listens on a unix socket in a directory only cell-caddy and cell-api mount: no
// other container on the cell network can reach it. Caddy still checks the Host header against
// `origins` (one fixed name), so a request relayed by something else is refused.
//
// Logs: one log, JSON on stderr (docker logs), for Caddy's own lines and the access lines alike,
// without the query string and without any header (cookies, Authorization, CSRF tokens, Set-Cookie
// never reach a log line, an error line's request included). One log on purpose: each log is a zap
// core, and Caddy 2.6 encodes every request into every core up front (its error logger's and access
// logger's `With`), whatever the core's include/exclude and even when the line is skipped; two logs
// (Caddy's own, the access lines) cost twice that on every UI request (the HTTPS benchmark,
// docs/performance.md).
// Access lines come from the store services' servers, where Caddy's line is the only record of a
// request. The front door's servers write none: what they do not answer from the UI's files (which
// had no access line anyway) they proxy to cell-api, which logs every request itself (method, route,
// status, duration, the client's address; api.log, the logs page), so Caddy's lines were copies, and
// the access logger's request encoding and response recorder cost every UI request ~5 µs and 29
// allocations (docs/performance.md). Errors (a 502 when cell-api is down) are still Caddy's own lines.
//
// Store services (ADR 0023): with HTTPS, each installed service gets two servers of its own on Caddy's
// cell-network address, on ports no other site uses (schema/store-sites.ts): cell-wireguard DNATs a
// peer's <virtual IP>:443 and :80 there. The HTTPS one serves the service's names with the cell's
// certificate (it names `*.<domain>`) and proxies every method and header untouched (WebDAV, CalDAV);
// the HTTP one redirects those names to https. The front door's servers never route a service's name.
//
// Values are emitted with JSON.stringify, so no value can change the document's structure; the
// allow-lists below also keep out Caddy placeholders ({env.HOME}), which Caddy would expand.
import { z } from 'zod';
import { domainName, ipv4, port } from '../../schema/fields.ts';
import { CADDY_ADMIN_HOST } from '../../schema/runtime.ts';
import { HSTS_HEADER } from '../../schema/security-headers.ts';
import type { StoreSite } from '../../schema/store-sites.ts';
import { must } from '../common/guards.ts';
import type { Rendered } from '../common/rendered.ts';
import {
  type CaddyHeaders,
  type CaddyServer,
  caddyHeaders,
  UI_HEADERS,
  withFrontDoorHeaders,
} from './front-door-headers.ts';
import { storeServers, storeSite } from './store-servers.ts';

export interface CaddyConfigInput {
  /** Absolute path of the admin API's unix socket inside cell-caddy. */
  adminSocket: string;
  /** ip:port of cell-api. */
  apiUpstream: string;
  /** HTTPS for the cell's names with a certificate cell-api delivers; absent: plain HTTP only. */
  https?: {
    /** The cell's domain: served as itself and `*.<domain>`. */
    domain: string;
    /** Certificate chain (leaf first) and private key files, as cell-caddy sees them. */
    certFile: string;
    keyFile: string;
    /** The host port 443 is published on: redirects name it when it is not 443. */
    publicPort: number;
  };
  /** Installed store services (storeSites) and Caddy's own cell-network address they listen on. */
  store?: { caddyAddress: string; sites: readonly StoreSite[] };
  /**
   * Caddy's cell-network address: the front door (UI, API, redirects) listens there only, where
   * Docker's published ports arrive, and not on the store services' networks Caddy also joins, so
   * a service's container can never reach the API or the UI through Caddy (issue 12). Absent: every
   * address (outside the cell).
   */
  frontDoorAddress?: string;
}

/** The tag of the certificate cell-api delivers; the connection policy serves it for any SNI. */
export const CELL_CERT_TAG = 'pic-cell';

/** Where cell-caddy's image holds the built UI (images/cell-caddy/Dockerfile). */
const UI_ROOT = '/srv/www';

const hostPort = (host: z.ZodType<string>) =>
  z
    .string()
    .regex(/^[a-z0-9.-]+:\d{1,5}$/, 'must be host:port')
    .refine((v) => {
      const at = v.lastIndexOf(':');
      const h = v.slice(0, at);
      // 0.0.0.0 is "every address": never what the upstream should be.
      return h !== '0.0.0.0' && host.safeParse(h).success && port.safeParse(Number(v.slice(at + 1))).success;
    }, 'must be host:port');

/** An absolute path of plain segments under `under`, ending in `ext`: no `..`, no placeholder, no space. */
const pathIn = (under: string, ext: string) =>
  z
    .string()
    .max(200)
    .regex(/^(\/[a-z0-9_-][a-z0-9._-]*)+$/, 'must be an absolute path of plain segments')
    .refine((p) => p.startsWith(under) && p.endsWith(ext) && !p.split('/').includes('..'), {
      message: `must be a ${ext} file under ${under}`,
    });

const input = z
  .object({
    adminSocket: pathIn('/run/', '.sock'),
    apiUpstream: hostPort(ipv4),
    https: z
      .object({
        domain: domainName,
        certFile: pathIn('/etc/pic/', '.pem'),
        keyFile: pathIn('/etc/pic/', '.pem'),
        publicPort: port,
      })
      .strict()
      .optional(),
    store: z
      .object({ caddyAddress: ipv4, sites: z.array(storeSite).max(256) })
      .strict()
      .optional(),
    frontDoorAddress: ipv4.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const hosts = new Set<string>();
    const ports = new Set<number>([80, 443, 8081]);
    for (const s of v.store?.sites ?? []) {
      for (const p of [s.ports.https, s.ports.http]) {
        if (ports.has(p)) ctx.addIssue({ code: 'custom', message: `port ${p} is used twice` });
        ports.add(p);
      }
      for (const h of s.hosts) {
        if (
          v.https &&
          (!h.host.endsWith(`.${v.https.domain}`) ||
            h.host.slice(0, -v.https.domain.length - 1).includes('.'))
        )
          ctx.addIssue({
            code: 'custom',
            message: `${h.host} is not a name directly under the cell's domain`,
          });
        if (hosts.has(h.host)) ctx.addIssue({ code: 'custom', message: `${h.host} is served twice` });
        hosts.add(h.host);
      }
    }
  });

/** Every line (access lines and Caddy's own): no query string, no request or response header. */
const LOG_ENCODER = {
  format: 'filter',
  wrap: { format: 'json' },
  fields: {
    'request>uri': { filter: 'regexp', regexp: '\\?.*$', value: '' },
    'request>headers': { filter: 'delete' },
    resp_headers: { filter: 'delete' },
  },
};

export function renderCaddyConfig(raw: CaddyConfigInput): Rendered {
  const i = must(input, raw, 'the Caddy config');
  const domain = i.https?.domain;
  const frontDoor = frontDoorRoutes(i.apiUpstream, {}, domain);
  // ACME HTTP-01: the CA asks http://<domain>/.well-known/acme-challenge/<token> on port 80, before
  // any redirect; cell-api answers for the orders it has in progress (ADR 0019).
  const acmeChallenge = {
    match: [{ path: ['/.well-known/acme-challenge/*'] }],
    handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: i.apiUpstream }] }],
    terminal: true,
  };
  // Every server: no automatic HTTPS (no ACME, no implicit redirects). Access lines: store services only.
  const frontDoorServer = (
    listen: string[],
    routes: unknown[],
    extra: Record<string, unknown> = {},
  ): CaddyServer => ({
    listen,
    automatic_https: { disable: true },
    ...extra,
    routes,
  });
  const storeServer = (listen: string[], routes: unknown[], extra: Record<string, unknown> = {}) => ({
    ...frontDoorServer(listen, routes, extra),
    logs: {},
  });
  const on = (port: string) => `${i.frontDoorAddress ?? ''}${port}`;
  let servers: Record<string, CaddyServer>;
  let tls: unknown;
  if (!i.https) {
    servers = { cell: frontDoorServer([on(':80'), on(':8081')], [acmeChallenge, ...frontDoor]) };
  } else {
    const { domain, certFile, keyFile, publicPort } = i.https;
    const names = [domain, `*.${domain}`];
    const suffix = publicPort === 443 ? '' : `:${publicPort}`;
    servers = {
      cell: frontDoorServer([on(':8081')], frontDoor),
      http: frontDoorServer(
        [on(':80')],
        [
          acmeChallenge,
          {
            // The host matched one of the cell's names, so it is safe to echo into Location.
            match: [{ host: names }],
            handle: [
              {
                handler: 'static_response',
                status_code: 308,
                headers: { Location: [`https://{http.request.host}${suffix}{http.request.uri}`] },
              },
            ],
            terminal: true,
          },
          ...frontDoor,
        ],
      ),
      // HSTS on every answer of the front door over HTTPS, API included (front-door-headers.ts).
      https: frontDoorServer(
        [on(':443')],
        frontDoorRoutes(i.apiUpstream, caddyHeaders(HSTS_HEADER), domain),
        {
          // The cell's certificate whatever the SNI (a client that dials an IP still gets a chain).
          tls_connection_policies: [{ certificate_selection: { any_tag: [CELL_CERT_TAG] } }],
          // h1 and h2 over TCP only: no UDP listener for HTTP/3, whose port is not published.
          protocols: ['h1', 'h2'],
        },
      ),
      ...(i.store
        ? withFrontDoorHeaders(storeServers(i.store.caddyAddress, i.store.sites, storeServer, CELL_CERT_TAG))
        : {}),
    };
    tls = {
      certificates: {
        load_files: [{ certificate: certFile, key: keyFile, format: 'pem', tags: [CELL_CERT_TAG] }],
      },
    };
  }
  const config = {
    admin: { listen: `unix/${i.adminSocket}`, origins: [CADDY_ADMIN_HOST] },
    // One log, no include/exclude: one zap core (see the header).
    logging: {
      logs: {
        default: { level: 'INFO', writer: { output: 'stderr' }, encoder: LOG_ENCODER },
      },
    },
    apps: {
      http: { servers },
      ...(tls ? { tls } : {}),
    },
  };
  const warnings =
    !i.https && i.store?.sites.length
      ? [{ path: 'store', message: 'no HTTPS for the cell yet: the store services are not served' }]
      : [];
  return { output: `${JSON.stringify(config, null, 2)}\n`, warnings };
}

/** The UI's precompressed copies (web/precompress.ts writes them at build time), best first. */
const PRECOMPRESSED = {
  precompressed: { br: {}, zstd: {}, gzip: {} },
  precompressed_order: ['br', 'zstd', 'gzip'],
};

/**
 * The front door: the API, /health, /metrics and mail autoconfig proxied to cell-api; everything
 * else is the UI. Mail apps ask https://autoconfig.<domain>/mail/config-v1.1.xml, then
 * https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml: the second path is the API's on any
 * name, the first only on autoconfig.<domain> (elsewhere it stays a path of the UI). One matcher set
 * more on the same route keeps the front door flat.
 * Flat on purpose (the HTTPS benchmark, docs/performance.md): no subroute, no `try_files` (its stats
 * came before file_server's own), no placeholder, and nothing compressed per request.
 * `hsts`: the HTTPS server's header, set by each route's own headers handler (ADR 0018).
 */
function frontDoorRoutes(apiUpstream: string, hsts: CaddyHeaders = {}, domain?: string): unknown[] {
  const withHsts = Object.keys(hsts).length > 0;
  const ui = { handler: 'file_server', root: UI_ROOT, ...PRECOMPRESSED };
  return [
    {
      // /metrics: Prometheus scrapes through the front door (the API checks its bearer token).
      match: [
        { path: ['/api', '/api/*', '/health', '/metrics', '/.well-known/autoconfig/*'] },
        ...(domain ? [{ host: [`autoconfig.${domain}`], path: ['/mail/config-v1.1.xml'] }] : []),
      ],
      // No other header here: cell-api's own headers (security, no-store) pass untouched. Caddy
      // sets X-Forwarded-Proto, which cell-api believes from Caddy's address only (Secure cookies).
      // Not compressed: an API answer can hold a secret beside text the request chose (BREACH).
      handle: [
        ...(withHsts ? [{ handler: 'headers', response: { add: hsts } }] : []),
        { handler: 'reverse_proxy', upstreams: [{ dial: apiUpstream }] },
      ],
      terminal: true,
    },
    {
      handle: [
        // The UI's files carry the API's security headers (and HSTS over HTTPS) in one handler;
        // their caching is Caddy's (ETag, Last-Modified), untouched. `add`, not `set`: nothing
        // before it set these names, so the answer is the same, and Caddy 2.6's `set` copies each
        // value into a fresh slice on every request (8 of the front door's ~116 allocations per
        // file; docs/performance.md, HTTPS).
        { handler: 'headers', response: { add: { ...hsts, ...UI_HEADERS } } },
        // The file when it exists (its .br/.zst/.gz copy when the browser accepts one)...
        { ...ui, pass_thru: true },
        // ...otherwise a client-side route of the UI: index.html.
        { handler: 'rewrite', uri: '/index.html' },
        ui,
      ],
    },
  ];
}
