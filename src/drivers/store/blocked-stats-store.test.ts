// The blocked-query buckets in SQLite (migration "dns blocked queries"): adds sum into their bucket,
// totals and top names read from an hour on (per address ranked with a window function), prune and
// reset forget, and the migration starts counting at its own time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDb } from '../db.ts';
import { BlockedStatsStore } from './blocked-stats-store.ts';

test('sums, totals, top names overall and per address, prune and reset', () => {
  const db = openDb(':memory:');
  const s = new BlockedStatsStore(db);
  assert.ok(Date.now() - Date.parse(s.resetAt()) < 60_000, 'counting starts when the table is made');
  const row = (hour: number, address: string, name: string, count: number, peer: string | null = 'p') => ({
    hour,
    address,
    peer,
    name,
    count,
  });
  s.add([row(10, '10.0.0.2', 'ads.example', 3, 'old'), row(10, '10.0.0.3', 'ads.example', 1)]);
  s.add([row(10, '10.0.0.2', 'ads.example', 2, 'phone'), row(11, '10.0.0.2', 'b.example', 4, 'phone')]);
  s.add([row(11, '10.0.0.2', 'c.example', 1, 'phone'), row(12, '10.0.0.9', 'b.example', 1, null)]);
  assert.deepEqual(s.totals(0), [
    { address: '10.0.0.2', peer: 'phone', count: 10 },
    { address: '10.0.0.3', peer: 'p', count: 1 },
    { address: '10.0.0.9', peer: null, count: 1 },
  ]);
  assert.deepEqual(s.totals(11), [
    { address: '10.0.0.2', peer: 'phone', count: 5 },
    { address: '10.0.0.9', peer: null, count: 1 },
  ]);
  assert.deepEqual(s.top(0, 2), [
    { name: 'ads.example', count: 6 },
    { name: 'b.example', count: 5 },
  ]);
  assert.deepEqual(s.topByAddress(0, 2), [
    { address: '10.0.0.2', name: 'ads.example', count: 5 },
    { address: '10.0.0.2', name: 'b.example', count: 4 },
    { address: '10.0.0.3', name: 'ads.example', count: 1 },
    { address: '10.0.0.9', name: 'b.example', count: 1 },
  ]);
  s.prune(11);
  assert.deepEqual(
    s.totals(0).map((t) => t.count),
    [5, 1],
  );
  s.reset('2026-12-03T10:00:00.000Z');
  assert.deepEqual(s.totals(0), []);
  assert.equal(s.resetAt(), '2026-12-03T10:00:00.000Z');
  db.close();
});
