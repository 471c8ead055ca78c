// GET /metrics: Prometheus text format behind the metrics token; the token is created by the admin,
// shown once, stored hashed, and replaced by a new one. The whole output goes through a strict parser.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parsePrometheusText } from './prom-text-kit.ts';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from './test-kit.ts';

describe('metrics', () => {
  let kit: Kit;
  let admin: Login;
  let token: string;
  const scrape = (authorization?: string) =>
    kit.app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });

  before(async () => {
    kit = await makeKit();
    admin = await completeSetup(kit);
  });
  after(() => kit.close());

  test('no token exists yet: 401 with a Bearer challenge, whatever is sent', async () => {
    for (const h of [undefined, 'Bearer x', 'Basic YWRtaW46eA==']) {
      const r = await scrape(h);
      assert.equal(r.statusCode, 401, String(h));
      assert.match(String(r.headers['www-authenticate']), /^Bearer /);
    }
    const st = await kit.app.inject({ url: '/api/metrics/token', headers: authed(admin) });
    assert.deepEqual(st.json(), { configured: false, created_at: null });
  });

  test('only the admin creates the token; a peer and an anonymous caller cannot', async () => {
    const anon = await kit.app.inject({ method: 'POST', url: '/api/metrics/token' });
    assert.equal(anon.statusCode, 401);
    const p = await kit.app.inject({
      method: 'POST',
      url: '/api/peers',
      headers: authed(admin),
      payload: { name: 'phone', create_account: true, password: 'peer-password-123' },
    });
    assert.equal(p.statusCode, 201, p.body);
    const peer = await login(kit.app, 'phone', 'peer-password-123');
    const r = await kit.app.inject({ method: 'POST', url: '/api/metrics/token', headers: authed(peer) });
    assert.equal(r.statusCode, 403);
  });

  test('the token is shown once, stored only as a hash, and opens /metrics', async () => {
    const r = await kit.app.inject({ method: 'POST', url: '/api/metrics/token', headers: authed(admin) });
    assert.equal(r.statusCode, 201, r.body);
    token = r.json().token;
    assert.match(token, /^picm_[A-Za-z0-9_-]{43}$/);
    const st = await kit.app.inject({ url: '/api/metrics/token', headers: authed(admin) });
    assert.equal(st.json().configured, true);
    assert.ok(!st.body.includes(token));
    const dataDir = join(kit.dir, 'data');
    const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    for (const f of files)
      assert.ok(!readFileSync(join(f.parentPath, f.name)).includes(token), `${f.name} holds the token`);
    const m = await scrape(`Bearer ${token}`);
    assert.equal(m.statusCode, 200, m.body);
    assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(m.headers['cache-control'], 'no-store');
  });

  test('a wrong, malformed or oversized token is refused', async () => {
    for (const h of [`Bearer ${token}x`, `bearer${token}`, token, `Bearer ${'a'.repeat(4000)}`])
      assert.equal((await scrape(h)).statusCode, 401);
  });

  test('the whole output parses strictly and has the series a dashboard needs', async () => {
    // One failed login, so the counter has moved.
    const bad = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: 'wrong password here' },
    });
    assert.equal(bad.statusCode, 401);
    await kit.app.inject({ url: '/api/config', headers: authed(admin) });
    await kit.app.inject({ url: '/api/does/not/exist/xyz', headers: authed(admin) });
    const body = (await scrape(`Bearer ${token}`)).body;
    const fams = parsePrometheusText(body);
    const value = (name: string, labels: Record<string, string> = {}) =>
      [...fams.values()]
        .flatMap((f) => f.samples)
        .find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.equal(fams.get('pic_peers')?.type, 'gauge');
    assert.equal(value('pic_peers'), 1);
    assert.equal(value('pic_peers_enabled'), 1);
    assert.equal(fams.get('pic_peer_receive_bytes_total')?.type, 'counter');
    assert.equal(fams.get('pic_peer_transmit_bytes_total')?.type, 'counter');
    assert.equal(fams.get('pic_peer_last_handshake_seconds')?.type, 'gauge');
    assert.equal(fams.get('pic_service_up')?.type, 'gauge');
    assert.equal(value('pic_service_up', { service: 'cell-dns' }), 0, 'no data plane: down');
    assert.equal(value('pic_service_healthy', { service: 'cell-dns' }), 0);
    assert.ok((value('pic_login_failures_total') ?? 0) >= 1);
    assert.equal(fams.get('pic_http_request_duration_seconds')?.type, 'histogram');
    assert.ok(
      (value('pic_http_request_duration_seconds_count', {
        route: '/api/config',
        method: 'GET',
        status: '200',
      }) ?? 0) >= 1,
    );
    // Route patterns only: a raw path never becomes a label (bounded cardinality, no user data).
    assert.ok(!body.includes('/api/does/not/exist/xyz'));
    assert.ok(value('pic_http_request_duration_seconds_count', { route: 'unmatched' }) !== undefined);
    assert.equal(fams.get('pic_apply_duration_seconds')?.type, 'histogram');
    assert.ok(fams.has('process_resident_memory_bytes'), "Node's default process metrics");
    assert.ok(fams.has('nodejs_eventloop_lag_seconds'));
  });

  test('a new token replaces the old one', async () => {
    const r = await kit.app.inject({ method: 'POST', url: '/api/metrics/token', headers: authed(admin) });
    const fresh = r.json().token;
    assert.equal((await scrape(`Bearer ${token}`)).statusCode, 401);
    assert.equal((await scrape(`Bearer ${fresh}`)).statusCode, 200);
  });
});
