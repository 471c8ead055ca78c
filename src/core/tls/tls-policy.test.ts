import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BACKOFF_MAX_MS,
  backoffMs,
  challengeFor,
  cleanError,
  covers,
  namesFor,
  renewalDue,
} from './tls-policy.ts';

const DAY = 86_400_000;

test('renewal is due 30 days before expiry, or at two thirds of a short lifetime', () => {
  const t0 = Date.UTC(2026, 0, 1);
  assert.equal(renewalDue(t0, t0 + 90 * DAY, t0 + 59 * DAY), false);
  assert.equal(renewalDue(t0, t0 + 90 * DAY, t0 + 60 * DAY), true);
  // 6-day certificates (short-lived profile): renewed with 2 days left
  assert.equal(renewalDue(t0, t0 + 6 * DAY, t0 + 3.9 * DAY), false);
  assert.equal(renewalDue(t0, t0 + 6 * DAY, t0 + 4 * DAY), true);
});

test('the challenge and the names follow the DDNS provider', () => {
  assert.equal(challengeFor('auto', true), 'dns-01');
  assert.equal(challengeFor('auto', false), 'http-01');
  assert.equal(challengeFor('http-01', true), 'http-01');
  assert.deepEqual(namesFor('home.example.org', 'dns-01'), ['home.example.org', '*.home.example.org']);
  assert.deepEqual(namesFor('home.example.org', 'http-01'), ['home.example.org']);
  assert.equal(covers(['a.org', '*.a.org'], ['a.org']), true);
  assert.equal(covers(['a.org'], ['a.org', '*.a.org']), false);
});

test('backoff doubles up to a day; errors are one line and without secrets', () => {
  assert.deepEqual([1, 2, 3].map(backoffMs), [30 * 60_000, 60 * 60_000, 120 * 60_000]);
  assert.equal(backoffMs(30), BACKOFF_MAX_MS);
  assert.equal(cleanError('bad\nkey s3cr3t-hmac here', ['s3cr3t-hmac']), 'bad key [secret] here');
  assert.equal(cleanError('x'.repeat(400)).length, 300);
});
