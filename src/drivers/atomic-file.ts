// Every generated file is written atomically: a temp file in the same directory, fsync, rename over
// the target, fsync the directory. A crash leaves either the old file or the new one, never a torn
// one; a leftover temp file (crash between write and rename) is swept by sweepStaleTemps at start.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchownSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

const TEMP_MARK = '.pic-tmp-';

export interface WriteOptions {
  mode?: number;
  /** Given to this owner before the rename (root only): the file never appears with another owner. */
  owner?: { uid: number; gid: number };
}

export function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `${TEMP_MARK}${basename(path)}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(temp, 'wx', opts.mode ?? 0o644);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    if (opts.owner) fchownSync(fd, opts.owner.uid, opts.owner.gid);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(temp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (err) {
    unlinkSync(temp);
    throw err;
  }
  fsyncDir(dir);
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes temp files left by a crash between write and rename. Returns the paths removed. */
export function sweepStaleTemps(root: string): string[] {
  const removed: string[] = [];
  const walk = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && e.name.startsWith(TEMP_MARK)) {
        unlinkSync(full);
        removed.push(full);
      }
    }
  };
  walk(root);
  return removed;
}
