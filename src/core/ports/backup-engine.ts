// What the backup use-case needs from the machine: the backups directory, an archive of the cell's
// state, and a restore that stages, verifies and then swaps (drivers/backup implements it).
import type { Readable } from 'node:stream';
import type { BackupHeader, BackupListItem, BackupManifest } from '../../schema/backup.ts';

export type ProgressFn = (phase: string, bytesDone: number, bytesTotal: number | null) => void;

/** Something the owner should know about a job that does not stop it (the job's notes). */
export type NoteFn = (text: string) => void;

export interface BackupKey {
  passphrase?: string;
  /** age recipients (age1…) for copies only their holder opens. */
  recipients?: string[];
}

export interface StagedRestore {
  manifest: BackupManifest;
  /** The .env the backup carries (undefined when it has none). */
  env: string | undefined;
}

export interface RestoreHandle {
  /** Unpacks into a fresh staging directory and verifies every file and the database. */
  stage(progress: ProgressFn): Promise<StagedRestore>;
  /**
   * Swaps the staged state in (journaled: finished even across a crash); the data directory's
   * entries first (the vault and every key), then the database rows; every session ends.
   */
  commit(progress: ProgressFn): Promise<void>;
  /**
   * After commit, before discard: the backup's service volumes into the installed services'
   * containers. A volume no installed service declares is a note, not an error; one that fails is
   * named in the error thrown once the others are in.
   */
  restoreVolumes(progress: ProgressFn, note: NoteFn): Promise<void>;
  /** Deletes the staging directory (after commit, or to abandon the restore). */
  discard(): Promise<void>;
}

/** What a start needs to report a job that a stop of its process interrupted. */
export interface RunningJob {
  backup_id: string;
  kind: 'backup' | 'restore';
  started_at: string;
  /** A restore past its commit: the cell is the backup's (the start finishes what is left). */
  committed?: boolean;
}

export interface BackupEnginePort {
  newId(now: Date): string;
  list(): BackupListItem[];
  get(id: string): BackupListItem | undefined;
  open(id: string): { stream: Readable; size: number; file: string } | undefined;
  remove(id: string): boolean;
  /** Stores an uploaded archive under a new id; throws AppError payload_too_large / bad_request. */
  upload(body: Readable, maxBytes: number, now: Date): Promise<string>;
  /**
   * Archives the cell's state now, the installed services' volumes last; the file appears only once
   * complete. What a volume holds that a backup cannot carry is a note.
   */
  write(
    id: string,
    header: BackupHeader,
    key: BackupKey,
    progress: ProgressFn,
    note?: NoteFn,
  ): Promise<BackupListItem>;
  /**
   * Opens a backup for restoring: checks the passphrase against an encrypted one first (a wrong or
   * missing one throws AppError naming `passphrase`, before anything is unpacked).
   */
  openRestore(id: string, passphrase: string | undefined): Promise<RestoreHandle>;
  /** The .env of this cell as it runs (undefined when this process cannot see it). */
  currentEnv(): string | undefined;
  /**
   * The lock that keeps one backup or restore at a time across processes (cell-api and the host's
   * `pic backup` / `pic restore`), or null when another process holds it. Released at the job's end;
   * the process's end releases it too.
   */
  lock?(): { release(): void } | null;
  /**
   * The running job, kept on disk while it runs (cleared when it ends): a start that finds it knows
   * the process was stopped mid-job (kill -9, a crash, the container killed) and reports it.
   */
  markJob?(job: RunningJob | undefined): void;
  /**
   * At start: a restore cut short in its volume step (a crash) puts the volumes back from the staging
   * directory its journal kept; resolves false when there was none.
   */
  resumeVolumes?(note: NoteFn): Promise<boolean>;
}
