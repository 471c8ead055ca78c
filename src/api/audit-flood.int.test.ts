// The audit trail under attack: anonymous noise is counted apart and cannot evict or outgrow the
// owner's actions; reading a secret is an audited action.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditRow } from '../schema/audit.ts';
import { authed, completeSetup, type Kit, type Login, login, makeKit } from './test-kit.ts';

const trail = (kit: Kit) =>
  kit.cell.db.prepare('SELECT * FROM audit ORDER BY id').all() as unknown as AuditRow[];

/** The database's size with the WAL folded in (the WAL file itself is reused, not a measure). */
function dbBytes(kit: Kit): number {
  kit.cell.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  return statSync(join(kit.cell.paths.data, 'cell.db')).size;
}

describe('audit flood', () => {
  let kit: Kit;
  let admin: Login;
  before(async () => {
    kit = await makeKit();
    admin = await completeSetup(kit);
  });
  after(() => kit.close());

  test('10,000 refused anonymous requests with 15 KB paths evict nothing and grow the database < 1 MB', async () => {
    for (const tz of ['UTC', 'Europe/Paris', 'Europe/Berlin']) {
      const r = await kit.app.inject({
        method: 'PUT',
        url: '/api/config',
        headers: authed(admin),
        payload: { identity: { timezone: tz } },
      });
      assert.equal(r.statusCode, 200);
    }
    const adminRows = trail(kit).filter((r) => r.username === 'admin');
    const rowsBefore = trail(kit).length;
    const size0 = dbBytes(kit);
    const longPath = `/api/${'x'.repeat(15_000)}`;
    const sources = ['198.51.100.1', '198.51.100.2', '203.0.113.3', '2001:db8::4'];
    for (let i = 0; i < 10_000; i++) {
      const r = await kit.app.inject({
        method: 'POST',
        url: i % 2 ? longPath : `/api/config/apply?${'y'.repeat(15_000)}`,
        payload: {},
        remoteAddress: sources[i % sources.length]!,
      });
      assert.ok(r.statusCode === 401 || r.statusCode === 404, String(r.statusCode));
    }
    const after = trail(kit);
    for (const row of adminRows)
      assert.ok(
        after.some((r) => r.id === row.id),
        `admin row ${row.id} kept`,
      );
    assert.equal(after.length, rowsBefore, 'anonymous noise adds no trail rows');
    assert.ok(!after.some((r) => r.action.includes('xxxx')), 'no raw path stored');
    const grew = dbBytes(kit) - size0;
    assert.ok(grew < 1 << 20, `grew by ${grew} bytes`);
    const counted = kit.cell.deps.audit.refusals({ limit: 500, offset: 0 });
    assert.equal(
      counted.items.reduce((n, r) => n + r.count, 0),
      10_000,
    );
    assert.ok(counted.total <= sources.length * 3, `${counted.total} rows for 4 sources`);
    for (const r of counted.items) assert.ok(r.last_action.length <= 128);
    // The owner reads them through the API.
    const api = await kit.app.inject({ url: '/api/logs/audit/refusals?limit=10', headers: authed(admin) });
    assert.equal(api.statusCode, 200);
    assert.ok(api.json().items.some((r: { source: string }) => r.source === '2001:db8::4'));
  });

  test('a login name with newlines and escapes is stored escaped and capped', async () => {
    const evil = 'admin\n2026-12-03T00:00:00Z admin POST /api/config success\u001b[2J';
    const r = await kit.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: evil.slice(0, 64), password: 'wrong wrong wrong' },
    });
    assert.equal(r.statusCode, 401);
    const row = kit.cell.deps.audit.refusals({ limit: 1, offset: 0 }).items[0]!;
    assert.ok(!row.last_target?.includes('\n') && !row.last_target?.includes('\u001b'));
    assert.match(row.last_target ?? '', /\\u000a2026-12-03/);
  });

  test('reading a secret is audited: a config export, a config link, the peer dashboard', async () => {
    const created = await kit.app.inject({
      method: 'POST',
      url: '/api/peers',
      headers: authed(admin),
      payload: { name: 'laptop', create_account: true, password: 'laptop password 123' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const before = trail(kit).length;
    const exp = await kit.app.inject({ url: '/api/peers/laptop/config', headers: authed(admin) });
    assert.equal(exp.statusCode, 200);
    const link = await kit.app.inject({
      method: 'POST',
      url: '/api/peers/laptop/config-link',
      headers: authed(admin),
      payload: {},
    });
    assert.equal(link.statusCode, 201, link.body);
    const redeemed = await kit.app.inject({ url: link.json().url, remoteAddress: '192.0.2.44' });
    assert.equal(redeemed.statusCode, 200);
    const peer = await login(kit.app, 'laptop', 'laptop password 123');
    assert.equal((await kit.app.inject({ url: '/api/peer/me', headers: authed(peer) })).statusCode, 200);
    const rows = trail(kit).slice(before);
    const find = (action: string) => rows.find((r) => r.action === action);
    assert.equal(find('GET /api/peers/:name/config')?.username, 'admin');
    assert.equal(find('GET /api/peers/:name/config')?.target, 'name=laptop');
    assert.equal(find('GET /api/config-links/:token')?.source, '192.0.2.44');
    assert.ok(!JSON.stringify(rows).includes(link.json().token), 'the link token is not in the trail');
    assert.equal(find('GET /api/peer/me')?.username, 'laptop');
    // Reads that hand out nothing secret stay unaudited.
    const n = trail(kit).length;
    await kit.app.inject({ url: '/api/peers', headers: authed(admin) });
    assert.equal(trail(kit).length, n);
  });
});
