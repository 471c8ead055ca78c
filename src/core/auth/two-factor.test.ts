import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { AppError } from '../errors.ts';
import { LOGIN_LIMITS, LoginLimits } from './login-limits.ts';
import { hashRecoveryCode, matchingStep, newRecoveryCode, stepAt } from './two-factor.ts';

const SECRET = new Secret({ size: 20 }).base32;
const codeAt = (step: number) =>
  new TOTP({ secret: Secret.fromBase32(SECRET) }).generate({ timestamp: step * 30_000 });
const NOW = 1_750_000_015_000;
const T = stepAt(NOW);

test('a code matches the previous, current or next step only', () => {
  assert.equal(matchingStep(SECRET, codeAt(T), NOW, null), T);
  assert.equal(matchingStep(SECRET, codeAt(T - 1), NOW, null), T - 1);
  assert.equal(matchingStep(SECRET, codeAt(T + 1), NOW, null), T + 1);
  for (const far of [T - 3, T + 3]) {
    const code = codeAt(far);
    // A far code could collide with a near one by chance (1 in a million per step): skip that case.
    if (![T - 1, T, T + 1].some((s) => codeAt(s) === code))
      assert.equal(matchingStep(SECRET, code, NOW, null), undefined);
  }
});

test('no step at or before the last accepted one; malformed codes match nothing', () => {
  assert.equal(matchingStep(SECRET, codeAt(T), NOW, T), undefined, 'replay');
  assert.equal(matchingStep(SECRET, codeAt(T - 1), NOW, T), undefined, 'an older code after a newer one');
  assert.equal(matchingStep(SECRET, codeAt(T + 1), NOW, T), T + 1);
  for (const bad of ['', '12345', '1234567', 'abcdef', ' 123456', `${codeAt(T)}0`])
    assert.equal(matchingStep(SECRET, bad, NOW, null), undefined, JSON.stringify(bad));
});

test('recovery codes: 80 random bits shown in groups; case, spaces and dashes do not change the hash', () => {
  const codes = Array.from({ length: 200 }, newRecoveryCode);
  assert.equal(new Set(codes).size, 200);
  for (const c of codes) assert.match(c, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
  const c = codes[0]!;
  assert.equal(hashRecoveryCode(c.toUpperCase().replaceAll('-', ' ')), hashRecoveryCode(c));
  assert.notEqual(hashRecoveryCode(codes[1]!), hashRecoveryCode(c));
  assert.match(hashRecoveryCode(c), /^[0-9a-f]{64}$/);
});

test('giveBack returns the reservation without making the source known', () => {
  const limits = new LoginLimits();
  // Right password, code still to come, many times: nothing is counted.
  for (let i = 0; i < LOGIN_LIMITS.perAccountSource * 3; i++) limits.reserve('admin', '192.0.2.1').giveBack();
  // Failures still count after that.
  for (let i = 0; i < LOGIN_LIMITS.perAccountSource; i++) limits.reserve('admin', '192.0.2.1');
  assert.throws(
    () => limits.reserve('admin', '192.0.2.1'),
    (e) => e instanceof AppError && e.code === 'rate_limited',
  );
  // giveBack did not mark 192.0.2.2 as known: once the account budget is spent it waits like a stranger.
  limits.reserve('bob', '192.0.2.2').giveBack();
  for (let i = 0; i < LOGIN_LIMITS.perAccount; i++) limits.reserve('bob', `198.51.100.${i}`);
  assert.throws(
    () => limits.reserve('bob', '192.0.2.2'),
    (e) => e instanceof AppError && e.code === 'rate_limited',
  );
});
