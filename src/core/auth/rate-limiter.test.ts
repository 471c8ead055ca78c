import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from './rate-limiter.ts';

function clock(start = 1_000_000) {
  const c = { now: start, fn: () => c.now };
  return c;
}

test('allows up to max failures in the window, then reports seconds to wait', () => {
  const c = clock();
  const rl = new RateLimiter({ max: 3, windowMs: 60_000 }, c.fn);
  for (let i = 0; i < 3; i++) {
    assert.equal(rl.retryAfter('a'), 0);
    rl.hit('a');
  }
  assert.equal(rl.retryAfter('a'), 60);
  c.now += 30_500;
  assert.equal(rl.retryAfter('a'), 30); // ceil of 29.5 s
});

test('keys are independent', () => {
  const rl = new RateLimiter({ max: 1, windowMs: 1000 }, clock().fn);
  rl.hit('a');
  assert.ok(rl.retryAfter('a') > 0);
  assert.equal(rl.retryAfter('b'), 0);
});

test('the window expires and counting starts again', () => {
  const c = clock();
  const rl = new RateLimiter({ max: 2, windowMs: 10_000 }, c.fn);
  rl.hit('k');
  rl.hit('k');
  assert.equal(rl.retryAfter('k'), 10);
  c.now += 10_000;
  assert.equal(rl.retryAfter('k'), 0);
  rl.hit('k');
  assert.equal(rl.retryAfter('k'), 0, 'a fresh window holds one hit');
});

test('reset forgets a key', () => {
  const rl = new RateLimiter({ max: 1, windowMs: 1000 }, clock().fn);
  rl.hit('k');
  rl.reset('k');
  assert.equal(rl.retryAfter('k'), 0);
});

test('expired entries are pruned when the map grows (memory stays bounded)', () => {
  const c = clock();
  const rl = new RateLimiter({ max: 5, windowMs: 1000 }, c.fn);
  for (let i = 0; i < 10_001; i++) rl.hit(`old-${i}`);
  c.now += 2000;
  rl.hit('new-1'); // crosses the threshold: old entries are gone afterwards
  rl.hit('old-1');
  assert.equal(rl.retryAfter('old-1'), 0);
});

test('reserve counts before the slow check: a burst gets at most max reservations', () => {
  const rl = new RateLimiter({ max: 5, windowMs: 60_000 }, clock().fn);
  const answers = Array.from({ length: 200 }, () => rl.reserve('k'));
  assert.equal(answers.filter((w) => w === 0).length, 5);
  assert.ok(answers.slice(5).every((w) => w === 60));
});

test('release gives a reservation back (a success is not a failure)', () => {
  const rl = new RateLimiter({ max: 1, windowMs: 60_000 }, clock().fn);
  assert.equal(rl.reserve('k'), 0);
  rl.release('k');
  assert.equal(rl.reserve('k'), 0);
  assert.ok(rl.reserve('k') > 0);
});
