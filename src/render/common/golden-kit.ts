// Golden files: `<case>.golden` holds the input as JSON, a separator line, then the exact expected
// output. A test renders each input and compares byte for byte. To accept a deliberate change, run
// the test with UPDATE_GOLDEN=1 (it rewrites the expected part) and review the diff before committing.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

export const SEPARATOR = '\n----- expected output -----\n';

export function goldenCases(
  dir: string,
): Array<{ name: string; input: unknown; expected: string; path: string }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.golden'))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      const text = readFileSync(path, 'utf8');
      const at = text.indexOf(SEPARATOR);
      if (at < 0) throw new Error(`${path}: no "${SEPARATOR.trim()}" line`);
      return {
        name: f.replace(/\.golden$/, ''),
        input: JSON.parse(text.slice(0, at)),
        expected: text.slice(at + SEPARATOR.length),
        path,
      };
    });
}

/** One test per golden file in dir; render gets the parsed input and returns the output text. */
export function testGoldens(dir: string, render: (input: never) => string): void {
  const cases = goldenCases(dir);
  test(`${dir.split('/').slice(-3).join('/')} has golden cases`, () => assert.ok(cases.length > 0));
  for (const c of cases) {
    test(`golden ${c.name}`, () => {
      const actual = render(c.input as never);
      if (process.env.UPDATE_GOLDEN === '1') {
        writeFileSync(c.path, `${JSON.stringify(c.input, null, 2)}${SEPARATOR}${actual}`);
        return;
      }
      assert.equal(actual, c.expected, `${c.path} differs (UPDATE_GOLDEN=1 rewrites it after review)`);
    });
  }
}
