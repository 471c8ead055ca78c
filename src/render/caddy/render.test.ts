// Golden cases of Caddy's JSON config and its refusal of values that would change its meaning:
// line breaks and quotes, but also Caddy placeholders ({env.HOME}) that Caddy itself would expand.
// The front door's headers: the API's security headers on the UI, the API's own answers untouched,
// HSTS on HTTPS servers only. UPDATE_GOLDEN=1 rewrites the goldens (review the diff).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { CADDY_ADMIN_HOST } from '../../schema/runtime.ts';
import { HSTS_HEADER, SECURITY_HEADERS } from '../../schema/security-headers.ts';
import { goldenCases, testGoldens } from '../common/golden-kit.ts';
import { type CaddyConfigInput, renderCaddyConfig } from './caddy-config.ts';
import { canonicalHeaderName, isHttpsServer, withFrontDoorHeaders } from './front-door-headers.ts';

const dir = join(import.meta.dirname, 'golden');
testGoldens(dir, (input: CaddyConfigInput) => renderCaddyConfig(input).output);

const base = goldenCases(dir).find((c) => c.name === 'default-cell')!.input as CaddyConfigInput;
const storeCase = goldenCases(dir).find((c) => c.name === 'store-services')!.input as CaddyConfigInput;
const smuggle = [
  ...HOSTILE_STRINGS,
  '{env.HOME}:2019',
  '172.20.0.10:{env.PORT}',
  '{http.request.host}',
  '172.20.0.10:3000"},{"dial":"evil:1',
  '172.20.0.10:3000\n',
  'localhost',
  '172.20.0.10',
  '172.20.0.10:99999',
  '0.0.0.0:2019',
];
const https = base.https!;

test('every field refuses injection attempts and Caddy placeholders before rendering', () => {
  for (const bad of smuggle) {
    assert.throws(() => renderCaddyConfig({ ...base, adminSocket: bad }), /refusing to render/, bad);
    assert.throws(() => renderCaddyConfig({ ...base, apiUpstream: bad }), /refusing to render/, bad);
    // A dotted quad is a well-formed (if odd) domain name; everything else here is not.
    if (bad !== '172.20.0.10')
      assert.throws(
        () => renderCaddyConfig({ ...base, https: { ...https, domain: bad } }),
        /refusing to render/,
        bad,
      );
    assert.throws(
      () => renderCaddyConfig({ ...base, https: { ...https, certFile: bad } }),
      /refusing to render/,
      bad,
    );
    assert.throws(
      () => renderCaddyConfig({ ...base, https: { ...https, keyFile: bad } }),
      /refusing to render/,
      bad,
    );
  }
  for (const domain of [
    '{env.HOME}.cell',
    'x.{file./etc/shadow}',
    'a.cell\nb',
    'a"b.cell',
    'A.CELL',
    '*.cell',
  ])
    assert.throws(() => renderCaddyConfig({ ...base, https: { ...https, domain } }), /refusing to render/);
  assert.throws(
    () => renderCaddyConfig({ ...base, adminSocket: '/run/../etc/admin.sock' }),
    /refusing to render/,
  );
});

test('the admin API: a unix socket only, one accepted Host', () => {
  const c = JSON.parse(renderCaddyConfig(base).output) as { admin: Record<string, unknown> };
  assert.deepEqual(c.admin, { listen: `unix/${base.adminSocket}`, origins: [CADDY_ADMIN_HOST] });
  assert.doesNotMatch(renderCaddyConfig(base).output, /:2019/);
});

test('Caddy never asks a public CA: automatic HTTPS off on every server, no automation, no ACME', () => {
  for (const c of goldenCases(dir)) {
    const text = renderCaddyConfig(c.input as CaddyConfigInput).output;
    const cfg = JSON.parse(text) as { apps: { http: { servers: Record<string, Server> }; tls?: unknown } };
    for (const [name, s] of Object.entries(cfg.apps.http.servers))
      assert.deepEqual(
        (s as { automatic_https?: unknown }).automatic_https,
        { disable: true },
        `${c.name} ${name}`,
      );
    // The only ACME in the config is the HTTP-01 path proxied to cell-api (which is the ACME client).
    const withoutChallenge = text.replaceAll('/.well-known/acme-challenge/*', '');
    assert.doesNotMatch(withoutChallenge, /acme|zerossl|letsencrypt|automation|on_demand|issuer/i, c.name);
  }
});

