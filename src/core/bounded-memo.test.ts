import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundedMemo } from './bounded-memo.ts';

test('answers from memory for a key seen before, undefined answers included', () => {
  let calls = 0;
  const f = boundedMemo((k: string) => {
    calls++;
    return k === 'none' ? undefined : k.length;
  });
  assert.equal(f('abc'), 3);
  assert.equal(f('abc'), 3);
  assert.equal(f('none'), undefined);
  assert.equal(f('none'), undefined);
  assert.equal(calls, 2);
});

test('bounded: starts again empty at max entries, never keeps long keys', () => {
  let calls = 0;
  const f = boundedMemo(
    (k: string) => {
      calls++;
      return k;
    },
    { max: 2, maxKeyLength: 4 },
  );
  f('a');
  f('b');
  f('c'); // full: cleared, then c kept
  f('a');
  assert.equal(calls, 4);
  f('long-key');
  f('long-key');
  assert.equal(calls, 6);
});
