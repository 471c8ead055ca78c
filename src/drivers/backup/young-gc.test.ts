import assert from 'node:assert/strict';
import { test } from 'node:test';
import { YoungGc } from './young-gc.ts';

test('a scavenge every 4 MiB moved, however the bytes are cut', () => {
  const young = new YoungGc();
  for (let i = 0; i < 64 * 16; i++) young.add(64 * 1024);
  assert.equal(young.collections, 16); // 64 MiB
  const big = new YoungGc();
  big.add(3 * 1024 * 1024);
  assert.equal(big.collections, 0);
  big.add(1024 * 1024);
  assert.equal(big.collections, 1);
});

test('every 256 MiB moved, the collection is a full one', () => {
  const young = new YoungGc();
  for (let i = 0; i < 600; i++) young.add(1024 * 1024);
  assert.equal(young.collections, 150);
  assert.equal(young.full, 2); // at 256 and 512 MiB
});
