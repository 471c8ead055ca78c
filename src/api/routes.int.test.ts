// The route-rule test: every route the app registers under /api or /health declares who may call it,
// the declarations are well-formed, and the public ones are exactly the list below. Adding a public
// route makes this test fail until the route is added to PUBLIC on purpose.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RouteOptions } from 'fastify';
import type { Access } from './route.ts';
import { allRoutes } from './routes/index.ts';
import { authed, completeSetup, type Kit, login, makeKit } from './test-kit.ts';

const PUBLIC = [
  'GET /health',
  'GET /api/openapi.json',
  'GET /api/setup/status',
  'GET /api/setup/options',
  'POST /api/setup/complete',
  'POST /api/auth/login',
  'POST /api/auth/logout',
  // One-time peer config links: the token is the credential; rate-limited per source.
  'GET /api/config-links/:token',
  // Prometheus scrapes with the metrics token (Authorization: Bearer), checked by the handler.
  'GET /metrics',
  // The CA's root and CRL: a certificate and a signed list, no secret; devices fetch them before they
  // can log in (installing the root is how a peer comes to trust the cell's HTTPS).
  'GET /api/vault/ca.crt',
  'GET /api/vault/crl',
  // ACME HTTP-01: the CA fetches the key authorization of an order in progress (not a secret).
  'GET /.well-known/acme-challenge/:token',
  // Mail autoconfig: servers and ports of the cell's mail, no secret; 404 unless email is installed;
  // rate-limited per source.
  'GET /.well-known/autoconfig/mail/config-v1.1.xml',
  'GET /mail/config-v1.1.xml',
].sort();

/** Public outside /api: the built UI (a catch-all GET that answers 404 JSON for /api paths). */
const PUBLIC_UI = ['GET /*'];

const ROLES = new Set(['admin', 'peer']);

function validAccess(a: unknown): a is Access {
  if (a === 'public') return true;
  return Array.isArray(a) && a.length > 0 && a.every((r) => ROLES.has(r)) && new Set(a).size === a.length;
}

const concrete = (url: string) => url.replace(/:([A-Za-z_]+)/g, 'x');

describe('route rules', () => {
  let kit: Kit;
  const seen: RouteOptions[] = [];
  const web = mkdtempSync(join(tmpdir(), 'pic-web-'));
  before(async () => {
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>PIC</title>');
    writeFileSync(join(web, 'assets', 'Index-AbC123.js'), 'console.log(1)');
    kit = await makeKit({ webRoot: web, onRoute: (r) => seen.push(r) });
  });
  after(async () => {
    await kit.close();
    rmSync(web, { recursive: true, force: true });
  });

  test('the collector saw every route definition', () => {
    const keys = new Set(seen.flatMap((r) => [r.method].flat().map((m) => `${m} ${r.url}`)));
    for (const def of allRoutes) assert.ok(keys.has(`${def.method} ${def.url}`), `${def.method} ${def.url}`);
  });

  test('every registered route under /api or /health has a valid access rule', () => {
    const missing: string[] = [];
    for (const r of seen) {
      if (!(r.url === '/health' || r.url === '/api' || r.url.startsWith('/api/'))) continue;
      const access = (r.config as { access?: unknown } | undefined)?.access;
      if (!validAccess(access)) missing.push(`${[r.method].flat().join(',')} ${r.url}`);
    }
    assert.deepEqual(missing, []);
  });

  test('every registered route at all has a valid access rule (the UI catch-all included)', () => {
    const bad = seen.filter((r) => !validAccess((r.config as { access?: unknown } | undefined)?.access));
    assert.deepEqual(
      bad.map((r) => `${[r.method].flat().join(',')} ${r.url}`),
      [],
    );
  });

  test("every definition's access is 'public' or a non-empty list of known roles", () => {
    for (const def of allRoutes)
      assert.ok(validAccess(def.access), `${def.method} ${def.url}: ${JSON.stringify(def.access)}`);
  });

  test('the public routes are exactly the reviewed list', () => {
    const publicDefs = allRoutes
      .filter((d) => d.access === 'public')
      .map((d) => `${d.method} ${d.url}`)
      .sort();
    assert.deepEqual(publicDefs, PUBLIC);
    const publicRegistered = [
      ...new Set(
        seen
          .filter((r) => (r.config as { access?: unknown }).access === 'public')
          .flatMap((r) =>
            [r.method]
              .flat()
              .filter((m) => m !== 'HEAD')
              .map((m) => `${m} ${r.url}`),
          ),
      ),
    ].sort();
    assert.deepEqual(publicRegistered, [...PUBLIC, ...PUBLIC_UI].sort());
  });

  test('the UI catch-all: files keep their case, unknown pages get index.html, /api never does', async () => {
    const asset = await kit.app.inject({ url: '/assets/Index-AbC123.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.body, 'console.log(1)');
    assert.match(String(asset.headers['cache-control']), /immutable/);
    const page = await kit.app.inject({ url: '/dashboard' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<title>PIC/);
    assert.equal(page.headers['cache-control'], 'no-cache', 'index.html is revalidated after an upgrade');
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
    for (const url of [
      '/assets/../../../etc/passwd',
      '/assets/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
    ]) {
      const r = await kit.app.inject({ url });
      assert.ok(!r.body.includes('root:'), url);
    }
    const api = await kit.app.inject({ url: '/api/nothing' });
    assert.equal(api.statusCode, 428, 'an /api path is the API, not the UI');
    assert.equal(api.headers['content-type']?.toString().startsWith('application/json'), true);
  });

  test('an access value outside the rules is caught by the check itself', () => {
    for (const bad of [undefined, 'admin', [], ['root'], ['admin', 'admin'], 'PUBLIC', null, {}])
      assert.equal(validAccess(bad), false, JSON.stringify(bad));
  });
});

describe('route rules are enforced', () => {
  let kit: Kit;
  before(async () => {
    kit = await makeKit();
    await completeSetup(kit);
    await kit.cell.deps.auth.createUser('pat', 'peer', 'peer password 123');
  });
  after(() => kit.close());

  test('without a session every non-public route answers 401', async () => {
    for (const def of allRoutes.filter((d) => d.access !== 'public')) {
      const r = await kit.app.inject({ method: def.method, url: concrete(def.url) });
      assert.equal(r.statusCode, 401, `${def.method} ${def.url}`);
    }
  });

  test("a peer gets 403 wherever the rule does not list 'peer'", async () => {
    const peer = await login(kit.app, 'pat', 'peer password 123');
    for (const def of allRoutes) {
      if (def.access === 'public' || def.access.includes('peer')) continue;
      const r = await kit.app.inject({
        method: def.method,
        url: concrete(def.url),
        headers: authed(peer),
        payload: {},
      });
      assert.equal(r.statusCode, 403, `${def.method} ${def.url}`);
    }
  });
});