test('HTTPS: the cell certificate from files for any SNI, :80 redirects the cell names only', () => {
  const s = serversOf(renderCaddyConfig(base).output);
  assert.deepEqual(Object.keys(s).sort(), ['cell', 'http', 'https']);
  assert.deepEqual(s.cell!.listen, [':8081']);
  assert.deepEqual(s.https!.listen, [':443']);
  // First the ACME HTTP-01 path, proxied to cell-api before any redirect.
  const challenge = s.http!.routes[0] as Route & { match: Array<{ path: string[] }> };
  assert.deepEqual(challenge.match, [{ path: ['/.well-known/acme-challenge/*'] }]);
  assert.deepEqual(challenge.handle, [{ handler: 'reverse_proxy', upstreams: [{ dial: base.apiUpstream }] }]);
  const redirect = s.http!.routes[1] as Route & { match: Array<{ host: string[] }> };
  assert.deepEqual(redirect.match, [{ host: ['mycell.cell', '*.mycell.cell'] }]);
  assert.deepEqual(redirect.handle[0], {
    handler: 'static_response',
    status_code: 308,
    headers: { Location: ['https://{http.request.host}{http.request.uri}'] },
  });
  // The rest of :80 (an IP, another name) is the plain front door, as on :8081.
  assert.deepEqual(s.http!.routes.slice(2), s.cell!.routes);
  const other = goldenCases(dir).find((c) => c.name === 'prefixed-cell')!.input as CaddyConfigInput;
  const loc = (serversOf(renderCaddyConfig(other).output).http!.routes[1] as Route).handle[0] as {
    headers: { Location: string[] };
  };
  assert.deepEqual(loc.headers.Location, ['https://{http.request.host}:8443{http.request.uri}']);
  const cfg = JSON.parse(renderCaddyConfig(base).output);
  assert.deepEqual(cfg.apps.tls.certificates.load_files, [
    { certificate: https.certFile, key: https.keyFile, format: 'pem', tags: ['pic-cell'] },
  ]);
  assert.deepEqual(s.https!.tls_connection_policies, [{ certificate_selection: { any_tag: ['pic-cell'] } }]);
});

test('access logs: JSON on stderr without query strings or any header, in one log (one zap core)', () => {
  const cfg = JSON.parse(renderCaddyConfig(base).output);
  // One log for Caddy's own lines and the access lines: Caddy 2.6 encodes every request into each
  // log's core up front, so a second log would double that cost on every request.
  assert.deepEqual(Object.keys(cfg.logging.logs), ['default']);
  const log = cfg.logging.logs.default;
  assert.equal(log.include, undefined);
  assert.equal(log.exclude, undefined);
  assert.equal(log.writer.output, 'stderr');
  assert.equal(log.encoder.format, 'filter');
  assert.equal(log.encoder.wrap.format, 'json');
  assert.deepEqual(log.encoder.fields['request>uri'], { filter: 'regexp', regexp: '\\?.*$', value: '' });
  assert.deepEqual(log.encoder.fields['request>headers'], { filter: 'delete' });
  assert.deepEqual(log.encoder.fields.resp_headers, { filter: 'delete' });
  // Access lines from the store services' servers only: the front door proxies all it does not
  // serve from the UI's files to cell-api, which logs every request itself (ADR 0018, 2026-12-04).
  for (const [name, s] of Object.entries(serversOf(renderCaddyConfig(storeCase).output)))
    assert.deepEqual((s as { logs?: unknown }).logs, name.startsWith('store-') ? {} : undefined, name);
  assert.ok(!renderCaddyConfig(storeCase).output.includes('skip_log'));
});

type Route = { match?: Array<{ path?: string[] }>; handle: Array<Record<string, unknown>> };
type Server = { listen: string[]; routes: Route[]; tls_connection_policies?: unknown[] };
const serversOf = (text: string) =>
  (JSON.parse(text) as { apps: { http: { servers: Record<string, Server> } } }).apps.http.servers;
/** Every `headers` handler in a route tree, subroutes included. */
function headerSets(routes: Route[]): Array<Record<string, string[]>> {
  return routes.flatMap((r) =>
    r.handle.flatMap((h) => [
      ...(h.handler === 'headers' ? [(h.response as { add: Record<string, string[]> }).add] : []),
      ...(h.handler === 'subroute' ? headerSets(h.routes as Route[]) : []),
    ]),
  );
}

test("the UI's files carry exactly the API's security headers (one source), no Caddy placeholder", () => {
  const cell = serversOf(renderCaddyConfig(base).output).cell!;
  const sets = headerSets(cell.routes);
  assert.equal(sets.length, 1);
  const lower = Object.fromEntries(Object.entries(sets[0]!).map(([k, v]) => [k.toLowerCase(), v]));
  assert.deepEqual(lower, Object.fromEntries(Object.entries(SECURITY_HEADERS).map(([k, v]) => [k, [v]])));
  assert.match(lower['content-security-policy']![0]!, /frame-ancestors 'none'/);
  for (const v of Object.values(lower)) assert.doesNotMatch(v[0]!, /[{}]/, 'Caddy would expand {…}');
});

