import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntry } from '../schema/audit.ts';
import { AuditService } from './audit-service.ts';

test('record fills the timestamp and defaults: no user, success, no status or detail', () => {
  const rows: AuditEntry[] = [];
  const audit = new AuditService(
    {
      append: (e) => rows.push(e),
      query: () => ({ total: 0, items: [] }),
      countRefusal: () => {},
      refusals: () => ({ total: 0, items: [] }),
    },
    () => new Date(1_700_000_000_000),
  );
  audit.record({ source: 'cli', action: 'admin reset-password', target: 'user=admin' });
  audit.record({
    source: 'monitor',
    action: 'service restarted',
    target: 'dns',
    outcome: 'failure',
    detail: 'x',
  });
  assert.deepEqual(rows, [
    {
      ts: '2023-11-14T22:13:20.000Z',
      username: null,
      role: null,
      source: 'cli',
      action: 'admin reset-password',
      target: 'user=admin',
      outcome: 'success',
      status: null,
      detail: null,
    },
    {
      ts: '2023-11-14T22:13:20.000Z',
      username: null,
      role: null,
      source: 'monitor',
      action: 'service restarted',
      target: 'dns',
      outcome: 'failure',
      status: null,
      detail: 'x',
    },
  ]);
});

test('every field is escaped and capped: no forged lines, no 16 KB actions', () => {
  const rows: AuditEntry[] = [];
  const audit = new AuditService({
    append: (e) => rows.push(e),
    query: () => ({ total: 0, items: [] }),
    countRefusal: () => {},
    refusals: () => ({ total: 0, items: [] }),
  });
  audit.record({
    source: '10.0.0.1',
    action: `POST /${'a'.repeat(16_000)}`,
    username: 'admin\n2026-01-01 admin logged in\u001b[2J',
    target: 'user=x\r\ny\\u000a',
    detail: 'd'.repeat(5000),
  });
  const [r] = rows;
  assert.ok(r);
  assert.equal(r.action.length, 128);
  assert.ok(r.action.endsWith('…'));
  assert.equal(r.username, 'admin\\u000a2026-01-01 admin logged in\\u001b[2J');
  assert.equal(r.target, 'user=x\\u000d\\u000ay\\\\u000a', 'a typed escape stays distinguishable');
  assert.equal(r.detail?.length, 1024);
  for (const v of Object.values(r))
    if (typeof v === 'string') for (const c of ['\n', '\r', '\u001b']) assert.ok(!v.includes(c));
});

test('refusals are counted per source and minute, with capped fields', () => {
  const hits: unknown[] = [];
  const audit = new AuditService(
    {
      append: () => {},
      query: () => ({ total: 0, items: [] }),
      countRefusal: (h) => hits.push(h),
      refusals: () => ({ total: 0, items: [] }),
    },
    () => new Date('2026-12-03T10:11:12.345Z'),
  );
  audit.refusal({ source: '192.0.2.9', action: 'POST (unmatched)', status: 404, target: 't\n' });
  assert.deepEqual(hits, [
    {
      minute: '2026-12-03T10:11Z',
      source: '192.0.2.9',
      action: 'POST (unmatched)',
      status: 404,
      target: 't\\u000a',
    },
  ]);
});
