import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filesEntryPath, filesPath, pathSegments } from './files.ts';
import { HOSTILE_STRINGS } from './hostile.ts';

describe('file browser paths', () => {
  test('odd but legal names are paths; what climbs, starts at /, or carries a control character is not', () => {
    const legal = HOSTILE_STRINGS.filter((h) => filesEntryPath.safeParse(h).success);
    assert.deepEqual(legal.sort(), [
      '$(id)',
      '--help',
      '-x',
      ';id',
      '`id`',
      'a b',
      'a"b',
      "a'b",
      'import x',
      '{env.HOME}',
      '{file./etc/shadow}',
    ]);
    assert.deepEqual(filesPath.parse('{file./etc/shadow}'), ['{file.', 'etc', 'shadow}']);
    assert.deepEqual(filesPath.parse(''), []);
    assert.equal(filesEntryPath.safeParse('').success, false);
    for (const p of ['..', 'a/..', './a', 'a//b', 'a/', '/a', '\\..\\x', ' a', 'a\tb', 'x'.repeat(256)])
      assert.equal(filesPath.safeParse(p).success, false, JSON.stringify(p));
  });

  test('a refused segment is shown with every control character escaped, never as it was sent', () => {
    for (const c of ['\u0000', '\n', '\u001b', '\u007f', '\u0085', '\u009b']) {
      const r = pathSegments(`ok/a${c}[2Jb`);
      assert.ok('problem' in r);
      assert.ok(!r.problem.includes(c), JSON.stringify(r.problem));
      assert.match(r.problem, /^"a\\(u00[0-9a-f]{2}|n)\[2Jb": must not contain control characters$/);
    }
  });
});