test('every headers handler adds, first in its route: nothing before it can have set the same names', () => {
  // `add` (cheaper than `set` in Caddy 2.6) gives the same answer only while no earlier handler of
  // the route wrote these names; reverse_proxy and file_server come after and append their own.
  for (const c of goldenCases(dir)) {
    const servers = serversOf(renderCaddyConfig(c.input as CaddyConfigInput).output);
    for (const [name, s] of Object.entries(servers))
      for (const r of s.routes)
        for (const [i, h] of r.handle.entries())
          if (h.handler === 'headers') {
            assert.equal(i, 0, `${c.name} ${name}: the headers handler runs first`);
            assert.deepEqual(Object.keys(h.response as object), ['add'], `${c.name} ${name}: add only`);
          }
  }
});

test("the API's answers pass through untouched: its no-store and headers are cell-api's own", () => {
  const cell = serversOf(renderCaddyConfig(base).output).cell!;
  const api = cell.routes.find((r) => r.match?.some((m) => m.path?.includes('/api/*')))!;
  assert.deepEqual(
    api.handle.map((h) => h.handler),
    ['reverse_proxy'],
  );
  const proxy = api.handle[0]!;
  assert.equal(proxy.headers, undefined, 'no header_up/header_down rewriting');
  assert.ok(!JSON.stringify(cell).toLowerCase().includes('cache-control'), 'Caddy sets no Cache-Control');
});

test('HSTS on every answer of the HTTPS server only, API included; never on :80 or :8081', () => {
  const s = serversOf(renderCaddyConfig(base).output);
  // Header names in Go's canonical form (Caddy would allocate a canonical copy on every answer).
  const hsts = { 'Strict-Transport-Security': [HSTS_HEADER['strict-transport-security']] };
  // Each route's first handler sets it (the UI's with the security headers); otherwise as on :8081.
  assert.equal(s.https!.routes.length, s.cell!.routes.length);
  for (const [i, r] of s.https!.routes.entries()) {
    const first = r.handle.find((h) => h.handler === 'headers')!;
    assert.equal(r.handle.indexOf(first), r.handle[0]!.handler === 'vars' ? 1 : 0, 'before any answer');
    const added = (first.response as { add: Record<string, string[]> }).add;
    assert.deepEqual(added['Strict-Transport-Security'], hsts['Strict-Transport-Security']);
    for (const k of Object.keys(added)) assert.equal(k, canonicalHeaderName(k), 'a canonical header name');
    const plain = structuredClone(s.cell!.routes[i]!);
    const same = plain.handle.find((h) => h.handler === 'headers');
    if (same) (same.response as { add: object }).add = { ...hsts, ...(same.response as { add: object }).add };
    else plain.handle.unshift({ handler: 'headers', response: { add: hsts } });
    assert.deepEqual(r, plain, `route ${i}: only HSTS added`);
  }
  for (const plain of [s.cell!, s.http!])
    assert.ok(!JSON.stringify(plain).toLowerCase().includes('strict-transport-security'));
  const plainOnly = goldenCases(dir).find((c) => c.name === 'plain-http-only')!.input as CaddyConfigInput;
  const text = renderCaddyConfig(plainOnly).output;
  assert.ok(!text.toLowerCase().includes('strict-transport-security'), 'no HTTPS server, no HSTS');
  assert.deepEqual(serversOf(text).cell!.listen, [':80', ':8081']);
  assert.equal(isHttpsServer({ listen: [':8443'], routes: [], tls_connection_policies: [] }), true);
  assert.equal(isHttpsServer({ listen: [':80', ':8081'], routes: [] }), false);
  const again = withFrontDoorHeaders({ plain: s.cell! });
  assert.deepEqual(again.plain, s.cell!, 'an HTTP server is left as it is');
});

const site0 = storeCase.store!.sites[0]!;
const withSite = (patch: Record<string, unknown>, host: Record<string, unknown> = {}): CaddyConfigInput => ({
  ...storeCase,
  store: {
    ...storeCase.store!,
    sites: [{ ...site0, ...patch, hosts: [{ ...site0.hosts[0]!, ...host }] }],
  },
});

