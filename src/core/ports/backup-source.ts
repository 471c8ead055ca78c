// What the backup scheduler needs from the backup engine (ADR 0021's BackupService satisfies it as it
// is): start a backup, wait for it, list, read and remove archives. Declared here, narrow, so the
// scheduler is tested on an in-memory fake and never depends on how archives are made.
import type { Readable } from 'node:stream';
import type { BackupJob, BackupListItem } from '../../schema/backup.ts';

type Awaitable<T> = T | Promise<T>;

export interface BackupSource {
  /**
   * Starts a backup encrypted with the recipient or the passphrase (neither: plain). Throws an
   * AppError 'conflict' while another backup or restore runs.
   */
  create(opts: { passphrase?: string; recipient?: string; origin: 'schedule' }): Awaitable<{
    backup_id: string;
  }>;
  /** Resolves once the job is 'done' or 'failed'. */
  wait(id: string): Promise<BackupJob>;
  list(): Awaitable<BackupListItem[]>;
  /** The archive's bytes, its size and its file name. */
  open(id: string): Awaitable<{ stream: Readable; size: number; file?: string }>;
  remove(id: string): Awaitable<unknown>;
}
