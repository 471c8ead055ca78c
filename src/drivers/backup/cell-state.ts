// The cell's state as a backup sees it, and the swap a restore makes. A restore is journaled: once a
// verified staging directory exists, a journal naming it is written (atomically), then the database
// rows and the data directory's entries are swapped in; a crash at any point after the journal is
// finished at the next start (every step can run again), a crash before it leaves the old state and
// a staging directory the next start deletes. So the cell is before or after a restore, never between.
// The services' volumes come last (after the swap, from the staging directory): the journal then says
// so (phase 'volumes') and keeps the staging, and a start after a crash there puts every volume back.
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DatabaseSync, backup as sqliteBackup } from 'node:sqlite';
import type { RunningJob } from '../../core/ports/backup-engine.ts';
import { ARCHIVE_PATH_PATTERN, BACKUP_ID_PATTERN } from '../../schema/backup.ts';
import { fsyncDir, writeFileAtomic } from '../atomic-file.ts';
import type { Db } from '../db.ts';
import { migrate, schemaVersion } from '../db.ts';
import { MIGRATIONS } from '../migrations.ts';
import type { ArchiveSource } from './archive-writer.ts';

/** In the API's data directory, what a backup never holds and a restore never touches. */
const NOT_STATE =
  /^(cell\.db(-wal|-shm|-journal)?|backup\.lock(-journal)?|logs|backups|restore-staging-.*|backup-snapshot-.*|backup-job\.json|restore-journal\.json|\.pic-tmp-.*)$/;
const STAGING_PREFIX = 'restore-staging-';
/** A backup's database snapshot is made in a private directory of this name (see databaseSnapshot). */
const SNAPSHOT_PREFIX = 'backup-snapshot-';
const JOURNAL = 'restore-journal.json';

export class RestoreRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefused';
  }
}

export interface DatabaseSnapshot {
  source: ArchiveSource;
  /** Closes the snapshot's descriptor (its bytes go with it: the file has no name any more). */
  close(): Promise<void>;
}

/** Pages per step of SQLite's backup: all of them in one step, so one read transaction (node:sqlite wants > 0). */
const ALL_PAGES = 0x7fffffff;

/**
 * The database as of one point in time, through SQLite's online backup API (node:sqlite's backup(),
 * sqlite3_backup_step on libuv's thread pool), never a copy of the live `cell.db*` files and never
 * the whole database in memory: SQLite copies it page by page through its page cache (2 MiB) into
 * `<dataDir>/backup-snapshot-XXXXXX/cell.db` (a 0700 directory beside the live database, which holds
 * the same plaintext). The copy reads from a read-only connection of its own, in one step: one read
 * transaction, so writers on the API's connection go on (WAL) and the copy never restarts. As soon as
 * SQLite is done the file is opened and its name removed: the archive reads the unlinked file, whose
 * bytes the kernel frees when the descriptor closes (kill -9 included). Only a kill during SQLite's
 * copy itself leaves the directory, removed by the next start (sweepTemps, under the job lock).
 */
export async function databaseSnapshot(db: Db, dataDir: string): Promise<DatabaseSnapshot> {
  const dir = mkdtempSync(join(dataDir, SNAPSHOT_PREFIX));
  let handle: FileHandle | undefined;
  try {
    chmodSync(dir, 0o700);
    const file = join(dir, 'cell.db');
    const location = db.location();
    const source = location ? new DatabaseSync(location, { readOnly: true }) : db;
    try {
      if (source !== db) source.exec('PRAGMA busy_timeout = 5000');
      await sqliteBackup(source, file, { rate: ALL_PAGES });
    } finally {
      if (source !== db) source.close();
    }
    handle = await open(file, NO_FOLLOW);
  } finally {
    // The name goes now, the descriptor keeps the bytes readable until close().
    rmSync(dir, { recursive: true, force: true });
  }
  const { size } = await handle.stat();
  const opened = handle;
  let closed = false;
  return {
    source: {
      path: 'db/cell.db',
      size,
      open: () => readHandle(opened, size, Buffer.allocUnsafe(READ_BYTES)),
    },
    async close() {
      if (closed) return;
      closed = true;
      await opened.close();
    },
  };
}

