import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntry } from '../schema/audit.ts';
import { AuditService } from './audit-service.ts';

test('record fills the timestamp and defaults: no user, success, no status or detail', () => {
  const rows: AuditEntry[] = [];
  const audit = new AuditService(
    { append: (e) => rows.push(e), query: () => ({ total: 0, items: [] }) },
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
