// The machine side of backups: what a backup holds (the database, the data directory, the .env, the
// rendered configs, the services' volumes) and the restore's stage → verify → journaled swap
// (cell-state.ts), then the volumes (volume-restore.ts).
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { AppError } from '../../core/errors.ts';
import type {
  BackupEnginePort,
  BackupKey,
  NoteFn,
  ProgressFn,
  RestoreHandle,
} from '../../core/ports/backup-engine.ts';
import type { ServiceVolumesPort } from '../../core/ports/service-volumes.ts';
import type { UnpackLimits } from '../../schema/backup.ts';
import type { Db } from '../db.ts';
import { ArchiveError, openArchive, unpack } from './archive-reader.ts';
import { type ArchiveSource, writeArchive } from './archive-writer.ts';
import { BackupFiles, UploadRefused } from './backup-files.ts';
import {
  checkCopy,
  checkStagedDatabase,
  commitRestore,
  databaseSnapshot,
  finishVolumes,
  markJob,
  newStaging,
  pendingVolumes,
  RestoreRefused,
  removeStaging,
  rollForward,
  stagedText,
  sweepStaging,
  treeSources,
} from './cell-state.ts';
import { tryJobLock } from './job-lock.ts';
import { ScryptChildError } from './scrypt-child.ts';
import { hasStagedVolumes, restoreStagedVolumes } from './volume-restore.ts';
import { thenVolumes } from './volume-sources.ts';

export interface CellBackupOptions {
  db: Db;
  /** The API's data directory (cell.db, secrets/…); backups go to its backups/. */
  dataDir: string;
  /** The rendered daemon configs this process can see (config/ of the cell), if any. */
  configDir?: string;
  /** The cell's .env as text, when this process knows it. */
  env: () => string | undefined;
  picVersion: string;
  limits: UnpackLimits;
  /** scrypt work factor for passphrase archives (default age's 18; tests lower it). */
  workFactor?: number;
  /** The installed services' data volumes, archived after the files (none: a backup without them). */
  volumes?: ServiceVolumesPort;
  /**
   * Test hook, called at each step of a restore's swap: the crash tests kill the process there
   * (PIC_TEST_CRASH_AT, read by the composition root) to show the journal finishes it at the next start.
   */
  onRestoreStep?: (step: RestoreStep) => void;
}

/**
 * Before the journal is written, after it, after the data directory's entries are swapped in, and in
 * the middle of the first volume's import (its directory emptied, some of its bytes sent).
 */
export const RESTORE_STEPS = ['before-journal', 'after-journal', 'after-files', 'during-volumes'] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];

export function cellBackupEngine(
  o: CellBackupOptions,
): BackupEnginePort & { files: BackupFiles; resumeVolumes(note: NoteFn): Promise<boolean> } {
  const files = new BackupFiles(join(o.dataDir, 'backups'));
  return {
    files,
    newId: (now) => BackupFiles.newId(now),
    list: () => files.list(),
    get: (id) => files.get(id),
    open: (id) => files.open(id),
    remove: (id) => files.remove(id),
    async upload(body, maxBytes, now) {
      try {
        return await files.upload(body, maxBytes, now);
      } catch (err) {
        if (err instanceof UploadRefused)
          throw new AppError(err.tooLarge ? 'payload_too_large' : 'bad_request', err.message);
        throw err;
      }
    },
    async write(id, header, key, progress, note = () => undefined) {
      const encrypted = key.passphrase !== undefined || (key.recipients?.length ?? 0) > 0;
      progress('database', 0, null);
      const snapshot = await databaseSnapshot(o.db, o.dataDir);
      let written: number;
      try {
        const sources = collect(o, snapshot.source);
        const total = sources.reduce((n, s) => n + s.size, 0);
        progress('database', 0, total);
        const all = thenVolumes(phased(sources, progress, total), o.volumes, progress, note, o.limits);
        await writeArchive({
          out: files.target(id, encrypted),
          header,
          sources: all.sources,
          encryption: encryptionOf(key, o.workFactor),
          onProgress: (done) => progress(all.streaming() ? 'volumes' : 'writing', done, all.total(total)),
        });
        written = all.total(total) ?? total;
      } finally {
        await snapshot.close();
      }
      const item = files.get(id);
      if (!item) throw new Error('the backup was written but is not in the backups directory');
      progress('done', written, written);
      return item;
    },
    async openRestore(id, passphrase) {
      const file = files.path(id);
      if (!file) throw new AppError('not_found', 'Backup not found');
      return restoreHandle(o, file, passphrase);
    },
    currentEnv: () => o.env(),
    markJob: (job) => markJob(o.dataDir, job),
    lock() {
      const held = tryJobLock(o.dataDir);
      // Holding the lock, no other job runs anywhere: what a killed one left goes before this one starts.
      if (held) sweepStaging(o.dataDir);
      return held;
    },
    async resumeVolumes(note) {
      const staging = pendingVolumes(o.dataDir);
      if (!staging) return false;
      // The job lock, as any restore: a host command running one now finishes it itself.
      const lock = tryJobLock(o.dataDir);
      if (!lock) return false;
      try {
        await restoreStagedVolumes(staging, o.volumes, () => undefined, note);
      } finally {
        await finishVolumes(o.dataDir, staging);
        lock.release();
      }
      return true;
    },
  };
}

