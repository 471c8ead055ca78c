import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { z } from 'zod';
import {
  anyPassword,
  cidr4,
  cidrRange,
  cidrsOverlap,
  displayText,
  dnsLabel,
  domainName,
  formatIpv4,
  ifaceAddress4,
  ipv4,
  isRfc1918,
  newPassword,
  parseIpv4,
  port,
  privateCidr4,
  timezone,
  timezones,
  username,
} from './fields.ts';
import { HOSTILE_STRINGS } from './hostile.ts';

const ok = (s: z.ZodType, v: unknown) => assert.equal(s.safeParse(v).success, true, `${JSON.stringify(v)}`);
const bad = (s: z.ZodType, v: unknown) =>
  assert.equal(s.safeParse(v).success, false, `${JSON.stringify(v)} should be refused`);

const HOSTILE = HOSTILE_STRINGS;

describe('dnsLabel', () => {
  test('accepts lowercase RFC 1123 labels', () => {
    for (const v of ['a', 'home', 'my-cell', 'x1', '1x', 'a'.repeat(63)]) ok(dnsLabel, v);
  });
  test('refuses upper case, edges, length, dots, underscores and hostile strings', () => {
    for (const v of ['Home', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64), 'ä', ...HOSTILE]) bad(dnsLabel, v);
    bad(dnsLabel, 5);
  });
});

describe('domainName', () => {
  test('accepts lowercase FQDNs without trailing dot', () => {
    for (const v of ['home.cell', 'a.b.c.example.org', 'x-1.pic.ngo']) ok(domainName, v);
  });
  test('refuses single labels, trailing dot, upper case, bad labels, length and hostile strings', () => {
    for (const v of [
      'localhost',
      'home.cell.',
      'Home.cell',
      '-a.cell',
      'a..cell',
      `${'a'.repeat(64)}.cell`,
      `${'a.'.repeat(127)}cell`,
      ...HOSTILE,
    ])
      bad(domainName, v);
  });
});

describe('ipv4, port', () => {
  test('ipv4', () => {
    for (const v of ['10.0.0.1', '0.0.0.0', '255.255.255.255']) ok(ipv4, v);
    for (const v of ['10.0.0', '10.0.0.256', '::1', '010.0.0.1', '10.0.0.1/24', ' 10.0.0.1', ...HOSTILE])
      bad(ipv4, v);
  });
  test('port', () => {
    for (const v of [1, 80, 65535]) ok(port, v);
    for (const v of [0, 65536, 1.5, '80', -1, Number.NaN]) bad(port, v);
  });
  test('parse and format round-trip', () => {
    assert.equal(parseIpv4('10.0.0.1'), 167772161);
    assert.equal(formatIpv4(167772161), '10.0.0.1');
    assert.equal(formatIpv4(parseIpv4('255.255.255.255')), '255.255.255.255');
  });
});

describe('cidr4 (aligned networks)', () => {
  test('aligned networks between /8 and /30', () => {
    for (const v of ['10.0.0.0/8', '10.0.0.0/24', '172.20.0.0/16', '192.168.1.0/30', '10.0.0.4/30'])
      ok(cidr4, v);
  });
  test('unaligned, out of range prefix, malformed', () => {
    for (const v of [
      '10.0.0.1/24',
      '10.0.1.0/16',
      '10.0.0.0/7',
      '10.0.0.0/31',
      '10.0.0.0/32',
      '10.0.0.0',
      '10.0.0.256/24',
      '10.0.0.0/24\n',
      ...HOSTILE,
    ])
      bad(cidr4, v);
  });
  test('cidrRange', () => {
    const r = cidrRange('10.0.0.5/24');
    assert.equal(formatIpv4(r.first), '10.0.0.0');
    assert.equal(formatIpv4(r.last), '10.0.0.255');
    assert.equal(r.prefix, 24);
  });
});

