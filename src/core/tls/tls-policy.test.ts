import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BACKOFF_MAX_MS,
  backoffMs,
  challengeFor,
  cleanError,
  covers,
  namesFor,
  nextOrderAt,
  renewAt,
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

test("HTTP-01 orders the installed services' names one by one; the DNS-01 wildcard covers them", () => {
  const services = ['webmail', 'mail', 'calendar', 'mail', 'Files', '*', 'a..b', 'x\ny', '-bad'];
  assert.deepEqual(namesFor('home.example.org', 'http-01', services), [
    'home.example.org',
    'calendar.home.example.org',
    'files.home.example.org',
    'mail.home.example.org',
    'webmail.home.example.org',
  ]);
  assert.deepEqual(namesFor('home.example.org', 'dns-01', services), [
    'home.example.org',
    '*.home.example.org',
  ]);
  assert.deepEqual(namesFor('home.example.org', 'http-01', []), ['home.example.org']);
});

test('the tick orders at once for a new service name, hourly at most for a removed one, else at renewal', () => {
  const t0 = Date.UTC(2026, 0, 1);
  const now = t0 + DAY;
  const held = { names: ['a.org', 'mail.a.org'], notBefore: t0, notAfter: t0 + 90 * DAY };
  const base = { have: held, now, failures: 0, nextAttemptAt: now + 3600_000 };
  // Nothing held yet, or a service installed: at once, even within the hour after a success...
  assert.equal(nextOrderAt({ ...base, have: undefined, want: ['a.org'] }), now);
  assert.equal(nextOrderAt({ ...base, want: ['a.org', 'calendar.a.org', 'mail.a.org'] }), now);
  // ...but not while a failure backs off.
  assert.equal(
    nextOrderAt({ ...base, failures: 2, want: ['a.org', 'calendar.a.org', 'mail.a.org'] }),
    now + 3600_000,
  );
  // A service removed: a smaller certificate, no sooner than the next attempt allowed.
  assert.equal(nextOrderAt({ ...base, want: ['a.org'] }), now + 3600_000);
  assert.equal(nextOrderAt({ ...base, nextAttemptAt: null, want: ['a.org'] }), now);
  // The same names: at renewal.
  assert.equal(nextOrderAt({ ...base, want: ['mail.a.org', 'a.org'] }), renewAt(t0, t0 + 90 * DAY));
});

test('backoff doubles up to a day; errors are one line and without secrets', () => {
  assert.deepEqual([1, 2, 3].map(backoffMs), [30 * 60_000, 60 * 60_000, 120 * 60_000]);
  assert.equal(backoffMs(30), BACKOFF_MAX_MS);
  assert.equal(cleanError('bad\nkey s3cr3t-hmac here', ['s3cr3t-hmac']), 'bad key [secret] here');
  assert.equal(cleanError('x'.repeat(400)).length, 300);
});
