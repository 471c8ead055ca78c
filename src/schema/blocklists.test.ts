import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blocklistUrl, isBlockableName, parseHostsList, uploadQuery } from './blocklists.ts';
import { HOSTILE_STRINGS } from './hostile.ts';

describe('parseHostsList', () => {
  test('hosts lines, bare names, adblock names, comments and blank lines', () => {
    const r = parseHostsList(
      [
        '# a comment',
        '',
        '0.0.0.0 ads.example',
        '127.0.0.1\tTracker.Example.  # trailing comment',
        '0.0.0.0 a.example b.example',
        ':: v6.example',
        'bare.example',
        '||adblock.example^',
        '! adblock comment',
        '[Adblock Plus 2.0]',
        '   ',
        'ads.example',
        'windows.example\r',
      ].join('\n'),
    );
    assert.deepEqual(r.domains, [
      'ads.example',
      'tracker.example',
      'a.example',
      'b.example',
      'v6.example',
      'bare.example',
      'adblock.example',
      'windows.example',
    ]);
    assert.equal(r.invalid, 0);
    assert.equal(r.ignored, 0);
  });

  test('localhost entries are ignored and counted', () => {
    const r = parseHostsList(
      '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n255.255.255.255 broadcasthost\n0.0.0.0 0.0.0.0\n127.0.0.1 localhost.localdomain\n',
    );
    assert.deepEqual(r.domains, []);
    assert.equal(r.ignored, 7);
    assert.equal(r.invalid, 0);
  });

  test('hostile lines are counted invalid and never become a name', () => {
    const lines = [
      '0.0.0.0 a"b.example',
      "0.0.0.0 a'b.example",
      '0.0.0.0 evil.example" static\nlocal-zone: "x.',
      'x.example{',
      '0.0.0.0 a..b.example',
      '0.0.0.0 .lead.example',
      '0.0.0.0 *.wild.example',
      'one two',
      '0.0.0.0 com',
      '0.0.0.0 -x.example',
      `0.0.0.0 ${'a'.repeat(64)}.example`,
      `0.0.0.0 ${'abcdefgh.'.repeat(27)}example`,
      '0.0.0.0 a\\b.example',
      '0.0.0.0 a\0b.example',
      '||x.example^$third-party',
      '1.2.3.4',
      'ünï.example',
      '0.0.0.0 $(id).example',
    ];
    const r = parseHostsList(lines.join('\n'));
    assert.deepEqual(r.domains, []);
    assert.ok(r.invalid >= lines.length - 1, `${r.invalid} invalid`);
    for (const h of HOSTILE_STRINGS) {
      const p = parseHostsList(`0.0.0.0 ${h}`);
      assert.deepEqual(p.domains, [], JSON.stringify(h));
    }
    for (const n of r.domains) assert.ok(isBlockableName(n));
  });

  test('every name kept fits a zone-file line verbatim', () => {
    const r = parseHostsList('0.0.0.0 ok.example\n0.0.0.0 _dmarc.ok.example\n0.0.0.0 x-1.y2.example\n');
    assert.deepEqual(r.domains, ['ok.example', '_dmarc.ok.example', 'x-1.y2.example']);
    for (const n of r.domains) assert.match(n, /^[a-z0-9_.-]+$/);
  });

  test('100k lines parse quickly', () => {
    const text = Array.from({ length: 100_000 }, (_, i) => `0.0.0.0 ads${i}.example`).join('\n');
    const t0 = performance.now();
    const r = parseHostsList(text);
    assert.equal(r.domains.length, 100_000);
    assert.ok(performance.now() - t0 < 2000);
  });
});

describe('blocklist URL and upload name', () => {
  test('http and https only, no credentials', () => {
    assert.ok(blocklistUrl.safeParse('https://lists.example/hosts.txt').success);
    assert.ok(blocklistUrl.safeParse('http://127.0.0.1:8080/x').success);
    for (const bad of [
      'ftp://lists.example/x',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pass@lists.example/x',
      'https://token@lists.example/x',
      'https://lists.example/a b',
      'https://lists.example/a\nb',
      'lists.example/hosts',
      '',
      `https://lists.example/${'a'.repeat(2100)}`,
    ])
      assert.equal(blocklistUrl.safeParse(bad).success, false, bad);
  });

  test('upload names are plain file names', () => {
    assert.ok(uploadQuery.safeParse({ name: 'my hosts (1).txt' }).success);
    for (const h of HOSTILE_STRINGS.filter((s) => /[^A-Za-z0-9._() -]/.test(s) || s.trim() === ''))
      assert.equal(uploadQuery.safeParse({ name: h }).success, false, JSON.stringify(h));
  });
});
