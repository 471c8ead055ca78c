// One backup or restore at a time across processes: cell-api (or `pic serve`) and `pic backup` /
// `pic restore` on the host open the same data directory. The lock is SQLite's own write lock on a
// file of its own (data/api/backup.lock, empty, never written): `BEGIN IMMEDIATE` takes it without
// waiting, or fails at once when another connection holds it, in this process or another (POSIX
// advisory locks on the same file, seen through a bind mount from inside cell-api as well). The
// kernel drops it when its process ends, kill -9 included: no stale lock file, no lease to expire.

import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export const JOB_LOCK_FILE = 'backup.lock';

export interface HeldLock {
  release(): void;
}

/** The lock, or null when another job (here or in another process) holds it. */
export function tryJobLock(dataDir: string): HeldLock | null {
  const db = new DatabaseSync(join(dataDir, JOB_LOCK_FILE));
  try {
    db.exec('PRAGMA busy_timeout = 0');
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    db.close();
    if (/locked|busy/i.test((err as Error).message)) return null;
    throw err;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}
