// Retention on dated backups: the newest per day for N days with backups, the newest per ISO week
// for M weeks, the newest of all always kept, undated ones never deleted; ISO weeks at year ends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backupsToDelete, isoWeek } from './retention.ts';

const at = (iso: string) => ({ id: `b-${iso}`, created_at: iso });
const ids = (xs: string[]) => xs.map((x) => `b-${x}`);

test('ISO weeks: Monday starts a week; the week of January 4 is week 1', () => {
  assert.equal(isoWeek(Date.parse('2026-01-01T00:00:00Z')), '2026-W01'); // a Thursday
  assert.equal(isoWeek(Date.parse('2027-01-01T12:00:00Z')), '2026-W53'); // a Friday: 2026 has 53 weeks
  assert.equal(isoWeek(Date.parse('2024-12-30T00:00:00Z')), '2025-W01'); // a Monday
  assert.equal(isoWeek(Date.parse('2026-03-08T23:59:59Z')), '2026-W10'); // a Sunday
  assert.equal(isoWeek(Date.parse('2026-03-09T00:00:00Z')), '2026-W11'); // the next Monday
});

test('daily: the newest of each of the last N days that have a backup', () => {
  const list = [
    '2026-03-10T03:00:00Z',
    '2026-03-10T15:00:00Z', // a second one that day: the newest of the day is kept
    '2026-03-09T03:00:00Z',
    // no backup on the 8th: the days counted are days with backups
    '2026-03-07T03:00:00Z',
    '2026-03-06T03:00:00Z',
  ].map(at);
  assert.deepEqual(
    backupsToDelete(list, { daily: 3, weekly: 0 }),
    ids(['2026-03-06T03:00:00Z', '2026-03-10T03:00:00Z']),
  );
});

test('weekly: the newest of each of the last M ISO weeks, on top of the daily ones', () => {
  const days = Array.from({ length: 30 }, (_, i) =>
    new Date(Date.UTC(2026, 2, 1 + i, 3)).toISOString().replace('.000', ''),
  );
  const del = new Set(backupsToDelete(days.map(at), { daily: 2, weekly: 3 }));
  const kept = days.filter((d) => !del.has(`b-${d}`));
  // 30 March (Mon) and 29 March (Sun) daily; weeks W14 (30th), W13 (Sun 29th), W12 (Sun 22nd).
  assert.deepEqual(kept, ['2026-03-22T03:00:00Z', '2026-03-29T03:00:00Z', '2026-03-30T03:00:00Z']);
});

test('the newest is never deleted, even when nothing is to be kept', () => {
  const list = ['2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z'].map(at);
  assert.deepEqual(
    backupsToDelete(list, { daily: 0, weekly: 0 }),
    ids(['2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z']),
  );
  assert.deepEqual(backupsToDelete([at('2026-03-01T00:00:00Z')], { daily: 0, weekly: 0 }), []);
  assert.deepEqual(backupsToDelete([], { daily: 3, weekly: 3 }), []);
});

test('an undated backup is kept; the input order does not matter', () => {
  const list = [
    at('2026-03-01T00:00:00Z'),
    { id: 'odd', created_at: 'not a date' },
    at('2026-03-05T00:00:00Z'),
  ];
  const a = backupsToDelete(list, { daily: 1, weekly: 0 });
  const b = backupsToDelete([...list].reverse(), { daily: 1, weekly: 0 });
  assert.deepEqual(a, ids(['2026-03-01T00:00:00Z']));
  assert.deepEqual(b, a);
});

test('more days kept than there are backups: nothing is deleted', () => {
  const list = ['2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z'].map(at);
  assert.deepEqual(backupsToDelete(list, { daily: 60, weekly: 52 }), []);
});
