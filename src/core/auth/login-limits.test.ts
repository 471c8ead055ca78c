import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.ts';
import { LOGIN_LIMITS, LoginLimits } from './login-limits.ts';

const waitOf = (f: () => unknown): number => {
  try {
    f();
    return 0;
  } catch (e) {
    assert.ok(e instanceof AppError && e.code === 'rate_limited');
    return e.retryAfter ?? -1;
  }
};

test('each exhaustion of the account budget locks unknown sources out twice as long', () => {
  const clock = { now: 1_000_000 };
  const limits = new LoginLimits({ now: () => clock.now });
  let n = 0;
  const spend = () => {
    for (let i = 0; i < LOGIN_LIMITS.perAccount; i++) limits.reserve('admin', `198.51.100.${n++ % 250}`);
  };
  spend();
  assert.equal(
    waitOf(() => limits.reserve('admin', '203.0.113.1')),
    15 * 60,
  );
  clock.now += 15 * 60_000;
  n = 0;
  clock.now += 15 * 60_000; // the per-source windows of the first round end too
  spend();
  assert.equal(
    waitOf(() => limits.reserve('admin', '203.0.113.1')),
    30 * 60,
  );
});

test('a trusted source is never held by the account budget, only by its own', () => {
  const limits = new LoginLimits({ trustedSource: (s) => s.startsWith('10.0.0.') });
  for (let i = 0; i < LOGIN_LIMITS.perAccount; i++) limits.reserve('admin', `198.51.100.${i}`);
  assert.ok(waitOf(() => limits.reserve('admin', '203.0.113.1')) > 0);
  for (let i = 0; i < LOGIN_LIMITS.perAccountSource; i++) limits.reserve('admin', '10.0.0.2');
  assert.ok(waitOf(() => limits.reserve('admin', '10.0.0.2')) > 0, 'its own budget still applies');
  assert.equal(
    waitOf(() => limits.reserve('admin', '10.0.0.3')),
    0,
  );
});

test('forget clears an account (pic admin reset-password)', () => {
  const limits = new LoginLimits();
  for (let i = 0; i < LOGIN_LIMITS.perAccountSource; i++) limits.reserve('admin', '192.0.2.1');
  assert.ok(waitOf(() => limits.reserve('admin', '192.0.2.1')) > 0);
  limits.forget('admin');
  assert.equal(
    waitOf(() => limits.reserve('admin', '192.0.2.1')),
    0,
  );
});
