// The headers cell-caddy adds itself. The UI's files get the same security headers as the API
// answers (one source: schema/security-headers.ts); the API's own answers pass through untouched, so
// its `Cache-Control: no-store` on every private-key-bearing answer reaches the browser as it was
// sent. A server that speaks HTTPS also sends HSTS on every answer, API included (cell-api cannot
// know which scheme the browser used): the front door's HTTPS server adds it in one headers handler
// per route (caddy-config.ts: the UI's route adds it with the security headers, one handler per
// answer being the cheapest form), the store services' servers through withFrontDoorHeaders. Every
// headers handler adds rather than sets (Caddy 2.6's `set` copies each value twice) and runs first
// in its route, so nothing before it can have set the same names (render.test.ts checks both).
import { HSTS_HEADER, SECURITY_HEADERS } from '../../schema/security-headers.ts';

/** Caddy's header map: each field name to its list of values. */
export type CaddyHeaders = Record<string, string[]>;

/**
 * A header name in Go's canonical form (`content-security-policy` → `Content-Security-Policy`): Caddy
 * sets response headers through Go's Header.Set, which allocates a canonical copy of every name that
 * is not canonical already, on every answer. Same header on the wire (names are case-insensitive; h2
 * lowercases them).
 */
export const canonicalHeaderName = (name: string): string =>
  name
    .toLowerCase()
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('-');

export const caddyHeaders = (h: Readonly<Record<string, string>>): CaddyHeaders =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [canonicalHeaderName(k), [v]]));

/** What the UI's static files carry: exactly the API's security headers. */
export const UI_HEADERS: CaddyHeaders = caddyHeaders(SECURITY_HEADERS);

export interface CaddyServer {
  listen: string[];
  routes: unknown[];
  tls_connection_policies?: unknown[];
  [key: string]: unknown;
}

/** A server speaks HTTPS when it has TLS connection policies or listens on :443. */
export function isHttpsServer(s: CaddyServer): boolean {
  return s.tls_connection_policies !== undefined || s.listen.some((l) => /:443$/.test(l));
}

/** The servers with HSTS added, first and for every answer, to each that speaks HTTPS. */
export function withFrontDoorHeaders<S extends Record<string, CaddyServer>>(servers: S): S {
  const out: Record<string, CaddyServer> = {};
  for (const [name, s] of Object.entries(servers))
    out[name] = isHttpsServer(s)
      ? {
          ...s,
          routes: [
            { handle: [{ handler: 'headers', response: { add: caddyHeaders(HSTS_HEADER) } }] },
            ...s.routes,
          ],
        }
      : s;
  return out as S;
}