async function* readHandle(handle: FileHandle, size: number, buffer: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at <= size; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
    if (bytesRead === 0) return;
    at += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/** Every regular file under `dir`, as archive sources under `prefix/`; symlinks and sockets are skipped. */
export function* treeSources(
  dir: string,
  prefix: string,
  skip: RegExp = NOT_STATE,
): Generator<ArchiveSource> {
  if (!existsSync(dir)) return;
  // One read buffer for the whole walk: the writer copies a chunk before it opens the next source.
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const walk = function* (abs: string, rel: string, top: boolean): Generator<ArchiveSource> {
    for (const name of readdirSync(abs).sort()) {
      if (top && skip.test(name)) continue;
      if (name.startsWith('.pic-tmp-')) continue;
      const full = join(abs, name);
      const st = lstatSync(full);
      const archived = `${rel}/${name}`;
      if (st.isDirectory()) yield* walk(full, archived, false);
      else if (st.isFile()) {
        if (!ARCHIVE_PATH_PATTERN.test(archived))
          throw new Error(
            `cannot back up ${JSON.stringify(full)}: its name has characters a backup does not carry`,
          );
        yield { path: archived, size: st.size, open: () => readSource(full, st.size, buffer) };
      }
    }
  };
  yield* walk(dir, prefix, true);
}

/** Files smaller than this are read at once; larger ones stream in reads of this size. */
const READ_BYTES = 1024 * 1024;

/**
 * A small file in one synchronous read (tens of µs from the page cache, where a stream costs four
 * trips through the thread pool: most of a backup's time on many small files); a large one in reads
 * on the thread pool. Both into `buffer`, again and again (no garbage per read), and one byte past
 * `size`: a file that grew since it was listed yields more than its size, which the writer refuses.
 */
function readSource(file: string, size: number, buffer: Buffer): Iterable<Buffer> | AsyncIterable<Buffer> {
  return size < buffer.length ? readWhole(file, size, buffer) : readInPieces(file, size, buffer);
}

const NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;

function* readWhole(file: string, size: number, buffer: Buffer): Generator<Buffer> {
  const fd = openSync(file, NO_FOLLOW);
  try {
    yield buffer.subarray(0, readSync(fd, buffer, 0, size + 1, 0));
  } finally {
    closeSync(fd);
  }
}

async function* readInPieces(file: string, size: number, buffer: Buffer): AsyncGenerator<Buffer> {
  const handle = await open(file, NO_FOLLOW);
  try {
    yield* readHandle(handle, size, buffer);
  } finally {
    await handle.close();
  }
}

/** A fresh, private directory for one restore, inside the data directory (same filesystem: renames). */
export function newStaging(dataDir: string): string {
  const dir = mkdtempSync(join(dataDir, STAGING_PREFIX));
  chmodSync(dir, 0o700);
  return dir;
}

/** The staged database is sound and not from a newer PIC; it is brought to this PIC's schema. */
export function checkStagedDatabase(staging: string): void {
  const file = join(staging, 'db', 'cell.db');
  if (!existsSync(file)) throw new RestoreRefused('the backup holds no database');
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file);
    const integrity = db.prepare('PRAGMA integrity_check').get() as { integrity_check: string };
    if (integrity.integrity_check !== 'ok') throw new RestoreRefused("the backup's database is damaged");
    db.exec('PRAGMA trusted_schema = OFF');
    const version = schemaVersion(db);
    if (version > latest)
      throw new RestoreRefused(
        `the backup's database is from a newer PIC (schema ${version}, this one knows ${latest})`,
      );
    // Exactly the tables, indexes and triggers PIC's migrations made at that version, and nothing
    // else (no view or trigger of the archive's own runs when its rows are read or migrated).
    if (schemaOf(db) !== schemaAt(version))
      throw new RestoreRefused(`the backup's database does not have PIC's schema ${version}: refused`);
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
    if ((db.prepare('PRAGMA foreign_key_check').all() as unknown[]).length > 0)
      throw new RestoreRefused("the backup's database has rows pointing at rows that do not exist");
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } catch (err) {
    if (err instanceof RestoreRefused) throw err;
    throw new RestoreRefused(`the backup's database cannot be read: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

/** The schema as text: every object's type, name, table and SQL, in a stable order. */
function schemaOf(db: DatabaseSync): string {
  return JSON.stringify(
    db
      .prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
      )
      .all(),
  );
}

/** The schema a database has after PIC's migrations up to `version`, made fresh in memory. */
function schemaAt(version: number): string {
  const fresh = new DatabaseSync(':memory:');
  try {
    migrate(
      fresh,
      MIGRATIONS.filter((m) => m.version <= version),
    );
    return schemaOf(fresh);
  } finally {
    fresh.close();
  }
}

interface Journal {
  staging: string;
  /** Data directory entries the backup brings. */
  install: string[];
  /** Live entries the backup does not have: moved aside, so the state is the backup's. */
  remove: string[];
  /** The staged service volumes are to be put back too (their step comes after the swap). */
  volumes?: boolean;
  /** 'volumes': the files and rows are in; only the volumes are left (the staging is kept for them). */
  phase?: 'volumes';
}

/** Writes the journal: from here on, the restore is finished even across a crash. */
export function commitRestore(dataDir: string, staging: string, volumes = false): void {
  const stagedData = join(staging, 'data');
  const install = existsSync(stagedData) ? readdirSync(stagedData).filter((n) => !NOT_STATE.test(n)) : [];
  const remove = readdirSync(dataDir).filter((n) => !NOT_STATE.test(n) && !install.includes(n));
  const journal: Journal = { staging: basename(staging), install, remove, ...(volumes ? { volumes } : {}) };
  writeFileAtomic(join(dataDir, JOURNAL), JSON.stringify(journal), { mode: 0o600 });
}

/**
 * The staging directory of a restore whose files and rows are in but whose volumes are not (a crash
 * in the volume step): the next start puts them back from it (every volume again: an import empties
 * the directory first, so a half-done one is redone whole), then finishVolumes.
 */
export function pendingVolumes(dataDir: string): string | undefined {
  const path = join(dataDir, JOURNAL);
  if (!existsSync(path)) return undefined;
  const journal = parseJournal(readFileSync(path, 'utf8'));
  return journal.phase === 'volumes' ? join(dataDir, journal.staging) : undefined;
}

/** The volume step is over (done, or failed and reported): the journal goes, then its staging directory. */
export async function finishVolumes(dataDir: string, staging: string): Promise<void> {
  const path = join(dataDir, JOURNAL);
  if (existsSync(path) && parseJournal(readFileSync(path, 'utf8')).staging === basename(staging)) {
    rmSync(path);
    fsyncDir(dataDir);
  }
  // On the thread pool: a staging directory holds the whole backup (and the state it replaced).
  await rm(staging, { recursive: true, force: true });
}

/**
 * Carries out the journal (again, after a crash): the data directory's entries, renamed one by one,
 * then the database rows in one transaction (sessions ended: the restored users log in again).
 * `afterFiles` is a test hook between the two (the crash tests kill the process there).
 */
export function rollForward(dataDir: string, db: Db, afterFiles?: () => void): boolean {
  const path = join(dataDir, JOURNAL);
  if (!existsSync(path)) return false;
  const journal = parseJournal(readFileSync(path, 'utf8'));
  const staging = join(dataDir, journal.staging);
  if (!existsSync(staging))
    throw new Error(`the restore journal names ${journal.staging}, which is not there: restore again`);
  // Files and rows are in (sessions made since must not end again): only the volumes are left.
  if (journal.phase === 'volumes') return false;
  const aside = join(staging, 'replaced');
  mkdirSync(aside, { recursive: true, mode: 0o700 });
  for (const name of journal.remove) moveIfThere(join(dataDir, name), join(aside, name));
  for (const name of journal.install) {
    const incoming = join(staging, 'data', name);
    if (!existsSync(incoming)) continue; // already moved in by an earlier run
    moveIfThere(join(dataDir, name), join(aside, name));
    renameSync(incoming, join(dataDir, name));
  }
  fsyncDir(dataDir);
  afterFiles?.();
  // The spec's order: the vault and keys (moved in above) before the rows that refer to them.
  copyDatabase(db, join(staging, 'db', 'cell.db'));
  if (journal.volumes) {
    // The volumes' step next, from the staging directory the journal keeps.
    const next: Journal = {
      staging: journal.staging,
      install: [],
      remove: [],
      volumes: true,
      phase: 'volumes',
    };
    writeFileAtomic(path, JSON.stringify(next), { mode: 0o600 });
    return true;
  }
  rmSync(path);
  fsyncDir(dataDir);
  return true;
}

/**
 * The journal is read back as data, never trusted: the staging directory is one of ours by name, and
 * every entry is a single name in the data directory (no '/', no '..'), so no rename leaves it.
 */
function parseJournal(text: string): Journal {
  const j = JSON.parse(text) as Partial<Journal>;
  const single = (n: unknown): n is string =>
    typeof n === 'string' &&
    /^[A-Za-z0-9._@+=,~-]{1,255}$/.test(n) &&
    n !== '.' &&
    n !== '..' &&
    !NOT_STATE.test(n);
  if (
    typeof j.staging !== 'string' ||
    !/^restore-staging-[A-Za-z0-9]{6}$/.test(j.staging) ||
    !Array.isArray(j.install) ||
    !Array.isArray(j.remove) ||
    !j.install.every(single) ||
    !j.remove.every(single)
  )
    throw new Error(
      'the restore journal is not one PIC wrote: remove data/api/restore-journal.json and restore again',
    );
  if ((j.volumes !== undefined && j.volumes !== true) || (j.phase !== undefined && j.phase !== 'volumes'))
    throw new Error(
      'the restore journal is not one PIC wrote: remove data/api/restore-journal.json and restore again',
    );
  return {
    staging: j.staging,
    install: j.install,
    remove: j.remove,
    ...(j.volumes ? { volumes: true } : {}),
    ...(j.phase ? { phase: j.phase } : {}),
  };
}

/**
 * Deletes staging directories no journal names (a restore that stopped before it was committed) and
 * database snapshots a killed backup left.
 */
export function sweepStaging(dataDir: string): string[] {
  const journaled = existsSync(join(dataDir, JOURNAL));
  const gone: string[] = [];
  for (const name of readdirSync(dataDir)) {
    // A backup's database snapshot left by a kill during SQLite's copy: never needed again.
    const stale = name.startsWith(SNAPSHOT_PREFIX) || (!journaled && name.startsWith(STAGING_PREFIX));
    if (!stale) continue;
    rmSync(join(dataDir, name), { recursive: true, force: true });
    gone.push(name);
  }
  return gone;
}

const JOB_MARK = 'backup-job.json';

/** The running job on disk (atomically, 0600), or none once it ended. */
export function markJob(dataDir: string, job: RunningJob | undefined): void {
  const path = join(dataDir, JOB_MARK);
  if (job) writeFileAtomic(path, JSON.stringify(job), { mode: 0o600 });
  else rmSync(path, { force: true });
}

/**
 * The job a stopped process was running, read once and removed; call it holding the job lock (a job
 * running in another process has its mark too). Read as data: anything else is dropped.
 */
export function takeInterruptedJob(dataDir: string): RunningJob | undefined {
  const path = join(dataDir, JOB_MARK);
  if (!existsSync(path)) return undefined;
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as Partial<RunningJob>;
    if (
      typeof j.backup_id === 'string' &&
      BACKUP_ID_PATTERN.test(j.backup_id) &&
      (j.kind === 'backup' || j.kind === 'restore') &&
      typeof j.started_at === 'string' &&
      j.started_at.length <= 40
    )
      return {
        backup_id: j.backup_id,
        kind: j.kind,
        started_at: j.started_at,
        ...(j.committed === true ? { committed: true } : {}),
      };
    return undefined;
  } catch {
    return undefined;
  } finally {
    rmSync(path, { force: true });
  }
}

/**
 * What a killed job left (sweepStaging), removed only while this process holds the job lock: then no
 * other process (cell-api, `pic backup` / `pic restore` on the host) runs a job whose staging or
 * snapshot this would delete. Null when another process holds it (its job cleans up after itself,
 * and whoever takes the lock next sweeps). Every start and every job of every process calls it.
 */
export function sweepUnderLock(
  dataDir: string,
  lock: () => { release(): void } | null,
): { swept: string[]; interrupted: RunningJob | undefined } | null {
  const held = lock();
  if (!held) return null;
  try {
    return { interrupted: takeInterruptedJob(dataDir), swept: sweepStaging(dataDir) };
  } finally {
    held.release();
  }
}

/**
 * Deletes a restore's staging directory, unless the journal names it. A swap that failed part-way in
 * a running process (a full disk, a database another writer held past the busy timeout) has moved
 * files but not the rows: deleting the staging then left a mix, and a journal naming nothing, which
 * rollForward refuses, so the cell could not start again. Kept, the next start finishes the swap.
 */
export async function removeStaging(staging: string): Promise<void> {
  if (journalNames(staging)) return;
  await rm(staging, { recursive: true, force: true });
}

function journalNames(staging: string): boolean {
  const path = join(dirname(staging), JOURNAL);
  if (!existsSync(path)) return false;
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as Journal).staging === basename(staging);
  } catch {
    return true; // unreadable: the next start reports it; the staging may still be what it needs
  }
}

function moveIfThere(from: string, to: string): void {
  if (!existsSync(from)) return;
  if (existsSync(to)) rmSync(to, { recursive: true, force: true });
  renameSync(from, to);
}

/** Every table's rows from the staged file, in one transaction; idempotent. */
/** The live audit trail stays (a restore must not erase or forge it); the restore is appended to it. */
const KEPT_LIVE = new Set(['audit', 'audit_anon']);
/** Ended by a restore like sessions: a one-time link spent after the backup must not work again. */
const ENDED = ['sessions', 'peer_config_links'];

/** The copy, rolled back: run before the journal, so a database that cannot be copied is refused then. */
export function checkCopy(db: Db, staging: string): void {
  try {
    copyDatabase(db, join(staging, 'db', 'cell.db'), true);
  } catch (err) {
    throw new RestoreRefused(`the backup's database cannot replace this one: ${(err as Error).message}`);
  }
}

