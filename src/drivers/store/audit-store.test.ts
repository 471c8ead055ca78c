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

test('the trail is capped by bytes as well as rows: long rows push out the oldest, never the newest', () => {
  const db = openDb(':memory:');
  const store = new AuditStore(db, 1_000_000, 200_000);
  for (let i = 0; i < 400; i++) store.append({ ...entry(i), detail: 'd'.repeat(1000) });
  const bytes = (
    db
      .prepare(
        "SELECT sum(48 + length(ts) + length(coalesce(username, '')) + length(coalesce(role, '')) + length(source) + length(action) + length(coalesce(target, '')) + length(outcome) + length(coalesce(detail, ''))) AS b FROM audit",
      )
      .get() as { b: number }
  ).b;
  assert.ok(bytes <= 200_000, `${bytes} bytes kept`);
  const newest = store.query({ limit: 1, offset: 0 }).items[0]!;
  assert.equal(newest.target, 'n=399');
  // A new store over the same database knows what is there already.
  const again = new AuditStore(db, 1_000_000, 100_000);
  again.append(entry(400));
  assert.ok(again.query({ limit: 1000, offset: 0 }).total < 100);
});

test('anonymous refusals: one row per source and minute with a count, capped apart from the trail', () => {
  const db = openDb(':memory:');
  const store = new AuditStore(db);
  const hit = (source: string, minute: string) =>
    store.countRefusal({ minute, source, action: 'POST /api/auth/login', status: 401, target: 'user=x' });
  for (let i = 0; i < 50; i++) hit('192.0.2.1', '2026-12-03T10:00Z');
  hit('192.0.2.1', '2026-12-03T10:01Z');
  hit('192.0.2.2', '2026-12-03T10:01Z');
  const r = store.refusals({ limit: 10, offset: 0 });
  assert.equal(r.total, 3);
  assert.equal(r.items.find((x) => x.minute === '2026-12-03T10:00Z')?.count, 50);
  assert.equal(store.query({ limit: 10, offset: 0 }).total, 0, 'the trail is untouched');
  assert.equal(store.refusals({ source: '192.0.2.2', limit: 10, offset: 0 }).total, 1);
});

test('the byte count does not drift on characters outside the BMP (emoji in a target)', () => {
  const db = openDb(':memory:');
  const store = new AuditStore(db, 1_000_000, 64 * 1024);
  for (let i = 0; i < 2000; i++) store.append({ ...entry(i), target: `name=${'😀'.repeat(50)}` });
  const kept = store.query({ limit: 1, offset: 0 }).total;
  // A steady state: the table holds what fits in the cap, never emptied by a drifting count.
  assert.ok(kept > 200, `${kept} rows kept`);
});
