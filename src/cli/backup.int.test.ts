// `pic backup` and `pic restore` as a person runs them on the host: child processes, a passphrase
// from a file (never an argument), the same archive the API writes; a restore puts back a deleted
// peer and the backup's .env, keeping the old .env beside it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCell } from '../composition.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

function pic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [MAIN, ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('pic backup / pic restore', () => {
  let cellDir: string;
  const passFile = () => join(cellDir, 'pass.txt');
  const openCell = () =>
    createCell({ dataDir: join(cellDir, 'data', 'api'), sweepTemps: false, writeLogs: false });

  before(async () => {
    cellDir = mkdtempSync(join(tmpdir(), 'pic-cli-backup-'));
    mkdirSync(join(cellDir, 'data', 'api'), { recursive: true });
    writeFileSync(join(cellDir, '.env'), 'WG_PORT=51999\n');
    writeFileSync(passFile(), 'a passphrase from a file\n', { mode: 0o600 });
    const cell = openCell();
    try {
      await cell.deps.peers.create({ name: 'laptop' } as never);
    } finally {
      cell.close();
    }
  });
  after(() => rmSync(cellDir, { recursive: true, force: true }));

  test('backup → delete the peer → restore from the file: the peer and the .env are back', async () => {
    const made = await pic(['backup', '--passphrase-file', passFile(), '--dir', cellDir]);
    assert.equal(made.code, 0, made.stderr);
    const archive = made.stdout.trimEnd().split('\n').at(-1)!;
    assert.match(archive, /backup-\d{8}-\d{6}-[0-9a-f]{6}\.tar\.gz\.age$/);
    assert.equal(readFileSync(archive).subarray(0, 21).toString(), 'age-encryption.org/v1');
    assert.ok(!made.stdout.includes('a passphrase from a file'));

    const cell = openCell();
    const key = cell.deps.peers.get('laptop').public_key;
    await cell.deps.peers.remove('laptop');
    cell.close();
    writeFileSync(join(cellDir, '.env'), 'WG_PORT=40000\n');

    const listed = await pic(['restore', '--dir', cellDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /backup-\d{8}-\d{6}-[0-9a-f]{6} .* encrypted/);

    const wrongFile = join(cellDir, 'wrong.txt');
    writeFileSync(wrongFile, 'not the passphrase at all\n');
    const wrong = await pic([
      'restore',
      archive,
      '--passphrase-file',
      wrongFile,
      '--dir',
      cellDir,
      '--no-up',
    ]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /passphrase does not open/);

    const done = await pic([
      'restore',
      archive,
      '--passphrase-file',
      passFile(),
      '--dir',
      cellDir,
      '--no-up',
    ]);
    assert.equal(done.code, 0, done.stderr);
    const again = openCell();
    try {
      assert.equal(again.deps.peers.get('laptop').public_key, key);
    } finally {
      again.close();
    }
    assert.equal(readFileSync(join(cellDir, '.env'), 'utf8'), 'WG_PORT=51999\n');
    assert.equal(readFileSync(join(cellDir, '.env.before-restore'), 'utf8'), 'WG_PORT=40000\n');
  });

  test('a passphrase shorter than 12 characters is refused before anything is written', async () => {
    const short = join(cellDir, 'short.txt');
    writeFileSync(short, 'short\n');
    const r = await pic(['backup', '--passphrase-file', short, '--dir', cellDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /at least 12/);
  });
});
