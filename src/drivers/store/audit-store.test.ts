import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntry } from '../../schema/audit.ts';
import { openDb } from '../db.ts';
import { AUDIT_KEEP, AuditStore } from './audit-store.ts';

const entry = (i: number): AuditEntry => ({
  ts: new Date(1_700_000_000_000 + i * 1000).toISOString(),
  username: i % 2 ? 'admin' : null,
  role: i % 2 ? 'admin' : null,
  source: '10.0.0.2',
  action: i % 3 ? 'PUT /api/config' : 'POST /api/auth/login',
  target: `n=${i}`,
  outcome: i % 5 ? 'success' : 'denied',
  status: 200,
  detail: null,
});

test('the trail keeps the newest rows only: it cannot fill the disk', () => {
  assert.ok(AUDIT_KEEP >= 100_000, 'a generous default');
  const store = new AuditStore(openDb(':memory:'), 50);
  for (let i = 1; i <= 1000; i++) store.append(entry(i));
  const all = store.query({ limit: 500, offset: 0 });
  assert.ok(all.total >= 50 && all.total < 100, `kept ${all.total}`);
  assert.equal(all.items[0]!.target, 'n=1000', 'the newest is kept');
});

test('filters combine; paging is stable; % and _ in a search are literal', () => {
  const store = new AuditStore(openDb(':memory:'));
  for (let i = 1; i <= 30; i++) store.append(entry(i));
  const q = (over: Partial<Parameters<AuditStore['query']>[0]>) =>
    store.query({ limit: 100, offset: 0, ...over });
  assert.equal(q({}).total, 30);
  assert.ok(
    q({ username: 'admin', outcome: 'denied' }).items.every(
      (r) => r.username === 'admin' && r.outcome === 'denied',
    ),
  );
  assert.equal(q({ action: 'auth/login' }).total, 10);
  assert.equal(q({ since: entry(21).ts }).total, 10);
  assert.equal(q({ until: entry(10).ts }).total, 10);
  const ids = [...q({ limit: 10, offset: 0 }).items, ...q({ limit: 10, offset: 10 }).items].map((r) => r.id);
  assert.equal(new Set(ids).size, 20);
  assert.equal(q({ q: "'; DROP TABLE audit; --" }).total, 0);
  assert.equal(q({ q: '%' }).total, 0, '% is a literal');
  assert.equal(q({ q: 'n=_' }).total, 0, '_ is a literal');
  assert.equal(q({ action: '%' }).total, 0);
  assert.equal(q({ q: 'n=1' }).total, 11, 'substring: n=1, n=10..n=19');
  assert.equal(q({}).total, 30, 'the table is still there');
});
