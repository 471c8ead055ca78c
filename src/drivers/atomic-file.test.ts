import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sweepStaleTemps, writeFileAtomic } from './atomic-file.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-atomic-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `case-${n++}`);
  mkdirSync(d);
  return d;
};

describe('writeFileAtomic', () => {
  test('writes strings and bytes, replacing the old content, leaving no temp behind', () => {
    const dir = fresh();
    const p = join(dir, 'a.conf');
    writeFileAtomic(p, 'one\n');
    assert.equal(readFileSync(p, 'utf8'), 'one\n');
    writeFileAtomic(p, new Uint8Array([0x74, 0x77, 0x6f]));
    assert.equal(readFileSync(p, 'utf8'), 'two');
    writeFileAtomic(p, '');
    assert.equal(readFileSync(p, 'utf8'), '');
    assert.deepEqual(readdirSync(dir), ['a.conf']);
  });

  test('large content is written whole', () => {
    const p = join(fresh(), 'big');
    const big = Buffer.alloc(5 * 1024 * 1024, 'x');
    writeFileAtomic(p, big);
    assert.equal(statSync(p).size, big.length);
  });

  test('modes: 0644 by default, 0600 for secrets, set on every rewrite', () => {
    const dir = fresh();
    const pub = join(dir, 'public');
    const secret = join(dir, 'secret.key');
    writeFileAtomic(pub, 'x');
    writeFileAtomic(secret, 'k', { mode: 0o600 });
    assert.equal(statSync(pub).mode & 0o777, 0o644 & ~process.umask());
    assert.equal(statSync(secret).mode & 0o777, 0o600);
    // A file that was world-readable becomes 0600 when rewritten as a secret: the mode is the new file's.
    writeFileAtomic(pub, 'now secret', { mode: 0o600 });
    assert.equal(statSync(pub).mode & 0o777, 0o600);
  });

  test('missing parent directories are created 0700', () => {
    const dir = fresh();
    const p = join(dir, 'x', 'y', 'z.txt');
    writeFileAtomic(p, 'deep');
    assert.equal(readFileSync(p, 'utf8'), 'deep');
    assert.equal(statSync(join(dir, 'x')).mode & 0o777, 0o700);
  });

  test('a failed write leaves the old file and no temp', () => {
    const dir = fresh();
    const p = join(dir, 'target');
    writeFileAtomic(p, 'old');
    mkdirSync(join(dir, 'isdir'));
    assert.throws(() => writeFileAtomic(join(dir, 'isdir'), 'x')); // rename over a directory fails
    assert.equal(readFileSync(p, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir).sort(), ['isdir', 'target']);
  });
});

describe('sweepStaleTemps', () => {
  test('removes temp files left by a crash, at any depth, and nothing else', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(dir, '.pic-tmp-a.conf.0011aa'), 'torn');
    writeFileSync(join(dir, 'sub', 'deeper', '.pic-tmp-b.0011aa'), 'torn');
    writeFileSync(join(dir, 'a.conf'), 'keep');
    writeFileSync(join(dir, 'sub', 'pic-tmp-not-ours'), 'keep');
    const removed = sweepStaleTemps(dir).sort();
    assert.deepEqual(removed, [
      join(dir, '.pic-tmp-a.conf.0011aa'),
      join(dir, 'sub', 'deeper', '.pic-tmp-b.0011aa'),
    ]);
    assert.deepEqual(readdirSync(dir).sort(), ['a.conf', 'sub']);
    assert.deepEqual(readdirSync(join(dir, 'sub')).sort(), ['deeper', 'pic-tmp-not-ours']);
  });

  test('a missing root is not an error', () => {
    assert.deepEqual(sweepStaleTemps(join(root, 'does-not-exist')), []);
  });
});