function readable(configDir: string, archived: string): boolean {
  try {
    accessSync(join(configDir, ...archived.split('/').slice(1)), constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function encryptionOf(key: BackupKey, workFactor: number | undefined) {
  if (key.passphrase === undefined && !key.recipients?.length) return undefined;
  return {
    ...(key.passphrase !== undefined ? { passphrase: key.passphrase } : {}),
    ...(key.recipients?.length ? { recipients: key.recipients } : {}),
    ...(workFactor !== undefined ? { workFactor } : {}),
  };
}

/** The sources, listed up front so the total is known (their sizes are checked again as they stream). */
function collect(o: CellBackupOptions, database: ArchiveSource): ArchiveSource[] {
  const out: ArchiveSource[] = [database, ...treeSources(o.dataDir, 'data')];
  const env = o.env();
  if (env !== undefined) {
    const bytes = Buffer.from(env);
    out.push({
      path: 'env/.env',
      size: bytes.length,
      open: () => [bytes],
    });
  }
  // The rendered configs are informational (a restore renders them again): one this process may not
  // read is left out rather than failing the backup.
  if (o.configDir)
    out.push(...[...treeSources(o.configDir, 'config', /^$/)].filter((s) => readable(o.configDir!, s.path)));
  return out;
}

/** Names the phase as the sources go by: the database, then the files. */
function* phased(sources: ArchiveSource[], progress: ProgressFn, total: number): Generator<ArchiveSource> {
  let done = 0;
  for (const s of sources) {
    progress(s.path === 'db/cell.db' ? 'database' : 'files', done, total);
    yield s;
    done += s.size;
  }
}

function restoreHandle(
  o: CellBackupOptions,
  file: string,
  passphrase: string | undefined,
): Promise<RestoreHandle> {
  return openArchive(file, passphrase).then(
    (archive) => {
      let staging: string | undefined;
      return {
        async stage(progress) {
          staging = newStaging(o.dataDir);
          const size = statSync(file).size;
          let read = 0;
          const counted = archive.gzip.pipe(
            new Transform({
              transform(chunk: Buffer, _e, cb) {
                read += chunk.length;
                progress('unpacking', read, size);
                cb(null, chunk);
              },
            }),
          );
          archive.gzip.on('error', (err) => counted.destroy(err));
          try {
            const manifest = await unpack(
              { ...archive, gzip: counted },
              { staging, limits: o.limits, picVersion: o.picVersion },
            );
            progress('verifying', size, size);
            checkStagedDatabase(staging);
            return { manifest, env: stagedText(staging, 'env/.env') };
          } catch (err) {
            throw refused(err);
          } finally {
            await archive.close();
          }
        },
        async commit(progress) {
          if (!staging) throw new Error('stage() first');
          progress('vault', 0, null);
          // A database that cannot be copied in is refused here, before the journal commits to it.
          checkCopy(o.db, staging);
          o.onRestoreStep?.('before-journal');
          commitRestore(o.dataDir, staging, o.volumes !== undefined && hasStagedVolumes(staging));
          o.onRestoreStep?.('after-journal');
          progress('database_swap', 0, null);
          rollForward(o.dataDir, o.db, () => o.onRestoreStep?.('after-files'));
        },
        async restoreVolumes(progress, note) {
          if (!staging) throw new Error('stage() first');
          try {
            await restoreStagedVolumes(staging, o.volumes, progress, note, () =>
              o.onRestoreStep?.('during-volumes'),
            );
          } finally {
            // Done or failed (the job says which): not to be done again at the next start. A crash
            // never gets here: the journal stays, and the next start puts the volumes back.
            await finishVolumes(o.dataDir, staging);
          }
        },
        async discard() {
          await archive.close();
          if (staging) await removeStaging(staging);
        },
      };
    },
    (err: unknown) => {
      throw refused(err);
    },
  );
}

function refused(err: unknown): unknown {
  if (err instanceof ArchiveError)
    return new AppError('bad_request', err.message, {
      fields: [{ field: err.field, message: err.message }],
    });
  if (err instanceof RestoreRefused)
    return new AppError('bad_request', err.message, { fields: [{ field: 'archive', message: err.message }] });
  // Neither the archive's fault nor the passphrase's: this machine could not run scrypt's child.
  if (err instanceof ScryptChildError) return new AppError('unavailable', err.message);
  return err;
}
