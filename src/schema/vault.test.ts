import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HOSTILE_STRINGS } from './hostile.ts';
import { certIdParams, certName, issueCertSchema, revokeCertSchema } from './vault.ts';

const ok = (v: unknown) => assert.equal(certName.safeParse(v).success, true, JSON.stringify(v));
const bad = (v: unknown) =>
  assert.equal(certName.safeParse(v).success, false, `${JSON.stringify(v)} accepted`);

describe('certName', () => {
  test('DNS names, one leading wildcard label over two or more labels, IPv4 and IPv6', () => {
    for (const v of [
      'nas',
      'nas.home.cell',
      'calendar.home.cell',
      'a-b.example.org',
      '*.home.cell',
      '*.a.b.c',
      'x1.y2',
      '192.0.2.10',
      '10.0.0.1',
      '2001:db8::1',
      '::1',
      'a'.repeat(63),
    ])
      ok(v);
  });

  test('wildcards anywhere else, bare or over one label are refused', () => {
    for (const v of [
      '*',
      '*.cell',
      'a*.home.cell',
      '*a.home.cell',
      'a.*.home.cell',
      '**.home.cell',
      '*.*.cell',
    ])
      bad(v);
  });

  test('upper case, edges, dots, IP look-alikes and overlong names are refused', () => {
    for (const v of [
      'NAS.home.cell',
      '-a.home.cell',
      'a-.home.cell',
      'a..b',
      '.a',
      'a.',
      'a_b.cell',
      'a'.repeat(64),
      `${'a.'.repeat(127)}a`,
      '1.2.3',
      '999.1.1.1',
      'fe80::1%eth0',
      '[::1]',
      '10.0.0.0/24',
      'ä.cell',
      'a:b',
    ])
      bad(v);
  });

  test('every hostile string is refused', () => {
    for (const v of [
      ...HOSTILE_STRINGS,
      '..',
      'a/../b',
      'a\nb.cell',
      'a.cell\n',
      '"a.cell"',
      '{env.HOME}.cell',
    ])
      bad(v);
    for (const v of [1, null, true, {}, []]) bad(v);
  });
});

describe('issueCertSchema', () => {
  test('defaults: no extra SANs, 365 days, server only', () => {
    assert.deepEqual(issueCertSchema.parse({ common_name: 'nas.home.cell' }), {
      common_name: 'nas.home.cell',
      sans: [],
      days: 365,
      client_auth: false,
    });
  });

  test('days 1..825 only, whole numbers', () => {
    for (const days of [1, 397, 825])
      assert.ok(issueCertSchema.safeParse({ common_name: 'a', days }).success);
    for (const days of [0, -1, 826, 1.5, '30', null, 1e9])
      assert.equal(issueCertSchema.safeParse({ common_name: 'a', days }).success, false, String(days));
  });

  test('a bad SAN names its index; unknown fields are refused', () => {
    const r = issueCertSchema.safeParse({ common_name: 'a.cell', sans: ['ok.cell', 'x\ny'] });
    assert.equal(r.success, false);
    assert.deepEqual(r.error?.issues[0]?.path, ['sans', 1]);
    const u = issueCertSchema.safeParse({ common_name: 'a.cell', key: 'x' });
    assert.equal(u.success, false);
    assert.equal(issueCertSchema.safeParse({ common_name: 'a', sans: Array(101).fill('a') }).success, false);
  });
});

describe('revoke and id', () => {
  test('reasons are the RFC 5280 ones offered; unspecified by default', () => {
    assert.deepEqual(revokeCertSchema.parse({}), { reason: 'unspecified' });
    assert.ok(revokeCertSchema.safeParse({ reason: 'keyCompromise' }).success);
    for (const reason of ['certificateHold', 'removeFromCRL', 'x', '', ...HOSTILE_STRINGS])
      assert.equal(revokeCertSchema.safeParse({ reason }).success, false, reason);
  });

  test('an id is digits or a hex serial: no path tricks', () => {
    assert.equal(certIdParams.parse({ id: '12' }).id, '12');
    assert.equal(certIdParams.parse({ id: 'ABCDEF01' }).id, 'abcdef01');
    for (const id of ['..', '../1', '1/2', '%2e', '1 ', '', 'a'.repeat(65), ...HOSTILE_STRINGS])
      assert.equal(certIdParams.safeParse({ id }).success, false, id);
  });
});
