// The response headers every page and API answer of the cell carries, whoever serves it: the API
// (src/api/app.ts, on every request) and cell-caddy in front of the UI (src/render/caddy/). One pure
// constant here, in the innermost ring, so both import the same values and cannot drift apart.

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * HSTS, sent only by a server that speaks HTTPS (a browser ignores it over HTTP, and sending it from a
 * cell reached by IP on the LAN would mean nothing). One year; no includeSubDomains or preload: the
 * cell's domain may be a local name whose other hosts the owner does not serve over HTTPS.
 */
export const HSTS_HEADER = { 'strict-transport-security': 'max-age=31536000' } as const;
