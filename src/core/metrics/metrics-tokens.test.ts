import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type MetricsTokenRecord, MetricsTokens } from './metrics-tokens.ts';

function memoryRepo() {
  let rec: MetricsTokenRecord | undefined;
  return {
    get: () => rec,
    set: (r: MetricsTokenRecord) => {
      rec = r;
    },
    peek: () => rec,
  };
}

describe('MetricsTokens', () => {
  test('no token: nothing verifies', () => {
    const t = new MetricsTokens(memoryRepo());
    assert.equal(t.verify('Bearer x'), false);
    assert.deepEqual(t.status(), { configured: false, created_at: null });
  });

  test('a created token verifies as a Bearer header; only its hash is stored', () => {
    const repo = memoryRepo();
    const t = new MetricsTokens(repo, () => new Date('2026-12-03T10:00:00Z'));
    const { token, created_at } = t.create();
    assert.equal(created_at, '2026-12-03T10:00:00.000Z');
    assert.equal(t.verify(`Bearer ${token}`), true);
    assert.ok(!JSON.stringify(repo.peek()).includes(token));
    for (const bad of [
      token,
      `Basic ${token}`,
      `Bearer ${token}x`,
      'Bearer ',
      `Bearer ${token} x`,
      undefined,
    ])
      assert.equal(t.verify(bad), false, String(bad));
  });

  test('a new token replaces the old one', () => {
    const t = new MetricsTokens(memoryRepo());
    const a = t.create().token;
    const b = t.create().token;
    assert.equal(t.verify(`Bearer ${a}`), false);
    assert.equal(t.verify(`Bearer ${b}`), true);
  });
});
