// One backup or restore at a time across processes (issue 11): a `pic backup` on the host while the
// API's process runs a job is refused with a message that says why, and the other way round; the
// lock (SQLite's on data/api/backup.lock) goes with its process, kill -9 included.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { createCell } from '../composition.ts';
import { AppError } from '../core/errors.ts';
import type { ServiceVolumesPort } from '../core/ports/service-volumes.ts';
import { tryJobLock } from '../drivers/backup/job-lock.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

function pic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [MAIN, ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A `pic backup` on the host, once it holds the lock. The probe takes the lock for an instant itself:
 * a host command that tried at that instant was refused ("running in another process") and exited,
 * which says nothing about the lock, so it is started again (a full run lost that race once).
 */
async function hostBackupHoldingLock(cellDir: string, dataDir: string) {
  for (let attempt = 1; ; attempt++) {
    const child = spawn(NODE, [MAIN, 'backup', '--dir', cellDir], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let code: number | null | undefined;
    const exited = new Promise<number | null>((r) =>
      child.on('exit', (c) => {
        code = c;
        r(c);
      }),
    );
    for (let i = 0; code === undefined; i++) {
      const probe = tryJobLock(dataDir);
      if (!probe) return { child, exited };
      probe.release();
      assert.ok(i < 4000, 'the host command never took the lock');
      await pause(5);
    }
    await new Promise((r) => setImmediate(r)); // its last stderr bytes
    assert.ok(
      attempt < 5 && code === 1 && /another process/.test(stderr),
      `the host command exited (${code}) before it was seen holding the lock: ${stderr}`,
    );
  }
}

describe('one backup or restore at a time, across processes', () => {
  let cellDir: string;
  const dataDir = () => join(cellDir, 'data', 'api');
  const open = () => createCell({ dataDir: dataDir(), sweepTemps: false, writeLogs: false });

  before(() => {
    cellDir = mkdtempSync(join(tmpdir(), 'pic-cli-lock-'));
    mkdirSync(join(dataDir(), 'bulk'), { recursive: true });
    // Incompressible bytes: a backup long enough to be caught running.
    for (let i = 0; i < 12; i++) writeFileSync(join(dataDir(), 'bulk', `b${i}`), randomBytes(8 << 20));
    open().close();
  });
  after(() => rmSync(cellDir, { recursive: true, force: true }));

  test('the API runs a backup: `pic backup` on the host is refused, and runs once it ended', async () => {
    // The API's backup waits at a service volume until the host command has been refused: however
    // long that command takes to start, the API's job still holds the lock (a full run once saw the
    // backup end first).
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const held: ServiceVolumesPort = {
      list: async () => [{ service: 'notes', volume: 'data', container: 'pic-lock-notes', path: '/data' }],
      export: async () => {
        await gate;
        const pack = tar.pack();
        pack.entry({ name: 'data', type: 'directory' });
        pack.finalize();
        return Readable.from(pack);
      },
      import: async () => {},
    };
    const cell = createCell({
      dataDir: dataDir(),
      sweepTemps: false,
      writeLogs: false,
      serviceVolumes: held,
    });
    try {
      const { backup_id } = cell.deps.backups.create({ origin: 'api' });
      const refused = await pic(['backup', '--dir', cellDir]);
      const job = cell.deps.backups.detail(backup_id).job!;
      assert.notEqual(job.phase, 'done', 'the API’s backup ended before the host command ran: inconclusive');
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /running in another process/);
      release();
      assert.equal((await cell.deps.backups.wait(backup_id)).phase, 'done');
    } finally {
      release();
      cell.close();
    }
    const later = await pic(['backup', '--dir', cellDir]);
    assert.equal(later.code, 0, later.stderr);
  });

  test('`pic backup` runs: the API refuses a backup and a restore (409), then takes the next', async () => {
    const cell = open();
    try {
      const id = cell.deps.backups.list().backups[0]!.backup_id;
      const { exited } = await hostBackupHoldingLock(cellDir, dataDir());
      assert.throws(
        () => cell.deps.backups.create({ origin: 'api' }),
        (e: unknown) => e instanceof AppError && e.code === 'conflict' && /another process/.test(e.message),
      );
      await assert.rejects(
        cell.deps.backups.restore(id, undefined, 'api'),
        (e: unknown) => e instanceof AppError && e.code === 'conflict',
      );
      assert.equal(await exited, 0);
      const { backup_id } = cell.deps.backups.create({ origin: 'api' });
      assert.equal((await cell.deps.backups.wait(backup_id)).phase, 'done');
    } finally {
      cell.close();
    }
  });

  test('kill -9 of the process holding the lock frees it', async () => {
    const { child, exited } = await hostBackupHoldingLock(cellDir, dataDir());
    child.kill('SIGKILL');
    await exited;
    const lock = tryJobLock(dataDir());
    assert.ok(lock, 'free again');
    lock.release();
  });
});
