// Caddy's servers for the installed store services (ADR 0023): per service, an HTTPS server and an
// HTTP one on its own front ports, bound to Caddy's cell-network address only (cell-wireguard DNATs a
// peer's <virtual IP>:443/:80 there; a store container on a service network Caddy joined cannot dial
// them). The HTTPS server serves only that service's names with the cell's certificate, proxies every
// method (PROPFIND, REPORT, MKCOL, MOVE, COPY...) and every header (Destination, Depth, If) untouched,
// and adds the cell's security headers except the API's CSP, which would break a service's own pages.
// Any other name on those ports gets 421: a service's server never answers for another's name.
import { z } from 'zod';
import { dnsLabel, domainName, ipv4, port } from '../../schema/fields.ts';
import { SECURITY_HEADERS } from '../../schema/security-headers.ts';
import { type CaddyServer, caddyHeaders } from './front-door-headers.ts';

/**
 * `<prefix>cell-<id>_<container>:<port>`: a store container's name only (storeContainerName), so a
 * route can never send Caddy to cell-api, an address or a name outside the store.
 */
const upstream = z
  .string()
  .max(140)
  .regex(/^[a-z0-9-]{0,20}cell-[a-z0-9-]+_[a-z0-9-]+:\d{1,5}$/, 'must be a store container and port')
  .refine(
    (v) => port.safeParse(Number(v.slice(v.lastIndexOf(':') + 1))).success,
    'must be a store container and port',
  );

export const storeSite = z
  .object({
    id: dnsLabel,
    virtualIp: ipv4,
    ports: z.object({ https: port, http: port }).strict(),
    hosts: z
      .array(z.object({ label: dnsLabel, host: domainName, upstream, address: ipv4.optional() }).strict())
      .min(1)
      .max(16),
    // Where cell-wireguard answers for the site (the firewall's business; Caddy listens on its own ports).
    addresses: z.array(ipv4).max(16).optional(),
  })
  .strict();

/** A store site as Caddy takes it (schema/store-sites.ts's StoreSite, checked). */
export type CaddyStoreSite = z.infer<typeof storeSite>;

/**
 * The cell's security headers minus the CSP (a service's pages load their own scripts and styles),
 * with a resource policy of `same-site`: the cell's UI at <domain> may load what a service serves.
 */
export const STORE_HEADERS = caddyHeaders(
  Object.fromEntries(
    Object.entries({ ...SECURITY_HEADERS, 'cross-origin-resource-policy': 'same-site' }).filter(
      ([k]) => k !== 'content-security-policy',
    ),
  ),
);

const misdirected = {
  handle: [{ handler: 'static_response', status_code: 421, body: 'Misdirected Request' }],
  terminal: true,
};

type MakeServer = (listen: string[], routes: unknown[], extra?: Record<string, unknown>) => CaddyServer;

export function storeServers(
  caddyAddress: string,
  sites: readonly CaddyStoreSite[],
  server: MakeServer,
  certTag: string,
): Record<string, CaddyServer> {
  const out: Record<string, CaddyServer> = {};
  for (const s of sites) {
    const names = s.hosts.map((h) => h.host);
    out[`store-${s.id}-https`] = server(
      [`${caddyAddress}:${s.ports.https}`],
      [
        ...s.hosts.map((h) => ({
          match: [{ host: [h.host] }],
          handle: [
            { handler: 'headers', response: { add: STORE_HEADERS } },
            // Host, Destination and every method reach the service as the client sent them.
            { handler: 'reverse_proxy', upstreams: [{ dial: h.upstream }] },
          ],
          terminal: true,
        })),
        misdirected,
      ],
      {
        // As the front door: the cell's certificate whatever the SNI; a wrong name then gets 421.
        tls_connection_policies: [{ certificate_selection: { any_tag: [certTag] } }],
        protocols: ['h1', 'h2'],
      },
    );
    out[`store-${s.id}-http`] = server(
      [`${caddyAddress}:${s.ports.http}`],
      [
        {
          // The host matched one of the service's names, so it is safe to echo into Location; the
          // peer reached <virtual IP>:80, so https is <virtual IP>:443, the default port.
          match: [{ host: names }],
          handle: [
            {
              handler: 'static_response',
              status_code: 308,
              headers: { Location: ['https://{http.request.host}{http.request.uri}'] },
            },
          ],
          terminal: true,
        },
        misdirected,
      ],
    );
  }
  return out;
}
