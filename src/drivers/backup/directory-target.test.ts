// The directory target on temp dirs: an archive lands whole (0600) under its name or not at all; a
// short or long stream, a missing directory and a foreign name are refused; listing shows archives
// only (no temp file, no stranger); a crash's old temp file is swept.
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { directoryTarget } from './directory-target.ts';

const root = mkdtempSync(join(tmpdir(), 'pic-dir-target-'));
after(() => rmSync(root, { recursive: true, force: true }));
const NAME = 'backup-20260301-030000-a1b2c3.tar.gz.age';
const chunks = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

test('put writes the archive whole, 0600, and list/remove see it', async () => {
  const dir = mkdtempSync(join(root, 't-'));
  const t = directoryTarget(dir);
  await t.put(NAME, chunks('hello ', 'world'), 11);
  assert.equal(readFileSync(join(dir, NAME), 'utf8'), 'hello world');
  assert.equal(statSync(join(dir, NAME)).mode & 0o777, 0o600);
  writeFileSync(join(dir, 'notes.txt'), 'the owner’s file');
  assert.deepEqual(await t.list(), [{ name: NAME, size: 11 }]);
  await t.remove(NAME);
  await t.remove(NAME); // already gone: fine
  assert.deepEqual(await t.list(), []);
  assert.deepEqual(readdirSync(dir), ['notes.txt']);
});

test('a stream shorter or longer than its size leaves nothing behind', async () => {
  const dir = mkdtempSync(join(root, 't-'));
  const t = directoryTarget(dir);
  await assert.rejects(t.put(NAME, chunks('short'), 11), /ended after 5 of 11 bytes/);
  await assert.rejects(t.put(NAME, chunks('much too long'), 4), /longer than its 4 bytes/);
  const failing = new Readable({
    read() {
      this.destroy(new Error('the archive could not be read'));
    },
  });
  await assert.rejects(t.put(NAME, failing, 4), /could not be read/);
  assert.deepEqual(readdirSync(dir), []);
});

test('an existing archive is replaced atomically, never half-written', async () => {
  const dir = mkdtempSync(join(root, 't-'));
  const t = directoryTarget(dir);
  await t.put(NAME, chunks('first'), 5);
  await assert.rejects(t.put(NAME, chunks('sec'), 6));
  assert.equal(readFileSync(join(dir, NAME), 'utf8'), 'first', 'a failed copy keeps the old one');
  await t.put(NAME, chunks('second'), 6);
  assert.equal(readFileSync(join(dir, NAME), 'utf8'), 'second');
});

test('a missing directory is an error naming it, and nothing is created', async () => {
  const dir = join(root, 'not-mounted');
  const t = directoryTarget(dir);
  await assert.rejects(t.put(NAME, chunks('x'), 1), (e: Error) =>
    e.message.includes(`${dir} does not exist`),
  );
  await assert.rejects(t.list(), /does not exist/);
  assert.throws(() => statSync(dir));
});

test('names other than archives and probes are refused', async () => {
  const dir = mkdtempSync(join(root, 't-'));
  const t = directoryTarget(dir);
  for (const name of ['../escape.tar.gz', '/etc/passwd', 'x', `${NAME}/x`, '.pic-tmp-x'])
    await assert.rejects(t.put(name, chunks('x'), 1), /refused an object name/);
  await assert.rejects(t.remove('../x'), /refused an object name/);
  assert.deepEqual(readdirSync(dir), []);
});

test('an old temp file (a crash’s leftover) is swept by the next put; a fresh one is left alone', async () => {
  const dir = mkdtempSync(join(root, 't-'));
  mkdirSync(dir, { recursive: true });
  const old = join(dir, `.pic-tmp-${NAME}.aaaaaa`);
  const fresh = join(dir, `.pic-tmp-${NAME}.bbbbbb`);
  writeFileSync(old, 'partial');
  writeFileSync(fresh, 'in progress');
  const past = new Date(Date.now() - 7 * 3_600_000);
  utimesSync(old, past, past);
  const t = directoryTarget(dir);
  await t.put(NAME, chunks('x'), 1);
  assert.deepEqual(readdirSync(dir).sort(), [fresh.split('/').pop(), NAME].sort());
});