test('store sites: hostile upstreams, names, ports and addresses are refused before rendering', () => {
  for (const bad of [...smuggle, 'cell-x:0', 'Cell-X:80', 'a b:80', '{env.HOME}:80', 'x:80"}'])
    assert.throws(() => renderCaddyConfig(withSite({}, { upstream: bad })), /refusing to render/, bad);
  for (const host of ['calendar.other.cell', 'a.b.mycell.cell', 'mycell.cell', '{env.X}.mycell.cell'])
    assert.throws(() => renderCaddyConfig(withSite({}, { host })), /refusing to render/, host);
  for (const ports of [
    { https: 443, http: 21064 },
    { https: 20064, http: 8081 },
    { https: 20064, http: 20064 },
  ])
    assert.throws(() => renderCaddyConfig(withSite({ ports })), /refusing to render/, JSON.stringify(ports));
  assert.throws(
    () => renderCaddyConfig({ ...storeCase, store: { ...storeCase.store!, caddyAddress: '0.0.0.0:1' } }),
    /refusing to render/,
  );
  const twice = {
    ...storeCase,
    store: {
      ...storeCase.store!,
      sites: [site0, { ...site0, id: 'other', ports: { https: 20070, http: 21070 } }],
    },
  };
  assert.throws(() => renderCaddyConfig(twice), /served twice/);
});

test('store sites: own servers on Caddy’s cell address, every method and header proxied untouched', () => {
  const s = serversOf(renderCaddyConfig(storeCase).output);
  const https = s['store-calendar-https']!;
  assert.deepEqual(https.listen, ['172.20.0.2:20064']);
  assert.deepEqual(s['store-calendar-http']!.listen, ['172.20.0.2:21064']);
  assert.deepEqual(https.tls_connection_policies, [{ certificate_selection: { any_tag: ['pic-cell'] } }]);
  const route = https.routes[1] as Route & { match: Array<{ host: string[] }> };
  assert.deepEqual(route.match, [{ host: ['calendar.mycell.cell'] }]);
  const proxy = route.handle.find((h) => h.handler === 'reverse_proxy')!;
  assert.deepEqual(proxy, { handler: 'reverse_proxy', upstreams: [{ dial: 'cell-calendar_radicale:5232' }] });
  const text = JSON.stringify(https);
  assert.doesNotMatch(text, /"method"|header_up|Destination|content-security-policy|"encode"/i);
  // HSTS first, then the cell's headers without the CSP; any other name gets 421.
  assert.match(JSON.stringify(https.routes[0]), /"Strict-Transport-Security"/);
  assert.equal((https.routes.at(-1) as Route).handle[0]!.status_code, 421);
  // The front door never routes a service's name: its servers are the same as without the store.
  const plain = serversOf(renderCaddyConfig({ ...storeCase, store: undefined }).output);
  for (const n of ['cell', 'http', 'https']) assert.deepEqual(s[n], plain[n], n);
  // Without HTTPS nothing of the store is served, and the caller is told.
  const r = renderCaddyConfig({ ...storeCase, https: undefined });
  assert.deepEqual(Object.keys(serversOf(r.output)), ['cell']);
  assert.equal(r.warnings.length, 1);
});

test("with Caddy's cell-network address, the front door listens there only (never on a store service's network)", () => {
  const { https: _https, ...plain } = base;
  for (const input of [plain, { ...plain, https }]) {
    const cfg = JSON.parse(renderCaddyConfig({ ...input, frontDoorAddress: '172.20.0.2' }).output) as {
      apps: { http: { servers: Record<string, { listen: string[] }> } };
    };
    const listens = Object.values(cfg.apps.http.servers).flatMap((s) => s.listen);
    assert.ok(listens.length > 0);
    for (const l of listens) assert.match(l, /^172\.20\.0\.2:\d+$/, l);
  }
  assert.throws(() => renderCaddyConfig({ ...base, frontDoorAddress: '0.0.0.0/0' }), /refusing to render/);
});

test('mail autoconfig reaches the API: /.well-known/autoconfig/* on any name, /mail/config-v1.1.xml on autoconfig.<domain> only', () => {
  const https = renderCaddyConfig(base).output;
  const api = serversOf(https).https!.routes.find((r) => r.match?.some((m) => m.path?.includes('/api/*')))!;
  assert.deepEqual(api.match, [
    { path: ['/api', '/api/*', '/health', '/metrics', '/.well-known/autoconfig/*'] },
    { host: ['autoconfig.mycell.cell'], path: ['/mail/config-v1.1.xml'] },
  ]);
  // Without HTTPS (no domain yet): the well-known path only.
  const { https: _, ...plain } = base;
  const cell = serversOf(renderCaddyConfig(plain).output).cell!;
  const plainApi = cell.routes.find((r) => r.match?.some((m) => m.path?.includes('/api/*')))!;
  assert.deepEqual(plainApi.match, [
    { path: ['/api', '/api/*', '/health', '/metrics', '/.well-known/autoconfig/*'] },
  ]);
});
