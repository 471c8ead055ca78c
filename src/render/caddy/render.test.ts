// Golden cases of Caddy's JSON config and its refusal of values that would change its meaning:
// line breaks and quotes, but also Caddy placeholders ({env.HOME}) that Caddy itself would expand.
// The front door's headers: the API's security headers on the UI, the API's own answers untouched,
// HSTS on HTTPS servers only. UPDATE_GOLDEN=1 rewrites the goldens (review the diff).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTILE_STRINGS } from '../../schema/hostile.ts';
import { HSTS_HEADER, SECURITY_HEADERS } from '../../schema/security-headers.ts';
import { goldenCases, testGoldens } from '../common/golden-kit.ts';
import { type CaddyConfigInput, renderCaddyConfig } from './caddy-config.ts';
import { isHttpsServer, withFrontDoorHeaders } from './front-door-headers.ts';

const dir = join(import.meta.dirname, 'golden');
testGoldens(dir, (input: CaddyConfigInput) => renderCaddyConfig(input).output);

const base = goldenCases(dir).find((c) => c.name === 'default-cell')!.input as CaddyConfigInput;
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

test('every field refuses injection attempts and Caddy placeholders', () => {
  for (const bad of smuggle) {
    assert.throws(() => renderCaddyConfig({ ...base, adminListen: bad }), /refusing to render/, bad);
    assert.throws(() => renderCaddyConfig({ ...base, apiUpstream: bad }), /refusing to render/, bad);
    assert.throws(() => renderCaddyConfig({ ...base, adminOrigins: [bad] }), /refusing to render/, bad);
  }
});

test('the admin block keeps its restrictions: one address, origins checked', () => {
  const c = JSON.parse(renderCaddyConfig(base).output) as { admin: { listen: string; origins: string[] } };
  assert.deepEqual(c.admin, { listen: base.adminListen, origins: base.adminOrigins });
});

type Route = { match?: Array<{ path?: string[] }>; handle: Array<Record<string, unknown>> };
type Server = { listen: string[]; routes: Route[]; tls_connection_policies?: unknown[] };
const serversOf = (text: string) =>
  (JSON.parse(text) as { apps: { http: { servers: Record<string, Server> } } }).apps.http.servers;
/** Every `headers` handler in a route tree, subroutes included. */
function headerSets(routes: Route[]): Array<Record<string, string[]>> {
  return routes.flatMap((r) =>
    r.handle.flatMap((h) => [
      ...(h.handler === 'headers' ? [(h.response as { set: Record<string, string[]> }).set] : []),
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

test('HSTS only on a server that speaks HTTPS: none today, every answer of an HTTPS one', () => {
  const rendered = renderCaddyConfig(base).output;
  assert.ok(!rendered.toLowerCase().includes('strict-transport-security'), 'no HTTPS server yet');
  const cell = serversOf(rendered).cell!;
  const https = withFrontDoorHeaders({
    plain: cell,
    tls: { ...cell, listen: [':443'], tls_connection_policies: [{}] },
  });
  assert.deepEqual(https.plain, cell, 'an HTTP server is left as it is');
  const first = https.tls.routes[0] as Route;
  assert.equal(first.match, undefined, 'before every route, API included');
  assert.deepEqual(first.handle, [
    {
      handler: 'headers',
      response: { set: { 'strict-transport-security': [HSTS_HEADER['strict-transport-security']] } },
    },
  ]);
  assert.deepEqual(https.tls.routes.slice(1), cell.routes);
  assert.equal(isHttpsServer({ listen: [':8443'], routes: [], tls_connection_policies: [] }), true);
  assert.equal(isHttpsServer({ listen: [':80', ':8081'], routes: [] }), false);
});
