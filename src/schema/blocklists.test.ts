import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  blocklistStatsQuery,
  blocklistUrl,
  isBlockableName,
  parseBlockedDrain,
  parseHostsList,
  uploadQuery,
} from './blocklists.ts';
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

describe('parseBlockedDrain (what pic-dns-blocked drain prints)', () => {
  test('the header, then one count per client and name', () => {
    assert.deepEqual(
      parseBlockedDrain('# pic-dns-blocked 1 3\n10.0.0.7\tads.example\t4\n172.20.255.7\t-\t2\n'),
      {
        counts: [
          { client: '10.0.0.7', name: 'ads.example', count: 4 },
          { client: '172.20.255.7', name: '-', count: 2 },
        ],
        dropped: 3,
        invalid: 0,
      },
    );
    assert.deepEqual(parseBlockedDrain('# pic-dns-blocked 1 0\n'), { counts: [], dropped: 0, invalid: 0 });
  });

  test('an answer without the header is refused; a bad line is skipped and counted', () => {
    assert.equal(parseBlockedDrain(''), undefined);
    assert.equal(parseBlockedDrain('error: no tap\n'), undefined);
    assert.equal(parseBlockedDrain('10.0.0.7\tads.example\t4\n'), undefined);
    const bad = [
      '10.0.0.256\tads.example\t1',
      '10.0.0.07\tads.example\t1',
      '10.0.0.7\tads..example\t1',
      '10.0.0.7\tads.example\t0',
      '10.0.0.7\tads.example\t-1',
      '10.0.0.7\tads.example\t1\textra',
      '10.0.0.7\tADS.example\t1',
      '10.0.0.7\tads"x.example\t1',
      '10.0.0.7\t<script>.example\t1',
      '10.0.0.7\tads.example\t99999999999999',
      '::1\tads.example\t1',
      ' 10.0.0.7\tads.example\t1',
    ];
    const r = parseBlockedDrain(`# pic-dns-blocked 1 0\n${bad.join('\n')}\n10.0.0.7\tok.example\t2\n`)!;
    assert.deepEqual(r.counts, [{ client: '10.0.0.7', name: 'ok.example', count: 2 }]);
    assert.equal(r.invalid, bad.length);
  });

  test('the stats window is one of 24h, 7d, 30d (24h by default)', () => {
    assert.deepEqual(blocklistStatsQuery.parse({}), { window: '24h' });
    assert.equal(blocklistStatsQuery.parse({ window: '30d' }).window, '30d');
    for (const w of ['1h', '24H', '', '7d\n', 'all'])
      assert.equal(blocklistStatsQuery.safeParse({ window: w }).success, false, w);
    assert.equal(blocklistStatsQuery.safeParse({ window: '24h', x: 1 }).success, false);
  });
});
