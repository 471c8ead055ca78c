// Where copies of scheduled backups go (a directory, an S3 bucket). Names are plain file names that
// the scheduler chose (backup files and its probe); a driver refuses any other. Errors carry a
// message fit for the owner's eyes: never a secret, never a signed URL.
import type { Readable } from 'node:stream';
import type { BackupTargetSpec } from '../../schema/backup-schedule.ts';

export interface TargetObject {
  name: string;
  size: number;
}

export interface BackupTarget {
  /** Stores exactly `size` bytes under `name`, whole or not at all (no partial object is left visible). */
  put(name: string, stream: Readable, size: number): Promise<void>;
  /** The objects under the target's directory or prefix (not below it). */
  list(): Promise<TargetObject[]>;
  /** Removes one object; one that is already gone is not an error. */
  remove(name: string): Promise<void>;
}

/**
 * Builds the driver for a stored target; `secret` is its secret access key (S3), read when needed;
 * `id` is the stored target's (inside the cell, a directory target is mounted under a path made of it).
 */
export type BackupTargetFactory = (
  spec: BackupTargetSpec,
  secret: string | undefined,
  id: number,
) => BackupTarget;