function copyDatabase(db: Db, file: string, dryRun = false): void {
  if (!statSync(file).isFile()) throw new Error('the staged database is missing');
  db.prepare('ATTACH DATABASE ? AS restored').run(file);
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec('PRAGMA defer_foreign_keys = ON');
      const tables = db
        .prepare("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all() as { name: string }[];
      for (const { name } of tables) {
        if (KEPT_LIVE.has(name)) continue;
        const q = `"${name.replaceAll('"', '""')}"`;
        const cols = (db.prepare(`PRAGMA main.table_info(${q})`).all() as { name: string }[])
          .map((c) => `"${c.name.replaceAll('"', '""')}"`)
          .join(', ');
        db.exec(`DELETE FROM main.${q}`);
        db.exec(`INSERT INTO main.${q} (${cols}) SELECT ${cols} FROM restored.${q}`);
      }
      const hasSeq = db.prepare("SELECT 1 FROM restored.sqlite_master WHERE name = 'sqlite_sequence'").get();
      if (hasSeq && db.prepare("SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'").get()) {
        db.exec('DELETE FROM main.sqlite_sequence');
        db.exec('INSERT INTO main.sqlite_sequence SELECT * FROM restored.sqlite_sequence');
      }
      // A restore ends every session (the restored users log in again) and every one-time link.
      for (const t of ENDED) db.exec(`DELETE FROM main.${t}`);
      db.exec(dryRun ? 'ROLLBACK' : 'COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  } finally {
    db.exec('DETACH DATABASE restored');
  }
}

/** Reads a small file the restore needs (the .env) from staging, if the backup has it. */
export function stagedText(staging: string, path: string): string | undefined {
  const full = join(staging, ...path.split('/'));
  return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
}
