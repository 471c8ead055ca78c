import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FLUSH_MS, KEEP, MAX_BYTES, RotatingFile } from './rotating-file.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-rot-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('the spec sizes: 5 MB per file, 5 rotated files kept', () => {
  assert.equal(MAX_BYTES, 5 * 1024 * 1024);
  assert.equal(KEEP, 5);
});

test('rotates before a line would cross the size, keeps 5, never splits a line', () => {
  const dir = join(root, 'a');
  const path = join(dir, 'api.log');
  const f = new RotatingFile(path, 100, 5);
  const line = (i: number) => `${String(i).padStart(3, '0')}-${'x'.repeat(25)}\n`; // 30 bytes
  for (let i = 0; i < 40; i++) f.write(line(i));
  f.close();
  assert.deepEqual(readdirSync(dir).sort(), [
    'api.log',
    'api.log.1',
    'api.log.2',
    'api.log.3',
    'api.log.4',
    'api.log.5',
  ]);
  for (const name of readdirSync(dir)) {
    const size = statSync(join(dir, name)).size;
    assert.ok(size <= 100, `${name} is ${size} bytes`);
    for (const l of readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean))
      assert.match(l, /^\d{3}-x{25}$/);
  }
  // 3 lines per file: the live file holds the newest, .5 the oldest kept; older ones are gone.
  assert.equal(readFileSync(path, 'utf8'), line(39));
  assert.equal(readFileSync(`${path}.1`, 'utf8'), line(36) + line(37) + line(38));
  assert.equal(readFileSync(`${path}.5`, 'utf8'), line(24) + line(25) + line(26));
});

test('a line bigger than the limit is written whole into its own file', () => {
  const dir = join(root, 'b');
  const f = new RotatingFile(join(dir, 'x.log'), 10, 2);
  f.write('small\n');
  f.write(`${'y'.repeat(50)}\n`);
  f.close();
  assert.equal(readFileSync(join(dir, 'x.log'), 'utf8'), `${'y'.repeat(50)}\n`);
  assert.equal(readFileSync(join(dir, 'x.log.1'), 'utf8'), 'small\n');
});

test('reopening appends and counts the existing size; files are 0600', () => {
  const dir = join(root, 'c');
  const path = join(dir, 'x.log');
  const f1 = new RotatingFile(path, 20, 2);
  f1.write('0123456789\n'); // 11 bytes
  f1.close();
  const f2 = new RotatingFile(path, 20, 2);
  f2.write('abcdefghij\n'); // 22 > 20: rotates first
  f2.close();
  assert.equal(readFileSync(path, 'utf8'), 'abcdefghij\n');
  assert.equal(readFileSync(`${path}.1`, 'utf8'), '0123456789\n');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.ok(!existsSync(`${path}.2`));
});

test('lines are buffered: written by flush(), or by the timer within FLUSH_MS without one', async () => {
  const dir = join(root, 'd');
  const path = join(dir, 'x.log');
  const f = new RotatingFile(path, 1000, 2, 20);
  f.write('one\n');
  assert.equal(readFileSync(path, 'utf8'), '', 'not written per line');
  f.flush();
  assert.equal(readFileSync(path, 'utf8'), 'one\n');
  f.write('two\n');
  const deadline = Date.now() + 5000;
  while (readFileSync(path, 'utf8') !== 'one\ntwo\n' && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\n', 'the timer wrote it');
  f.close();
  assert.equal(FLUSH_MS <= 200, true, 'a crash loses at most a few hundred ms of lines');
});

test('a batch rotates between lines exactly as line-by-line writes do', () => {
  const dir = join(root, 'e');
  const path = join(dir, 'x.log');
  const f = new RotatingFile(path, 100, 5);
  const line = (i: number) => `${String(i).padStart(3, '0')}-${'x'.repeat(25)}\n`; // 30 bytes
  for (let i = 0; i < 10; i++) f.write(line(i));
  f.close(); // one flush of ten lines
  assert.equal(readFileSync(path, 'utf8'), line(9));
  assert.equal(readFileSync(`${path}.1`, 'utf8'), line(6) + line(7) + line(8));
  assert.equal(readFileSync(`${path}.3`, 'utf8'), line(0) + line(1) + line(2));
});
