// `pic backup` and `pic restore` as a person runs them on the host: child processes, a passphrase
// from a file (never an argument), the same archive the API writes; a restore puts back a deleted
// peer and the backup's .env, keeping the old .env beside it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCell } from '../composition.ts';
import { tryJobLock } from '../drivers/backup/job-lock.ts';
import { chownTree } from '../drivers/docker/host-dirs.ts';
import { ownerArgv } from './commands/backup.ts';

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

  test('what a killed backup or restore left is removed by the next `pic restore` / `pic backup`, not while a job holds the lock', async () => {
    const data = join(cellDir, 'data', 'api');
    const leave = () => {
      mkdirSync(join(data, 'restore-staging-Ab12Cd', 'data', 'secrets'), { recursive: true, mode: 0o700 });
      writeFileSync(join(data, 'restore-staging-Ab12Cd', 'data', 'secrets', 'key'), 'plaintext');
      mkdirSync(join(data, 'backup-snapshot-Ef34Gh'), { mode: 0o700 });
      writeFileSync(join(data, 'backup-snapshot-Ef34Gh', 'cell.db'), 'SQLite format 3\0');
    };
    const left = () =>
      readdirSync(data)
        .filter((n) => /^(restore-staging|backup-snapshot)-/.test(n))
        .sort();
    leave();
    // Another process holds the job lock (a job of its own running): its staging is not touched.
    const held = tryJobLock(data);
    assert.ok(held);
    try {
      const busy = await pic(['restore', '--dir', cellDir]);
      assert.equal(busy.code, 0, busy.stderr);
      assert.deepEqual(left(), ['backup-snapshot-Ef34Gh', 'restore-staging-Ab12Cd']);
    } finally {
      held.release();
    }
    const listed = await pic(['restore', '--dir', cellDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(left(), []);
    assert.match(
      listed.stderr,
      /removed what an interrupted backup or restore left: .*restore-staging-Ab12Cd/,
    );
    leave();
    const made = await pic(['backup', '--dir', cellDir]);
    assert.equal(made.code, 0, made.stderr);
    assert.deepEqual(left(), []);
    rmSync(made.stdout.trimEnd().split('\n').at(-1)!);
  });

  test('a passphrase shorter than 12 characters is refused before anything is written', async () => {
    const short = join(cellDir, 'short.txt');
    writeFileSync(short, 'short\n');
    const r = await pic(['backup', '--passphrase-file', short, '--dir', cellDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /at least 12/);
  });
});

// Root on a running cell, whose data/api belongs to cell-api's user (uid 1000): the work runs in a
// child with that uid, so a swapped symlink cannot make root write anywhere; root reads only the
// passphrase file, the .env and the FILE, passes them on stdin, and writes the restored .env.
describe('pic backup / pic restore as root on a data directory uid 1000 owns', {
  skip: process.getuid?.() !== 0,
}, () => {
  const OWNER = 1000;
  let cellDir: string;
  const dataDir = () => join(cellDir, 'data', 'api');
  const passFile = () => join(cellDir, 'pass.txt');
  const openCell = () => createCell({ dataDir: dataDir(), sweepTemps: false, writeLogs: false });
  const notOwned = (dir: string): string[] => {
    const out: string[] = [];
    if (lstatSync(dir).uid !== OWNER) out.push(dir);
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (lstatSync(p).isDirectory()) out.push(...notOwned(p));
      else if (lstatSync(p).uid !== OWNER) out.push(p);
    }
    return out;
  };

  before(async () => {
    cellDir = mkdtempSync(join(tmpdir(), 'pic-cli-backup-owner-'));
    chmodSync(cellDir, 0o755); // the owner's child must reach data/api; the cell dir stays root's
    mkdirSync(dataDir(), { recursive: true });
    writeFileSync(join(cellDir, '.env'), 'WG_PORT=51999\n', { mode: 0o600 });
    writeFileSync(passFile(), 'a passphrase from a file\n', { mode: 0o600 }); // root's alone
    const cell = openCell();
    try {
      await cell.deps.peers.create({ name: 'laptop' } as never);
    } finally {
      cell.close();
    }
    chownTree(join(cellDir, 'data'), OWNER);
  });
  after(() => rmSync(cellDir, { recursive: true, force: true }));

  test('the archive and everything made in data/api belong to uid 1000; the passphrase is in no argv', async () => {
    const argvs: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
          try {
            const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
            if (cmd.includes('--as-owner')) argvs.push(cmd);
          } catch {}
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const made = await pic(['backup', '--passphrase-file', passFile(), '--dir', cellDir]);
    watching = false;
    await watch;
    assert.equal(made.code, 0, made.stderr);
    const archive = made.stdout.trimEnd().split('\n').at(-1)!;
    assert.equal(statSync(archive).uid, OWNER);
    assert.deepEqual(notOwned(dataDir()), []);
    assert.ok(argvs.length > 0, 'the owner child was seen');
    assert.ok(argvs.every((a) => !a.includes('a passphrase from a file') && !a.includes('WG_PORT')));
    assert.ok(ownerArgv('backup', cellDir).every((a) => !a.includes('passphrase from')));

    // A copy only root can read, outside the data directory: root streams it to the child.
    const copy = join(cellDir, 'copy.tar.gz.age');
    writeFileSync(copy, readFileSync(archive), { mode: 0o600 });
    const cell = openCell();
    const key = cell.deps.peers.get('laptop').public_key;
    await cell.deps.peers.remove('laptop');
    cell.close();
    chownTree(join(cellDir, 'data'), OWNER);
    writeFileSync(join(cellDir, '.env'), 'WG_PORT=40000\n', { mode: 0o600 });

    const listed = await pic(['restore', '--dir', cellDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /encrypted/);

    const done = await pic(['restore', copy, '--passphrase-file', passFile(), '--dir', cellDir, '--no-up']);
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(notOwned(dataDir()), []);
    assert.equal(readFileSync(join(cellDir, '.env'), 'utf8'), 'WG_PORT=51999\n');
    assert.equal(statSync(join(cellDir, '.env')).uid, 0);
    assert.equal(readFileSync(join(cellDir, '.env.before-restore'), 'utf8'), 'WG_PORT=40000\n');
    const again = openCell();
    try {
      assert.equal(again.deps.peers.get('laptop').public_key, key);
    } finally {
      again.close();
    }
  });

  test('an archive in the backups directory is read by the owner; an invalid .env in it is not written', async () => {
    writeFileSync(join(cellDir, '.env'), 'FLASK_DEBUG=1\n', { mode: 0o600 });
    const made = await pic(['backup', '--dir', cellDir]);
    assert.equal(made.code, 0, made.stderr);
    const archive = made.stdout.trimEnd().split('\n').at(-1)!;
    writeFileSync(join(cellDir, '.env'), 'WG_PORT=40001\n', { mode: 0o600 });
    const r = await pic(['restore', archive, '--dir', cellDir, '--no-up']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\.env is not valid.*FLASK_DEBUG/);
    assert.equal(readFileSync(join(cellDir, '.env'), 'utf8'), 'WG_PORT=40001\n');
    assert.deepEqual(notOwned(dataDir()), []);
  });

  test("--as-owner is refused to anyone but the data directory's owner", async () => {
    const r = await pic(['backup', '--as-owner', '--dir', cellDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /internal/);
  });
});