describe('ifaceAddress4', () => {
  test('host addresses with their prefix', () => {
    for (const v of ['10.0.0.1/24', '10.0.0.254/24', '192.168.5.2/30', '172.16.9.9/12']) ok(ifaceAddress4, v);
  });
  test('network and broadcast addresses, bad prefixes, malformed', () => {
    for (const v of ['10.0.0.0/24', '10.0.0.255/24', '192.168.5.0/30', '192.168.5.3/30', '10.0.0.1/31'])
      bad(ifaceAddress4, v);
    for (const v of ['10.0.0.1', '10.0.0.1/33', '10.0.0.300/24', ...HOSTILE]) bad(ifaceAddress4, v);
  });
});

describe('RFC 1918 and overlaps', () => {
  test('isRfc1918: inside the three private blocks only', () => {
    for (const v of ['10.0.0.0/8', '10.200.0.0/16', '172.16.0.0/12', '172.31.0.0/16', '192.168.0.0/16'])
      assert.equal(isRfc1918(v), true, v);
    for (const v of ['8.8.8.0/24', '172.32.0.0/16', '172.15.0.0/16', '192.169.0.0/16', '100.64.0.0/10'])
      assert.equal(isRfc1918(v), false, v);
  });
  test('a block straddling the edge of a private range is refused', () => {
    assert.equal(isRfc1918('172.0.0.0/8'), false);
    assert.equal(isRfc1918('192.160.0.0/12'), false);
  });
  test('privateCidr4 combines alignment and RFC 1918', () => {
    ok(privateCidr4, '172.20.0.0/16');
    bad(privateCidr4, '8.8.0.0/16');
    bad(privateCidr4, '172.20.0.1/16');
  });
  test('cidrsOverlap', () => {
    assert.equal(cidrsOverlap('10.0.0.0/24', '10.0.0.0/16'), true);
    assert.equal(cidrsOverlap('10.0.0.0/16', '10.0.255.0/24'), true);
    assert.equal(cidrsOverlap('10.0.0.0/24', '10.0.1.0/24'), false);
    assert.equal(cidrsOverlap('172.20.0.0/16', '10.0.0.0/24'), false);
    assert.equal(cidrsOverlap('10.0.0.0/24', '10.0.0.128/25'), true);
  });
});

describe('timezone', () => {
  test('IANA zones and UTC', () => {
    for (const v of ['UTC', 'Etc/UTC', 'Europe/Berlin', 'America/New_York', 'Etc/GMT+5']) ok(timezone, v);
  });
  test('current IANA names that ICU lists under their old ones', () => {
    for (const v of ['Asia/Kolkata', 'Asia/Calcutta', 'Europe/Kyiv', 'Asia/Kathmandu', 'Asia/Ho_Chi_Minh'])
      ok(timezone, v);
  });
  test('unknown zones and hostile strings', () => {
    for (const v of [
      'Mars/Olympus',
      'europe/berlin',
      '+01:00',
      'Europe/Berlin\n',
      'x'.repeat(65),
      ...HOSTILE,
    ])
      bad(timezone, v);
  });
  test('the list offered to the wizard is sorted and holds UTC', () => {
    const list = timezones();
    assert.ok(list.includes('UTC'));
    assert.ok(list.includes('Europe/Berlin'));
    assert.deepEqual([...list].sort(), list);
  });
});

describe('passwords, usernames, display text', () => {
  test('new passwords: 12 to 1024 characters, anything printable or not', () => {
    ok(newPassword, 'x'.repeat(12));
    ok(newPassword, '$(id) `id` ;id\n');
    bad(newPassword, 'x'.repeat(11));
    bad(newPassword, 'x'.repeat(1025));
    ok(anyPassword, 'x');
    bad(anyPassword, '');
    bad(anyPassword, 'x'.repeat(1025));
  });
  test('usernames', () => {
    for (const v of ['admin', 'a.b', 'a_b-c', 'x1']) ok(username, v);
    for (const v of ['Admin', '.a', 'a.', ...HOSTILE]) bad(username, v);
  });
  test('display text is one printable line', () => {
    ok(displayText, 'My phone (Ana)');
    ok(displayText, '$(id) is harmless here: it is never rendered');
    for (const v of ['a\nb', 'a\rb', 'a\u0000b', 'a\u202eb', 'x'.repeat(201)]) bad(displayText, v);
  });
});
